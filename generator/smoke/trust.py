"""Where a card's checkpoint lives, and whether the upstream code may run.

Remote code (`trust_remote_code`, or an entry point in the upstream repository) runs only when the
card opts in and `external_repos/<repo.name>` is a git repository at the card's pinned commit with a
clean working tree. Python files in the checkpoint folder that git does not track (a hub download
carries its own modeling code) must be pinned by sha256 in `smoke_test.code_sha256`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.exceptions import MissingDependency, SmokeError, SmokeStage
from generator.io import sha256_file
from generator.layout import Layout
from generator.paths import files_inside
from generator.settings import Project

if TYPE_CHECKING:
    from generator.schema.model_card import ModelCard


def checkpoint_dir(project: Project, card: ModelCard) -> Path:
    """`external_repos/<repo.name>/checkpoints/<smoke_test.checkpoint>` (`Project.layout`), refusing
    anything that leaves it (a symbolic link of the clone included: `Layout.checked_checkpoint_dir`)."""
    assert card.smoke_test is not None
    name = card.smoke_test.checkpoint
    path, why = project.layout.checked_checkpoint_dir(card.repo.name, name)
    if why:
        raise SmokeError(
            f"card '{card.id}': smoke_test.checkpoint '{name}': {why} (a symlink?): put the checkpoint "
            "inside it"
        )
    if not path.exists():
        raise SmokeError(
            f"card '{card.id}': checkpoint folder {project.rel(path)} does not exist: run "
            f"kb checkpoints pull {card.id} (or place the checkpoint there by hand)"
        )
    _, links_out = files_inside(path, project.repo_dir(card.repo.name), root=project.root)
    if links_out:  # never hashed, never loaded: a link out of the clone would read any file
        raise SmokeError(
            f"card '{card.id}': the checkpoint links out of its clone: {'; '.join(links_out)}; replace "
            "the links with the files",
            SmokeStage.CHECKPOINT,
        )
    return path.resolve()


def upstream_commit(repo_dir: Path) -> str | None:
    """HEAD of the upstream repository, or None when it is not a git repository."""
    try:
        import git
    except ImportError:
        return None
    try:
        return str(git.Repo(repo_dir).head.commit.hexsha)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, ValueError):
        return None


def require_pinned_clean(project: Project, card: ModelCard, ckpt: Path, why: str) -> str:
    """Refuse (SmokeError naming the card) unless the upstream code is exactly what the card pins.

    Returns the verified commit."""
    prefix = f"card '{card.id}': refusing to run {why}"
    repo, head = _pinned_repo(project, card, prefix)
    repo_dir = project.repo_dir(card.repo.name)
    changed = sorted(
        {str(d.a_path) for d in repo.index.diff(None)} | {str(d.a_path) for d in repo.index.diff("HEAD")}
    )
    if changed:
        raise SmokeError(
            f"{prefix}: the working tree of {project.rel(repo_dir)} has uncommitted changes "
            f"({', '.join(changed[:5])}{'...' if len(changed) > 5 else ''}); discard or commit "
            "them, then review and pin the new commit",
            SmokeStage.REMOTE_CODE,
        )
    untracked = [u for u in repo.untracked_files if not u.startswith(f"{Layout.CHECKPOINTS}/")]
    if untracked:
        raise SmokeError(
            f"{prefix}: {project.rel(repo_dir)} has untracked files outside {Layout.CHECKPOINTS}/ "
            f"({', '.join(untracked[:5])}); remove them",
            SmokeStage.REMOTE_CODE,
        )
    _require_code_pinned(project, card, ckpt, prefix, untracked_code(repo, ckpt))
    return str(head)


def _pinned_repo(project: Project, card: ModelCard, prefix: str) -> tuple[Any, str]:
    """The upstream git repository and its HEAD, refusing unless HEAD is the card's pinned commit."""
    try:
        import git
    except ImportError as exc:
        raise MissingDependency("gitpython", "smoke", "checking the pinned upstream commit") from exc
    repo_dir = project.repo_dir(card.repo.name)

    def refuse(message: str) -> SmokeError:
        return SmokeError(f"{prefix}: {message}", SmokeStage.REMOTE_CODE)

    if not card.repo.commit:
        raise refuse("the card pins no repo.commit (a tag can move); add the 40-hex commit")
    try:
        repo = git.Repo(repo_dir)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise refuse(f"{project.rel(repo_dir)} is not a git repository; run kb repos sync") from None
    try:
        head = str(repo.head.commit.hexsha)
    except ValueError:
        raise refuse(f"{project.rel(repo_dir)} has no commits") from None
    if head != card.repo.commit:
        raise refuse(
            f"{project.rel(repo_dir)} is at {head[:12]}, not at the pinned commit "
            f"{card.repo.commit[:12]}; check out the pinned commit (kb repos sync) or update repo.commit "
            "after reviewing the code"
        )
    return repo, head


def untracked_code(repo: Any, ckpt: Path) -> dict[str, Path]:
    """Python files of the checkpoint folder that the upstream repository does not track, by path
    relative to the folder (a hub download brings its own modeling code)."""
    try:
        ckpt_rel: str | None = (
            ckpt.resolve().relative_to(Path(str(repo.working_tree_dir)).resolve()).as_posix()
        )
    except ValueError:
        ckpt_rel = None  # checkpoints/ links to storage outside the repository: nothing there is tracked
    # ls-files, not the untracked list: a .gitignore'd checkpoints/ folder hides its files from both.
    tracked = set(repo.git.ls_files("--", ckpt_rel).splitlines()) if ckpt_rel else set()
    out = {}
    for py in sorted(ckpt.rglob("*.py")):
        rel = py.relative_to(ckpt).as_posix()
        if f"{ckpt_rel}/{rel}" not in tracked:
            out[rel] = py
    return out


def code_digests(project: Project, card: ModelCard, ckpt: Path) -> dict[str, str]:
    """sha256 of every untracked Python file of the card's checkpoint (what `kb checkpoints pin` writes)."""
    prefix = f"card '{card.id}': cannot pin the checkpoint's code"
    repo, _ = _pinned_repo(project, card, prefix)
    return {rel: sha256_file(py) for rel, py in untracked_code(repo, ckpt).items()}


def _require_code_pinned(
    project: Project, card: ModelCard, ckpt: Path, prefix: str, code: dict[str, Path]
) -> None:
    """Every untracked code file pinned by sha256 on the card; one message names all that are not."""
    pins = card.smoke_test.code_sha256 if card.smoke_test else {}
    digests = {rel: sha256_file(py) for rel, py in code.items()}
    changed = [rel for rel, d in digests.items() if rel in pins and pins[rel] != d]
    if changed:
        shown = "; ".join(
            f"{project.rel(code[rel])} has sha256 {digests[rel]}, but the card pins {pins[rel]}"
            for rel in changed
        )
        raise SmokeError(f"{prefix}: {shown}; the code changed since it was reviewed", SmokeStage.REMOTE_CODE)
    unpinned = [rel for rel in digests if rel not in pins]
    if unpinned:
        files = ", ".join(project.rel(code[rel]) for rel in unpinned)
        verb, it = ("is", "it") if len(unpinned) == 1 else ("are", "them")
        yaml = ", ".join(f"{rel}: {digests[rel]}" for rel in unpinned)
        raise SmokeError(
            f"{prefix} (review the code, then `kb checkpoints pin {card.id}` pins every file): {files} "
            f"{verb} not tracked by the upstream repository and not pinned by the card; after reviewing "
            f"{it}, add to smoke_test.code_sha256: {{{yaml}}}",
            SmokeStage.REMOTE_CODE,
        )

"""Where a card's checkpoint lives, and whether the upstream code may run.

Remote code (`trust_remote_code`, or an entry point in the upstream repository) runs only when the
card opts in and `external_repos/<repo.name>` is a git repository at the card's pinned commit with a
clean working tree. Python files in the checkpoint folder that git does not track (a hub download
carries its own modeling code) must be pinned by sha256 in `smoke_test.code_sha256`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from generator.exceptions import MissingDependency, SmokeError
from generator.settings import Project

CHECKPOINTS = "checkpoints"


def checkpoint_dir(project: Project, card: Any) -> Path:
    """`external_repos/<repo.name>/checkpoints/<smoke_test.checkpoint>`, refusing anything that leaves it."""
    base = (project.repo_dir(card.repo.name) / CHECKPOINTS).resolve()
    path = (base / card.smoke_test.checkpoint).resolve()  # resolves symlinks too
    if path != base and base not in path.parents:
        raise SmokeError(
            f"card '{card.id}': smoke_test.checkpoint '{card.smoke_test.checkpoint}' resolves to "
            f"{path}, outside {project.rel(base)}/ (a symlink?): put the checkpoint inside it"
        )
    if not path.exists():
        raise SmokeError(
            f"card '{card.id}': checkpoint folder {project.rel(path)} does not exist: download "
            f"the checkpoint there (see the card's checkpoints section) or run kb repos sync"
        )
    return path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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


def require_pinned_clean(project: Project, card: Any, ckpt: Path, why: str) -> str:
    """Refuse (SmokeError naming the card) unless the upstream code is exactly what the card pins.

    Returns the verified commit."""
    try:
        import git
    except ImportError as exc:
        raise MissingDependency("gitpython", "smoke", "checking the pinned upstream commit") from exc
    repo_dir = project.repo_dir(card.repo.name)
    prefix = f"card '{card.id}': refusing to run {why}"
    if not card.repo.commit:
        raise SmokeError(f"{prefix}: the card pins no repo.commit (a tag can move); add the 40-hex commit")
    try:
        repo = git.Repo(repo_dir)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise SmokeError(
            f"{prefix}: {project.rel(repo_dir)} is not a git repository; run kb repos sync"
        ) from None
    try:
        head = repo.head.commit.hexsha
    except ValueError:
        raise SmokeError(f"{prefix}: {project.rel(repo_dir)} has no commits") from None
    if head != card.repo.commit:
        raise SmokeError(
            f"{prefix}: {project.rel(repo_dir)} is at {head[:12]}, not at the pinned commit "
            f"{card.repo.commit[:12]}; check out the pinned commit (kb repos sync) or update repo.commit "
            "after reviewing the code"
        )
    changed = sorted(
        {str(d.a_path) for d in repo.index.diff(None)} | {str(d.a_path) for d in repo.index.diff("HEAD")}
    )
    if changed:
        raise SmokeError(
            f"{prefix}: the working tree of {project.rel(repo_dir)} has uncommitted changes "
            f"({', '.join(changed[:5])}{'...' if len(changed) > 5 else ''}); discard or commit "
            "them, then review and pin the new commit"
        )
    try:
        ckpt_rel: str | None = (
            ckpt.resolve().relative_to(Path(str(repo.working_tree_dir)).resolve()).as_posix()
        )
    except ValueError:
        ckpt_rel = None  # checkpoints/ links to storage outside the repository: nothing there is tracked
    untracked = [u for u in repo.untracked_files if not u.startswith(f"{CHECKPOINTS}/")]
    if untracked:
        raise SmokeError(
            f"{prefix}: {project.rel(repo_dir)} has untracked files outside {CHECKPOINTS}/ "
            f"({', '.join(untracked[:5])}); remove them"
        )
    # Code inside the checkpoint folder: tracked at the pinned commit, or pinned by hash on the card.
    # (ls-files, not the untracked list: a .gitignore'd checkpoints/ folder hides its files from both.)
    tracked = set(repo.git.ls_files("--", ckpt_rel).splitlines()) if ckpt_rel else set()
    for py in sorted(ckpt.rglob("*.py")):
        rel = py.relative_to(ckpt).as_posix()
        if f"{ckpt_rel}/{rel}" in tracked:
            continue  # tracked, and clean (checked above)
        digest = sha256_file(py)
        pinned = card.smoke_test.code_sha256.get(rel)
        if pinned is None:
            raise SmokeError(
                f"{prefix}: {project.rel(py)} is not tracked by the upstream repository and "
                f"not pinned by the card; after reviewing it, add to smoke_test.code_sha256: "
                f"{{{rel}: {digest}}}"
            )
        if pinned != digest:
            raise SmokeError(
                f"{prefix}: {project.rel(py)} has sha256 {digest}, but the card pins {pinned}; "
                "the code changed since it was reviewed"
            )
    return str(head)

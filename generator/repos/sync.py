"""`kb repos sync`: clone or fetch each card's repository and check out its pinned commit, detached.

It never discards local work: uncommitted changes to tracked files, or commits that no remote branch
or tag holds, stop the sync of that repository with a message saying what to do. After the checkout,
each card's lock file is written from the pinned commit (see `lockfile`); a lock file written for
another pin is replaced only with `--update-citations`, which prints what changed.
"""

from __future__ import annotations

import contextlib
import difflib
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from generator.exceptions import RepoError
from generator.layout import Layout
from generator.repos import gitops, lockfile
from generator.repos.citations import citations_of, read_citation
from generator.repos.pins import PinError, RepoGroup, disagreements, pin_conflict, resolve_pin

if TYPE_CHECKING:
    from git import Repo as GitRepo

    from generator.knowledge import LoadedCard
    from generator.schema.model_card import ModelCard
    from generator.settings import Project

Echo = Callable[[str], None]

IGNORED_IN_CLONE = f"/{Layout.CHECKPOINTS}/\n"
"""Checkpoints live inside the clone (external_repos/<repo>/checkpoints) but are not upstream code."""


@dataclass(frozen=True)
class SyncResult:
    """The outcome for one repository."""

    name: str
    ok: bool
    message: str
    commit: str | None = None


def sync_group(
    project: Project,
    group: RepoGroup,
    update_citations: bool,
    echo: Echo,
    mirrors: dict[str, str] | None = None,
) -> SyncResult:
    """Sync one repository for all the cards that share it; never raises for a repository problem: any
    failure of git (GitPython's refusals of an unsafe URL or option included) is this repository's, and
    the others still sync. `mirrors`: the trusted `repo_mirrors` setting (`generator.trusted`)."""
    from git import GitError

    try:
        commit, notes_ok = _sync(project, group, update_citations, echo, mirrors or {})
    except (RepoError, PinError) as exc:
        return SyncResult(group.name, False, str(exc))
    except (GitError, OSError, ValueError) as exc:
        return SyncResult(
            group.name, False, f"git failed: {type(exc).__name__}: {gitops.git_error_text(exc)}"
        )
    if not notes_ok:
        return SyncResult(
            group.name,
            False,
            "some citations could not be read at the pin: fix their "
            "`path` or `lines` (see `kb check citations`), then sync again",
            commit,
        )
    return SyncResult(group.name, True, "", commit)


def _sync(
    project: Project, group: RepoGroup, update_citations: bool, echo: Echo, mirrors: dict[str, str]
) -> tuple[str, bool]:
    problems = disagreements(group)
    if problems:
        raise RepoError("; ".join(problems))
    target, escape = project.layout.checked_repo_dir(group.name)
    if escape:
        raise RepoError(f"{escape}: clones live inside it (a committed symbolic link?); remove it")
    where = project.rel(target)
    url = gitops.clone_url(group.repo.url, project.root, mirrors)
    source = group.repo.url if url == group.repo.url else f"{group.repo.url} (from the mirror {url})"
    git_repo = gitops.open_repo(target)
    fresh = git_repo is None
    if git_repo is None and target.exists() and any(target.iterdir()):
        raise RepoError(
            f"{where} exists but is not a git clone: move it away or delete it, "
            "then run `kb repos sync` again"
        )
    if git_repo is None:
        echo(f"{group.name}: cloning {source} into {where}")
        git_repo = _clone(url, target)
    else:
        echo(f"{group.name}: fetching {source}")
        _refuse_if_dirty(git_repo, where)
        _check_origin(git_repo, group, where, project.root, url)
        _fetch(git_repo, group.repo.url)
    with git_repo:
        commit = _resolve_all(git_repo, group)
        _refuse_local_commits(git_repo, where, (commit, *_locked_commits(group)))
        before = None if fresh else gitops.head_commit(git_repo)
        _checkout(git_repo, commit, where, fresh)
        label = _pin_label(git_repo, group, commit)
        date = gitops.commit_date(git_repo, commit)
        moved = "already at" if before == commit else "checked out"
        echo(
            f"{group.name}: {moved} {label}, committed {date.date().isoformat()} "
            f"(cards: {', '.join(group.ids)})"
        )
        ok = True
        for loaded in group.cards:
            ok &= _update_lock(git_repo, loaded, commit, date.isoformat(), update_citations, echo)
    return commit, ok


def _clone(url: str, target: Path) -> GitRepo:
    """Clone into a temporary folder beside the target, then rename: a failed clone leaves nothing."""
    from git import GitError, Repo

    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.rmdir()  # empty (checked by the caller)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.partial-"))
    try:
        Repo.clone_from(url, tmp, no_checkout=True).close()
        tmp.rename(target)
    except GitError as exc:  # GitCommandError, and GitPython's refusal of an unsafe URL or option
        shutil.rmtree(tmp, ignore_errors=True)
        raise RepoError(f"cannot clone {url}: {gitops.git_error_text(exc)}") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    repo = Repo(target)
    exclude = Path(repo.git_dir) / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    with exclude.open("a", encoding="utf-8") as fh:
        fh.write(IGNORED_IN_CLONE)
    return repo


def _refuse_if_dirty(git_repo: GitRepo, where: str) -> None:
    if not gitops.is_dirty(git_repo):
        return
    files = gitops.changed_files(git_repo)
    shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
    raise RepoError(
        f"{where} has uncommitted changes ({shown}): commit and push them, or move the "
        "folder away, or delete it, then run `kb repos sync` again (nothing was changed)"
    )


def _check_origin(git_repo: GitRepo, group: RepoGroup, where: str, root: Path, url: str) -> None:
    """The clone's origin is where this sync clones from (`url`: the forge, or its trusted mirror)."""
    origin = gitops.remote_url(git_repo)
    if origin is None:
        raise RepoError(
            f"{where} has no remote 'origin': add it with `git -C {where} remote add origin {url}`, or "
            "delete the folder"
        )
    if gitops.normalise_url(origin, root) != gitops.normalise_url(url, root):
        said = group.repo.url if url == group.repo.url else f"{group.repo.url} (mirrored at {url})"
        raise RepoError(
            f"{where} was cloned from {origin}, but {group.cards[0].rel} says {said}: "
            f"run `git -C {where} remote set-url origin {url}`, or delete the folder"
        )


def _fetch(git_repo: GitRepo, url: str) -> None:
    from git import GitCommandError

    try:
        # --force: a tag moved upstream is taken as upstream has it; the pin check then says so.
        git_repo.git.fetch("--tags", "--force", "origin")
    except GitCommandError as exc:
        raise RepoError(f"cannot fetch {url}: {gitops.git_error_text(exc)}") from exc


def _resolve_all(git_repo: GitRepo, group: RepoGroup) -> str:
    """The one commit all cards of the group pin (fetching it by hash when no ref holds it)."""
    from git import GitCommandError

    for loaded in group.cards:
        sha = loaded.card.repo.commit
        if sha and not gitops.has_commit(git_repo, sha):
            # A commit no branch or tag holds (e.g. from a pull request) may still be fetchable.
            with contextlib.suppress(GitCommandError):
                git_repo.git.fetch("origin", sha)
    resolved = [(loaded, resolve_pin(git_repo, loaded)) for loaded in group.cards]
    first, commit = resolved[0]
    for other, sha in resolved[1:]:
        if sha != commit:
            raise PinError(pin_conflict(group.name, first, commit, other, sha))
    return commit


def _locked_commits(group: RepoGroup) -> list[str]:
    """Pins recorded by earlier syncs (in the lock files): they came from upstream, not local work."""
    locks = (c.lock for c in group.cards)
    return [lock.commit for lock in locks if lock is not None]


def _refuse_local_commits(git_repo: GitRepo, where: str, known: tuple[str, ...]) -> None:
    # A pin may be held by no ref (fetched by hash, or dropped upstream by a force-push): not local work.
    local = gitops.local_commits(git_repo, known)
    if not local:
        return
    shown = "; ".join(local[:3]) + (f"; and {len(local) - 3} more" if len(local) > 3 else "")
    raise RepoError(
        f"{where} has {len(local)} local commit(s) that no remote branch holds ({shown}): "
        "push them, or move the folder away, or delete it, then run `kb repos sync` again "
        "(nothing was changed)"
    )


def _checkout(git_repo: GitRepo, commit: str, where: str, fresh: bool) -> None:
    from git import GitCommandError

    # A clone made with --no-checkout has an empty index: only --force fills the working tree when
    # HEAD already names the pin. Nobody's work can be in a clone made a moment ago.
    force = ("--force",) if fresh else ()
    try:
        git_repo.git.checkout("--detach", "--quiet", *force, commit)
    except GitCommandError as exc:
        raise RepoError(
            f"cannot check out {commit[:7]} in {where}: {gitops.git_error_text(exc)} "
            "(move the files it names away, then run `kb repos sync` again)"
        ) from exc


def _pin_label(git_repo: GitRepo, group: RepoGroup, commit: str) -> str:
    tag = group.repo.tag
    if tag is None:
        at = gitops.tags_at(git_repo, commit)
        return f"{commit[:7]} ({at[-1]})" if at else commit[:7]
    tagged = gitops.resolve(git_repo, tag)
    if tagged and tagged != commit:
        return f"{commit[:7]} ({tag} + {gitops.commits_between(git_repo, tagged, commit)} commits)"
    return f"{commit[:7]} ({tag})"


def _update_lock(
    git_repo: GitRepo,
    loaded: LoadedCard[ModelCard],
    commit: str,
    committed: str,
    update_citations: bool,
    echo: Echo,
) -> bool:
    """Write the card's lock file from the pinned commit; False when a citation could not be read."""
    repo = loaded.card.repo
    lock_rel = str(Layout.lock_file(Path(loaded.rel)))
    old = loaded.lock
    if old is not None and old.commit != commit and not update_citations:
        echo(
            f"  {lock_rel}: kept: it holds the snippets of {old.commit[:7]}, the card pins {commit[:7]}; "
            f"review the changes with `kb repos sync {loaded.id} --update-citations`"
        )
        return True
    entries, ok = [], True
    for i, cite in citations_of(loaded.card):
        found = read_citation(git_repo, commit, cite)
        if found.entry is None:
            reason = (
                "does not exist"
                if found.lines is None
                else (f"has {len(found.lines or [])} lines, fewer than {cite.lines[1]}")
            )
            echo(
                f"  {loaded.rel}: walkthrough[{i}].cite: {cite.path} {reason} at {commit[:7]} "
                "(see `kb check citations`)"
            )
            ok = not update_citations
            continue
        entries.append(found.entry)
    checkpoints = lockfile.checkpoint_records(lockfile.read_lock_data(loaded.path))  # kb checkpoints pull's
    new = lockfile.Lock(repo.name, repo.url, commit, repo.tag, committed, entries, checkpoints)
    written = lockfile.write_lock(loaded.path, new, loaded.id)
    if old is not None and old.commit != commit:
        echo(f"  {lock_rel}: updated from {old.commit[:7]} to {commit[:7]}")
        for line in snippet_changes(old, new):
            echo(line)
    elif written:
        echo(f"  {lock_rel}: wrote {len(entries)} citation(s)")
    return ok


def snippet_changes(old: lockfile.Lock, new: lockfile.Lock) -> list[str]:
    """What changed between two lock files: an indented line per citation, and after each changed one
    a unified diff of its snippet (not indented, so that it can be piped to a diff viewer).

    Citations are paired by path in order, so that one whose line range was corrected alongside the
    pin still shows as a change of the same citation.
    """
    out: list[str] = []
    remaining = list(old.citations)
    for entry in new.citations:
        before = next(
            (e for e in remaining if e.path == entry.path and e.lines == entry.lines), None
        ) or next((e for e in remaining if e.path == entry.path), None)
        span = f"{entry.path}:{entry.lines[0]}-{entry.lines[1]}"
        if before is None:
            out.append(f"    {span}: new citation")
            continue
        remaining.remove(before)
        if before.snippet == entry.snippet:
            out.append(f"    {span}: unchanged")
            continue
        out.append(f"    {span}: changed")
        out.extend(
            line.rstrip("\n")
            for line in difflib.unified_diff(
                before.snippet.splitlines(keepends=True),
                entry.snippet.splitlines(keepends=True),
                f"{before.path}:{before.lines[0]}-{before.lines[1]} @ {old.commit[:7]}",
                f"{span} @ {new.commit[:7]}",
            )
        )
    out.extend(f"    {e.path}:{e.lines[0]}-{e.lines[1]}: no longer cited" for e in remaining)
    return out


def select_groups(groups: dict[str, RepoGroup], ids: Sequence[str]) -> dict[str, RepoGroup]:
    """The groups holding the cards named by `ids` (all groups when none is named)."""
    if not ids:
        return groups
    wanted = set(ids)
    return {name: g for name, g in groups.items() if wanted & set(g.ids)}

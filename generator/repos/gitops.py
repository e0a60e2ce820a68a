"""Small git operations on a clone under `external_repos/`, through gitpython.

Everything that reads upstream code reads it from git's object database at a commit, never from the
working tree, so a clone checked out elsewhere (or edited by hand) still gives the pinned content.
`git` is imported inside the functions: `kb validate` must not pay for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from git import Repo as GitRepo

LICENSE_NAME = re.compile(r"^(LICEN[CS]E|COPYING)([.\-_].*)?$", re.IGNORECASE)
"""Top-level files that state a repository's license: LICENSE, LICENSE.md, COPYING, LICENCE-MIT..."""


def open_repo(path: Path) -> GitRepo | None:
    """The git repository whose top level is `path`, or None when there is none (not synced)."""
    from git import InvalidGitRepositoryError, NoSuchPathError, Repo

    if not path.is_dir():
        return None
    try:
        repo = Repo(path)
    except (InvalidGitRepositoryError, NoSuchPathError):
        return None
    # A folder inside some other repository (the knowledge base itself) is not a clone.
    if repo.working_tree_dir is None or Path(repo.working_tree_dir).resolve() != path.resolve():
        return None
    return repo


def resolve(repo: GitRepo, ref: str) -> str | None:
    """The commit a pin names, or None when git lacks it: a full sha, or a tag (annotated or not),
    looked up among the tags only. A branch, `HEAD` or any other revision expression is not a pin (it
    moves) and resolves to None."""
    from git import BadName

    candidate = f"{ref}^{{commit}}" if re.fullmatch(r"[0-9a-f]{40}", ref) else f"refs/tags/{ref}^{{commit}}"
    try:
        return str(repo.rev_parse(candidate).hexsha)
    except (BadName, ValueError, IndexError):
        return None


def has_commit(repo: GitRepo, sha: str) -> bool:
    return resolve(repo, sha) == sha


def read_file(repo: GitRepo, commit: str, path: str) -> bytes | None:
    """The content of `path` at `commit` (None when the file does not exist there)."""
    from git import GitCommandError

    tree = repo.commit(commit).tree
    try:
        blob = tree / path
    except KeyError:
        return None
    if blob.type != "blob":
        return None
    try:
        return bytes(blob.data_stream.read())
    except (GitCommandError, ValueError):
        return None


def files_named(repo: GitRepo, commit: str, name: str) -> list[str]:
    """Paths of every file called `name` anywhere in the tree at `commit` (to spot a moved file)."""
    out = []
    for item in repo.commit(commit).tree.traverse():
        item_any: Any = item
        if item_any.type == "blob" and PurePosixPath(item_any.path).name == name:
            out.append(str(item_any.path))
    return sorted(out)


def license_files(repo: GitRepo, commit: str) -> list[str]:
    """Top-level LICENSE*, LICENCE* and COPYING* files at `commit`."""
    return sorted(str(b.path) for b in repo.commit(commit).tree.blobs if LICENSE_NAME.match(b.name))


def commit_date(repo: GitRepo, sha: str) -> datetime:
    """When the commit was made (committer date), in UTC."""
    return datetime.fromtimestamp(repo.commit(sha).committed_date, tz=timezone.utc)


def is_ancestor(repo: GitRepo, ancestor: str, descendant: str) -> bool:
    """True when `ancestor` is `descendant` or one of its ancestors."""
    # gitpython's stubs ask for Commit objects; git itself takes any revision.
    return ancestor == descendant or bool(repo.is_ancestor(ancestor, descendant))  # type: ignore[arg-type]  # see above


def commits_between(repo: GitRepo, ancestor: str, descendant: str) -> int:
    """How many commits `descendant` is ahead of `ancestor`."""
    return int(repo.git.rev_list("--count", f"{ancestor}..{descendant}"))


@dataclass(frozen=True)
class Tag:
    """A tag of the clone, with the commit it points at and that commit's date."""

    name: str
    commit: str
    date: datetime


def tags(repo: GitRepo) -> list[Tag]:
    """Every tag of the clone, oldest commit first (ties broken by version-aware name order)."""
    out = []
    for ref in repo.tags:
        try:
            commit = ref.commit
        except ValueError:  # a tag of a tree or blob: not a release
            continue
        out.append(
            Tag(ref.name, commit.hexsha, datetime.fromtimestamp(commit.committed_date, tz=timezone.utc))
        )
    return sorted(out, key=lambda t: (t.date, _version_key(t.name)))


def tags_at(repo: GitRepo, sha: str) -> list[str]:
    return [t.name for t in tags(repo) if t.commit == sha]


def _version_key(name: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", name) if p)


def head_commit(repo: GitRepo) -> str | None:
    try:
        return str(repo.head.commit.hexsha)
    except ValueError:  # a fresh clone without checkout, or an empty repository
        return None


def is_dirty(repo: GitRepo) -> bool:
    """Uncommitted changes to tracked files (untracked files such as checkpoints/ do not count)."""
    return bool(repo.is_dirty(index=True, working_tree=True, untracked_files=False))


def changed_files(repo: GitRepo) -> list[str]:
    """Tracked files with uncommitted changes (staged or not)."""
    out = {d.a_path or d.b_path for d in repo.index.diff(None)}
    if head_commit(repo):
        out |= {d.a_path or d.b_path for d in repo.index.diff("HEAD")}
    return sorted(p for p in out if p)


def local_commits(repo: GitRepo, known: tuple[str, ...] = ()) -> list[str]:
    """Commits on HEAD or a local branch that no remote branch or tag holds: work a checkout could strand.

    `known` are commits this tool put there (pins, present or past) and their history: not local work
    even when upstream no longer holds them. One line per commit, `<short sha> <subject>`, newest first.
    """
    if head_commit(repo) is None:
        return []
    known = tuple(sha for sha in known if has_commit(repo, sha))
    shas = repo.git.rev_list("HEAD", "--branches", "--not", "--remotes", "--tags", *known).split()
    return [f"{s[:7]} {_text(repo.commit(s).summary)}" for s in shas]


def _text(value: str | bytes) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def remote_url(repo: GitRepo) -> str | None:
    try:
        return str(repo.remotes.origin.url)
    except (AttributeError, IndexError):
        return None


def normalise_url(url: str, base: Path) -> str:
    """A comparable form of a git URL: local paths absolute, no trailing `/` or `.git`."""
    if url.startswith("file://"):
        url = url.removeprefix("file://")
    if "://" not in url and not re.match(r"[^/]+@[^/]+:", url):
        path = Path(url).expanduser()
        url = str((path if path.is_absolute() else base / path).resolve())
    return url.rstrip("/").removesuffix(".git").rstrip("/")


def clone_url(url: str, base: Path, mirrors: dict[str, str] | None = None) -> str:
    """The URL to hand to git for a card's forge URL: the forge itself, or where the `repo_mirrors`
    setting (trusted, never a card's) says to clone it from, by the longest matching prefix. A relative
    local mirror is taken relative to the project folder."""
    for prefix in sorted(mirrors or {}, key=len, reverse=True):
        if url.startswith(prefix):
            url = (mirrors or {})[prefix] + url[len(prefix) :]
            break
    else:
        return url
    if "://" in url or re.match(r"[^/]+@[^/]+:", url):
        return url
    path = Path(url).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


def git_error_text(exc: Exception) -> str:
    """The useful line of a git failure (its stderr, without gitpython's framing)."""
    stderr = str(getattr(exc, "stderr", "") or "").strip()
    lines = [ln.strip().removeprefix("stderr:").strip(" '") for ln in stderr.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("hint:")]
    fatal = [ln for ln in lines if ln.startswith(("fatal:", "error:"))]
    return (fatal or lines or [str(exc)])[-1]

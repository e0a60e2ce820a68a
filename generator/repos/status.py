"""`kb repos status`: per repository, whether it is synced, at its pin, clean, behind its newest tag
(drift), and which license file it carries. Read-only unless asked to fetch tags.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from generator.repos import gitops
from generator.repos.pins import PinError, RepoGroup, group_by_repo, resolve_pin

if TYPE_CHECKING:
    from git import Repo as GitRepo

    from generator.knowledge import KnowledgeBase, LoadedCard
    from generator.schema.model_card import ModelCard
    from generator.settings import Project


@dataclass
class RepoStatus:
    """The state of one clone under `external_repos/` against its cards' pin."""

    name: str
    path: str
    """Project-relative folder (`external_repos/<name>`)."""
    url: str
    cards: list[str]
    pinned_commit: str | None
    """The pinned commit, resolved from the tag when the card gives only a tag (None when unknown)."""
    pinned_tag: str | None
    present: bool = False
    """The folder is a git clone."""
    head: str | None = None
    at_pin: bool = False
    dirty: bool = False
    """Uncommitted changes to tracked files."""
    newest_tag: str | None = None
    """The newest tag in the clone (by commit date), from the last fetch."""
    newest_tag_date: str | None = None
    drift: bool | None = None
    """True when the newest tag is not at or before the pin; None when unknown (not synced)."""
    license_file: str | None = None
    """LICENSE*, LICENCE* or COPYING* at the top of the tree at the pin."""
    problems: list[str] = field(default_factory=list)

    @property
    def trusted(self) -> bool:
        """Synced, at the pin and clean: safe to import its code (`trust_remote_code`)."""
        return self.present and self.at_pin and not self.dirty

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "trusted": self.trusted}


def repo_status(project: Project, loaded: LoadedCard[ModelCard], fetch: bool = False) -> RepoStatus:
    """The status of the repository a model card pins."""
    return group_status(project, RepoGroup(loaded.card.repo.name, [loaded]), fetch)


def all_statuses(project: Project, kb: KnowledgeBase, fetch: bool = False) -> list[RepoStatus]:
    return [group_status(project, g, fetch) for g in group_by_repo(kb).values()]


def group_status(project: Project, group: RepoGroup, fetch: bool = False) -> RepoStatus:
    repo = group.repo
    target = project.repo_dir(group.name)
    status = RepoStatus(group.name, project.rel(target), repo.url, group.ids, repo.commit, repo.tag)
    git_repo = gitops.open_repo(target)
    if git_repo is None:
        return status
    with git_repo:
        status.present = True
        if fetch:
            _fetch_tags(git_repo, status)
        _fill(git_repo, group, status)
    return status


def _fetch_tags(git_repo: GitRepo, status: RepoStatus) -> None:
    from git import GitCommandError

    try:
        git_repo.git.fetch("--tags", "--force", "origin")
    except GitCommandError as exc:
        status.problems.append(f"cannot fetch: {gitops.git_error_text(exc)}")


def _fill(git_repo: GitRepo, group: RepoGroup, status: RepoStatus) -> None:
    status.head = gitops.head_commit(git_repo)
    status.dirty = gitops.is_dirty(git_repo)
    pinned = None
    try:
        resolved = {resolve_pin(git_repo, c) for c in group.cards}
        if len(resolved) == 1:
            pinned = resolved.pop()
        else:
            shas = ", ".join(sorted(s[:7] for s in resolved))
            status.problems.append(f"the cards pin different commits: {shas}")
    except PinError as exc:
        status.problems.append(str(exc))
    status.pinned_commit = pinned or status.pinned_commit
    status.at_pin = pinned is not None and status.head == pinned
    if pinned is not None and status.pinned_tag is None:
        at = gitops.tags_at(git_repo, pinned)
        status.pinned_tag = at[-1] if at else None
    all_tags = gitops.tags(git_repo)
    if all_tags:
        newest = all_tags[-1]
        status.newest_tag, status.newest_tag_date = newest.name, newest.date.date().isoformat()
        if pinned is not None:
            status.drift = not gitops.is_ancestor(git_repo, newest.commit, pinned)
    elif pinned is not None:
        status.drift = False
    if pinned is not None:
        found = gitops.license_files(git_repo, pinned)
        status.license_file = f"{status.path}/{found[0]}" if found else None


def format_table(statuses: list[RepoStatus]) -> str:
    """A plain-text table, one row per repository, and a line per problem under it."""
    header = ("REPOSITORY", "CARDS", "SYNCED", "AT PIN", "DIRTY", "PINNED", "NEWEST TAG", "LICENSE FILE")
    rows = [header]
    notes: list[str] = []
    for s in statuses:
        pinned = (s.pinned_commit or "")[:7]
        if s.pinned_tag:
            pinned = f"{pinned} ({s.pinned_tag})" if pinned else s.pinned_tag
        newest = "-"
        if s.newest_tag:
            newest = s.newest_tag + (" (drift)" if s.drift else "")
        cards = s.cards[0] + (f" +{len(s.cards) - 1}" if len(s.cards) > 1 else "")
        rows.append(
            (
                s.name,
                cards,
                _yes(s.present),
                _yes(s.at_pin) if s.present else "-",
                _yes(s.dirty) if s.present else "-",
                pinned or "-",
                newest if s.present else "-",
                (s.license_file or "none") if s.present else "-",
            )
        )
        if s.present and s.drift:
            notes.append(
                f"{s.name}: a newer tag {s.newest_tag} ({s.newest_tag_date}) exists upstream; "
                f"the cards pin {pinned}"
            )
        notes.extend(f"{s.name}: {p}" for p in s.problems)
    missing = [s for s in statuses if not s.present]
    if missing:
        ids = " ".join(s.cards[0] for s in missing)
        notes.append(
            f"not synced: {', '.join(s.name for s in missing)}: run `kb repos sync` "
            f"(or `kb repos sync {ids}`)"
            if len(missing) < len(statuses)
            else f"not synced: {', '.join(s.name for s in missing)}: run `kb repos sync`"
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines + notes) + "\n"


def _yes(value: bool) -> str:
    return "yes" if value else "no"

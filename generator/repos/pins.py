"""Pins: which cards share which repository, what commit each pins, and the "pinned at" line.

Several cards may share one clone (Caduceus PH and PS share `external_repos/caduceus`); they must
agree on the URL and the commit, since one folder can be checked out at one commit only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from generator.schema.card import Card, HasRepo
from generator.schema.labels import web_url
from generator.schema.model_card import ModelCard, Repo

if TYPE_CHECKING:
    from git import Repo as GitRepo

    from generator.knowledge import KnowledgeBase, LoadedCard
    from generator.settings import Project


@dataclass
class RepoGroup:
    """The model cards that use one folder under `external_repos/`."""

    name: str
    cards: list[LoadedCard[ModelCard]] = field(default_factory=list)

    @property
    def repo(self) -> Repo:
        """The first card's `repo` section (the others must agree with it)."""
        card = self.cards[0].card
        return card.repo

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.cards]


def group_by_repo(kb: KnowledgeBase) -> dict[str, RepoGroup]:
    """Model cards by `repo.name`, in name order."""
    groups: dict[str, RepoGroup] = {}
    for loaded in kb.models:
        name = loaded.card.repo.name
        groups.setdefault(name, RepoGroup(name)).cards.append(loaded)
    return dict(sorted(groups.items()))


def disagreements(group: RepoGroup) -> list[str]:
    """Why the cards of a group cannot share one clone (different URLs or different commits)."""
    out = []
    first = group.cards[0]
    for other in group.cards[1:]:
        a, b = first.card.repo, other.card.repo
        if a.url.rstrip("/").removesuffix(".git") != b.url.rstrip("/").removesuffix(".git"):
            out.append(
                f"{first.rel} clones {a.url} but {other.rel} clones {b.url} into the same folder "
                f"external_repos/{group.name}: use one URL, or give one of them another repo.name"
            )
        elif a.commit and b.commit and a.commit != b.commit:
            out.append(pin_conflict(group.name, first, a.commit, other, b.commit))
    return out


def pin_conflict(
    name: str, first: LoadedCard[ModelCard], a: str, other: LoadedCard[ModelCard], b: str
) -> str:
    return (
        f"{first.rel} pins {a[:7]} but {other.rel} pins {b[:7]} in the same repository "
        f"'{name}': pin the same commit, or give one of them another repo.name"
    )


class PinError(Exception):
    """A card's pin cannot be resolved in its clone (the message names the card and the fix)."""


def resolve_pin(git_repo: GitRepo, loaded: LoadedCard[ModelCard]) -> str:
    """The commit a card pins, resolved in its clone: the commit, or the commit its tag points at.

    With both given, the tag must be at the commit or before it (`tag` is documented as the release
    at or nearest before the pin); a tag elsewhere is an error naming the card.
    """
    from generator.repos import gitops

    repo: Repo = loaded.card.repo
    tagged = gitops.resolve(git_repo, repo.tag) if repo.tag else None
    if repo.tag and tagged is None:
        raise PinError(
            f"{loaded.rel}: tag '{repo.tag}' does not exist in {repo.url} (only tags are looked up: a "
            "branch or HEAD moves): fix repo.tag, or pin repo.commit (git ls-remote --tags <url> lists "
            "the tags)"
        )
    lock = loaded.lock
    if not repo.commit and tagged and lock and lock.tag == repo.tag and lock.commit != tagged:
        # A tag-only pin is the commit the tag named when it was first synced (kept in the lock file).
        raise PinError(
            f"{loaded.rel}: tag '{repo.tag}' now points at {tagged[:7]}, but it pointed at "
            f"{lock.commit[:7]} when the card was synced: the tag moved upstream; review the change, then "
            f"pin the commit you reviewed with repo.commit: {tagged}"
        )
    if repo.commit:
        if not gitops.has_commit(git_repo, repo.commit):
            raise PinError(
                f"{loaded.rel}: commit {repo.commit} is not in {repo.url}: "
                "fix repo.commit (was the commit rebased away upstream?)"
            )
        if tagged and not gitops.is_ancestor(git_repo, tagged, repo.commit):
            raise PinError(
                f"{loaded.rel}: tag '{repo.tag}' is at {tagged[:7]}, which is not the pinned "
                f"commit {repo.commit[:7]} nor one of its ancestors: fix repo.tag or repo.commit"
            )
        return repo.commit
    assert tagged is not None
    return tagged


@dataclass(frozen=True)
class PinInfo:
    """What a page and a PDF say about the pin: "pinned at 0123abc (v1.0), 2024-03-01"."""

    commit: str | None
    """The full commit, when the card or its lock file knows it."""
    short: str
    """Seven hex digits of the commit, or the tag when the commit is unknown."""
    tag: str | None
    date: str | None
    """Commit date (YYYY-MM-DD), known once the repository was synced (kept in the lock file)."""
    url: str | None
    """The pinned tree on the forge, for http(s) repositories."""

    @property
    def label(self) -> str:
        text = f"pinned at {self.short}"
        if self.tag and self.tag != self.short:
            text += f" ({self.tag})"
        if self.date:
            text += f", {self.date}"
        return text


def pin_info(project: Project, loaded: LoadedCard[Card]) -> PinInfo:
    """The pin of a card with a repository (`HasRepo`), with its commit date from the lock file (or the
    clone, when synced)."""
    from generator.repos import gitops

    card = loaded.card
    assert isinstance(card, HasRepo), f"{loaded.rel} has no repository"
    repo: Repo = card.repo
    commit, date = repo.commit, None
    lock = loaded.lock
    if lock is not None and (lock.commit == repo.commit or (not repo.commit and lock.tag == repo.tag)):
        commit, date = lock.commit, (lock.committed or "")[:10] or None
    if date is None:
        git_repo = gitops.open_repo(project.repo_dir(repo.name))
        if git_repo is not None:
            with git_repo:
                resolved = gitops.resolve(git_repo, commit or str(repo.tag))
                if resolved is not None:
                    commit, date = resolved, gitops.commit_date(git_repo, resolved).date().isoformat()
    base = web_url(repo)
    ref = commit or repo.tag
    url = f"{base}/tree/{ref}" if base and ref else None
    return PinInfo(commit, commit[:7] if commit else str(repo.tag), repo.tag, date, url)

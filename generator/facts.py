"""Each card's facts, computed once per build: what its page, its PDF and the checks show about it.

`build_facts(project, kb)` makes one frozen, picklable `CardFacts` per card: the license label and
note, the pin, the code citations, the related cards, the smoke status, and where its page and PDF
live. Pages and PDFs read them instead of working them out again, and a PDF's cache key hashes them
(`CardFacts.digest`), so a fact that changes re-renders exactly the PDFs that show it.

Facts are derived by feature (`isinstance(card, HasRepo)`), not by kind, so a new card kind gets
every fact its features give.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from generator import forge
from generator.knowledge import KnowledgeBase, LoadedCard, narrow
from generator.layout import card_file_path, page_path
from generator.policy import flagged_licenses
from generator.problems import Problem, Severity
from generator.repos.citations import NOT_AT_PIN_NOTE, CitationView, citation_view, pinned_code
from generator.repos.pins import pin_info
from generator.schema import CARD_KINDS, Card, DatasetCard, ModelCard
from generator.schema.card import HasLicense, HasRepo, HasSmokeTest, HasWalkthrough
from generator.schema.labels import (
    commit_url,
    family_label,
    license_label,
    license_note,
    license_words,
    modality_label,
    pdf_name,
    pin_label,
    web_url,
)
from generator.settings import Project
from generator.signing import AllowedSigners
from generator.smoke.status import SmokeStatus, project_status
from generator.trusted import trusted


@dataclass(frozen=True)
class RelatedCard:
    """A card related to another (either direction)."""

    kind: str
    kind_title: str
    id: str
    name: str
    rel: str
    """The related card's file, relative to the project (`kb/datasets/hg38.yaml`)."""
    page: str
    """Its page, relative to docs_dir."""


@dataclass(frozen=True)
class RepoFacts:
    """The upstream repository of a card, as its page and PDF show it."""

    name: str
    url: str
    web_url: str | None
    """The browsable http(s) URL; None for a local or ssh URL."""
    commit_url: str | None
    pin_label: str
    """`0123abc (v1.0)`."""
    pinned: str
    """`pinned at 0123abc (v1.0), 2024-03-01` (the date once the repository was synced)."""


@dataclass(frozen=True)
class CardFacts:
    """What every stage shows about one card, computed once per build (frozen and picklable, so it
    travels to the PDF workers as it is)."""

    kind: str
    id: str
    rel: str
    """The card file, relative to the project."""
    page: str
    """Its page, relative to docs_dir."""
    pdf_artifact: str
    """Where its PDF is written, relative to the project (`artifacts/pdf/code_walkthroughs/<id>.pdf`)."""
    license_label: str
    license_note: str
    license_flags: tuple[str, ...]
    """Its licenses that the license policy flags or refuses (a badge on the page)."""
    tags: tuple[str, ...]
    repo: RepoFacts | None
    citations: tuple[CitationView | None, ...]
    """One per walkthrough step: the view of its code citation, None when it cites nothing."""
    related: tuple[RelatedCard, ...]
    smoke: SmokeStatus | None
    """None when the card's kind has no smoke test."""
    source_url: str | None = None
    """The card's YAML on the forge (mkdocs.yml's `repo_url`), else in the published site (`site_url`);
    None without either (the PDF's cover then shows the path only)."""

    def digest(self) -> str:
        """A hash of every fact: part of the PDF's cache key."""
        text = json.dumps(dataclasses.asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


class Facts:
    """The facts of every card of a knowledge base, by (kind, id)."""

    def __init__(
        self, facts: dict[tuple[str, str], CardFacts], signers: AllowedSigners | None = None
    ) -> None:
        self._facts = facts
        self.signers = signers or AllowedSigners("")
        """The allowed signers the smoke statuses were checked against (their problems, where from)."""

    def of(self, loaded: LoadedCard[Card]) -> CardFacts:
        return self._facts[(loaded.kind.name, loaded.id)]

    def __iter__(self) -> Iterator[CardFacts]:
        return iter(self._facts.values())


def build_facts(project: Project, kb: KnowledgeBase) -> Facts:
    """Every card's facts (reads nothing the knowledge base has not read, except what the smoke status
    hashes to tell a stale report and, for a pin without a date in its lock file, the synced clone)."""
    trust = trusted(project)  # read once: the allowed signers decide which smoke reports are verified
    facts = {(c.kind.name, c.id): card_facts(project, kb, c, trust.signers) for c in kb.all()}
    return Facts(facts, trust.signers)


def card_facts(
    project: Project, kb: KnowledgeBase, loaded: LoadedCard[Card], signers: AllowedSigners | None = None
) -> CardFacts:
    card = loaded.card
    return CardFacts(
        kind=loaded.kind.name,
        id=loaded.id,
        rel=loaded.rel,
        page=page_path(loaded.kind, loaded.id),
        pdf_artifact=project.rel(project.pdf_dir / pdf_name(loaded.id)),
        license_label=license_label(card),
        license_note=license_note(card),
        license_flags=tuple(flagged_licenses(project.settings.license_policy, card)),
        tags=tuple(tags_of(card)),
        repo=_repo_facts(project, loaded),
        citations=_citations(project, loaded),
        related=tuple(
            RelatedCard(kind, CARD_KINDS[kind].title, c.id, str(c.card.name), c.rel, page_path(c.kind, c.id))
            for kind, group in kb.related(loaded).items()
            for c in group
        ),
        smoke=project_status(project, loaded, signers) if isinstance(card, HasSmokeTest) else None,
        source_url=(
            forge.card_url(project.mkdocs_config, loaded.rel)
            or forge.published_url(project.mkdocs_config, card_file_path(loaded.kind, loaded.id))
        ),
    )


def _repo_facts(project: Project, loaded: LoadedCard[Card]) -> RepoFacts | None:
    card = loaded.card
    if not isinstance(card, HasRepo):
        return None
    repo = card.repo
    model = narrow(loaded, ModelCard)
    pinned = pin_info(project, model).label if model else f"pinned at {pin_label(repo)}"
    return RepoFacts(
        repo.name, web_url(repo) or repo.url, web_url(repo), commit_url(repo), pin_label(repo), pinned
    )


def _citations(project: Project, loaded: LoadedCard[Card]) -> tuple[CitationView | None, ...]:
    card = loaded.card
    if not isinstance(card, HasWalkthrough):
        return ()
    repo = card.repo if isinstance(card, HasRepo) else None
    templates = project.settings.permalink_templates
    pinned = pinned_code(project, loaded)  # snippets only from the pinned commit, never the lock file's
    return tuple(
        citation_view(repo, step.cite, loaded.lock, templates, pinned) if step.cite and repo else None
        for step in card.walkthrough
    )


def tags_of(card: Card) -> list[str]:
    """Tags for mkdocs-material's tags plugin, in a reader's words: `Modality: fMRI`, `Family: Mamba`,
    `License: Apache-2.0` (`Code license: ...` and `Weights license: ...` when they differ, so a license
    tag never lists a model whose weights are not under it)."""
    tags = []
    if isinstance(card, (ModelCard, DatasetCard)):
        tags.append(f"Modality: {modality_label(card.modality)}")
    if isinstance(card, ModelCard) and card.architecture.family:
        tags.append(f"Family: {family_label(card.architecture.family)}")
    fields = dict(card.license_fields()) if isinstance(card, HasLicense) else {}
    code, weights = fields.get("license"), fields.get("weights_license")
    if weights and weights != code:
        tags += [f"Code license: {license_words(code)}"] if code else []
        tags.append(f"Weights license: {license_words(weights)}")
    elif code:
        tags.append(f"License: {license_words(code)}")
    return tags


def missing_snippets(kb: KnowledgeBase, facts: Facts) -> list[Problem]:
    """One warning per card whose walkthrough cites upstream code that the build could not read at the
    pinned commit (the repository is not synced, or the lines are not there): its page and PDF show the
    permalink; the maintainer is told the fix."""
    out = []
    for loaded in kb.all():
        card = loaded.card
        views = facts.of(loaded).citations
        if not isinstance(card, HasWalkthrough) or not views:
            continue
        missing = [(i, view) for i, view in enumerate(views) if view is not None and view.snippet is None]
        if not missing:
            continue
        first = missing[0][0]
        line, col = loaded.doc.locate(("walkthrough", first, "cite"))
        steps = ", ".join(f"{i + 1} '{card.walkthrough[i].title}' ({view.label})" for i, view in missing)
        absent = any(view.note == NOT_AT_PIN_NOTE for _, view in missing)
        count = f"{len(missing)} cited snippet{'s' if len(missing) != 1 else ''}"
        out.append(
            Problem(
                loaded.rel,
                f"{count} of walkthrough step{'s' if len(missing) != 1 else ''} {steps} "
                f"{'are' if len(missing) != 1 else 'is'} not read from the pinned commit: the page and the "
                "PDF link the code upstream instead of showing it",
                Severity.WARNING,
                field=f"walkthrough[{first}].cite",
                line=line,
                col=col,
                hint="the cited lines are not there at the pin: see `kb check citations`"
                if absent
                else "run `kb repos sync` to clone the repository at its pin (snippets are shown only as "
                "read from the pinned commit, never from a lock file alone)",
            )
        )
    return out

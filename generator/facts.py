"""Each card's facts, computed once per build: what its page, its PDF and the checks show about it.

`build_facts(project, kb)` makes one frozen, picklable `CardFacts` per card: the license label and
note, the pin, the code citations, the related cards, the smoke status, the day the card last changed,
and where its page, its PDF and its checkpoint folders live (as `Project.layout` says). The section
model (`generator.sections`) reads them instead of working them out again, and a PDF's cache key
hashes them (`CardFacts.digest`), so a fact that changes re-renders exactly the PDFs that show it.

Facts are derived by feature (`isinstance(card, HasRepo)`), not by kind, so a new card kind gets
every fact its features give.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from generator import forge, gitdates
from generator.knowledge import KnowledgeBase, LoadedCard
from generator.layout import Layout
from generator.policy import flagged_licenses
from generator.problems import Problem, Severity
from generator.repos.citations import NOT_AT_PIN_NOTE, CitationView, citation_view, pinned_code
from generator.repos.pins import pin_info
from generator.schema import CARD_KINDS, Card, CardKind, ModelCard
from generator.schema.card import HasLicense, HasModality, HasRepo, HasSmokeTest, HasWalkthrough
from generator.schema.labels import (
    SourceRow,
    commit_url,
    family_label,
    license_label,
    license_note,
    license_words,
    modality_label,
    pin_label,
    source_rows,
    unverified_claims,
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
    commit: str | None = None
    """The pinned commit, all 40 hex digits (None for a card pinned by tag only)."""


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
    pdf_artifact: str | None
    """Where its PDF is written, relative to the project (`artifacts/pdf/code_walkthroughs/<id>.pdf`);
    None when its kind is not printed."""
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
    edit_url: str | None = None
    """The forge's "edit this page" link of the card's YAML (None without `repo_url`)."""
    updated: str | None = None
    """The day of the last commit that changed the card file (`gitdates`); None outside git."""
    sources: tuple[SourceRow, ...] = ()
    """Where the card's figures are stated, each with its link (model cards)."""
    unverified: tuple[str, ...] = ()
    """The card's unverified facts, those of its `unverified` list and its unverified sources."""

    def digest(self) -> str:
        """A hash of every fact: part of the PDF's and the page's cache key. The dataclasses' repr
        writes every field, nested ones too, in a fixed order (`dataclasses.asdict` would copy every
        value first: a tenth of a second per rebuild at 500 cards)."""
        return hashlib.sha256(repr(self).encode()).hexdigest()


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


def build_facts(
    project: Project, kb: KnowledgeBase, cards: Iterable[LoadedCard[Card]] | None = None
) -> Facts:
    """The facts of `cards` (default: every card): reads nothing the knowledge base has not read,
    except what the smoke status hashes to tell a stale report, the allowed signers its signature is
    checked against (once), the dates of the card files in git (one `git log`), and, for a pin without a
    date in its lock file, the synced clone."""
    chosen = list(kb.all() if cards is None else cards)
    trust = trusted(project)  # read once: the allowed signers decide which smoke reports are verified
    commits = gitdates.last_commits(project.root, [project.kb_dir])
    dates = {path: gitdates.day(stamp) for path, stamp in commits.items()}
    facts = {(c.kind.name, c.id): card_facts(project, kb, c, dates, trust.signers) for c in chosen}
    return Facts(facts, trust.signers)


def card_facts(
    project: Project,
    kb: KnowledgeBase,
    loaded: LoadedCard[Card],
    dates: dict[Path, str] | None = None,
    signers: AllowedSigners | None = None,
) -> CardFacts:
    """One card's facts; `dates`: the day each card file last changed, `signers`: the allowed signers of
    smoke reports (`build_facts` reads both once)."""
    card = loaded.card
    return CardFacts(
        kind=loaded.kind.name,
        id=loaded.id,
        rel=loaded.rel,
        page=Layout.page_path(loaded.kind, loaded.id),
        pdf_artifact=project.rel(project.layout.pdf_file(loaded.id))
        if printed(project, loaded.kind)
        else None,
        license_label=license_label(card),
        license_note=license_note(card),
        license_flags=tuple(flagged_licenses(project.settings.license_policy, card)),
        tags=tuple(tags_of(card)),
        repo=_repo_facts(project, loaded),
        citations=_citations(project, loaded),
        related=tuple(
            RelatedCard(
                kind, CARD_KINDS[kind].title, c.id, str(c.card.name), c.rel, Layout.page_path(c.kind, c.id)
            )
            for kind, group in kb.related(loaded).items()
            for c in group
        ),
        smoke=project_status(project, loaded, signers) if isinstance(card, HasSmokeTest) else None,
        source_url=(
            forge.card_url(project.mkdocs_config, loaded.rel)
            or forge.published_url(project.mkdocs_config, Layout.card_file_path(loaded.kind, loaded.id))
        ),
        edit_url=forge.edit_url(project.mkdocs_config, project.rel(project.docs_dir), loaded.rel),
        updated=(dates if dates is not None else {}).get(loaded.path.resolve()),
        sources=tuple(source_rows(card)) if isinstance(card, ModelCard) else (),
        unverified=tuple(unverified_claims(card)) if isinstance(card, ModelCard) else (),
    )


def printed(project: Project, kind: CardKind) -> bool:
    """Whether the kind's cards get a PDF: declared `printed`, or given a print template of their own
    (in the overrides or the product's templates)."""
    folders = [p for p in (project.template_overrides, project.templates_dir) if p]
    return kind.printed or any((f / kind.print_template).is_file() for f in folders)


def _repo_facts(project: Project, loaded: LoadedCard[Card]) -> RepoFacts | None:
    card = loaded.card
    if not isinstance(card, HasRepo):
        return None
    repo = card.repo
    return RepoFacts(
        repo.name,
        web_url(repo) or repo.url,
        web_url(repo),
        commit_url(repo),
        pin_label(repo),
        pin_info(project, loaded).label,
        repo.commit,
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
    if isinstance(card, HasModality):
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

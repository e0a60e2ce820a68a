"""What a page template sees: the card plus its facts (`generator.facts.CardFacts`), computed once per
build, and the links from its page to the pages and files around it.

Facts are derived by feature, not by kind (see `generator.facts`), so a new card kind needs only its
template `templates/pages/<kind>.md.j2`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from generator import forge, gitdates
from generator.facts import CardFacts, Facts, RelatedCard
from generator.knowledge import KnowledgeBase, LoadedCard
from generator.layout import PDF_FOLDER, card_file_path, page_folder, page_path, relative, site_pdf_path
from generator.repos.citations import CitationView
from generator.schema import CARD_KINDS, Card
from generator.schema.card import HasWalkthrough
from generator.schema.labels import pdf_name
from generator.schema.walkthrough import WalkthroughStep
from generator.settings import Project

__all__ = ["PDF_FOLDER", "Site", "card_context", "page_folder", "page_path", "relative"]


@dataclass
class Site:
    """The facts every page shares: the project, the cards and their facts, and whether PDFs are linked."""

    project: Project
    kb: KnowledgeBase
    facts: Facts
    pdf_enabled: bool = True
    pdfs: frozenset[str] | None = None
    """The cards whose PDF the build publishes, when known before the PDFs exist (`kb build` renders
    the pages while the PDFs are made); None: those whose PDF exists."""

    def pdf_file(self, card_id: str) -> Path | None:
        """The card's PDF under artifacts/, when PDFs are published and it has been rendered (or is
        being rendered for this build)."""
        if not self.pdf_enabled:
            return None
        path = self.project.pdf_dir / pdf_name(card_id)
        if self.pdfs is not None:
            return path if card_id in self.pdfs else None
        return path if path.is_file() else None

    @cached_property
    def card_dates(self) -> dict[Path, str]:
        """Card file (resolved: a linked card has its target's date, as in its PDF) -> day of the last
        commit that changed it (`gitdates`)."""
        commits = gitdates.last_commits(self.project.root, [self.project.kb_dir])
        return {path: gitdates.day(stamp) for path, stamp in commits.items()}

    def card_edit_url(self, rel: str) -> str | None:
        """The forge's "edit this page" link for a card's YAML (None without `repo_url`)."""
        return forge.edit_url(self.project.mkdocs_config, self.project.rel(self.project.docs_dir), rel)

    def card_source_url(self, rel: str) -> str | None:
        """Link to the card's YAML on the forge, from mkdocs.yml's `repo_url` and `edit_uri`."""
        return forge.card_url(self.project.mkdocs_config, rel)


def related_links(related: tuple[RelatedCard, ...], here: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Related cards grouped by kind, in the kinds' order: (kind title, [(name, link)])."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for r in sorted(related, key=lambda r: list(CARD_KINDS).index(r.kind)):
        groups.setdefault(r.kind_title, []).append((r.name, relative(here, r.page)))
    return list(groups.items())


def steps(card: Card, facts: CardFacts) -> list[tuple[WalkthroughStep, CitationView | None]]:
    """Each walkthrough step with the view of its code citation (None when it cites nothing)."""
    if not isinstance(card, HasWalkthrough):
        return []
    return list(zip(card.walkthrough, facts.citations, strict=True))


def card_context(site: Site, loaded: LoadedCard[Card]) -> dict[str, Any]:
    """Everything `pages/<kind>.md.j2` renders from."""
    facts = site.facts.of(loaded)
    here = facts.page
    ctx: dict[str, Any] = {
        "card": loaded.card,
        "kind": loaded.kind,
        "facts": facts,
        "source": loaded.rel,
        "source_url": site.card_source_url(loaded.rel),
        "source_link": relative(here, card_file_path(loaded.kind, loaded.id)),
        "edit_url": site.card_edit_url(loaded.rel),
        "updated": site.card_dates.get(loaded.path.resolve()),
        "page": here,
        "tags": list(facts.tags),
        "related": related_links(facts.related, here),
        "pdf_link": relative(here, site_pdf_path(loaded.id)) if site.pdf_file(loaded.id) else None,
        "pdf_enabled": site.pdf_enabled,
        "pdf_artifact": facts.pdf_artifact,
        "smoke": facts.smoke,
        "steps": steps(loaded.card, facts),
        "license_flags": list(facts.license_flags),
        "repo": None,
    }
    if facts.repo is not None:
        repo = facts.repo
        ctx["repo"] = {
            "name": repo.name,
            "url": repo.url,
            "is_web": repo.web_url is not None,
            "commit_url": repo.commit_url,
            "pin": repo.pin_label,
            "pinned": repo.pinned,
            "license_note": facts.license_note,
            "license_label": facts.license_label,
        }
    return ctx

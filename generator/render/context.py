"""What a page template sees: the card's sections (`generator.sections.card_view`, built from the card
and its `CardFacts`), and the state of this build the page alone knows (whether its PDF is published).

Sections are built by feature and by kind in `generator.sections`, so a new card kind needs no template
of its own: `pages/card.md.j2` shows every kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.facts import Facts
from generator.knowledge import KnowledgeBase, LoadedCard
from generator.layout import Layout
from generator.schema import Card
from generator.sections import card_view
from generator.settings import Project


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
        path = self.project.layout.pdf_file(card_id)
        if self.pdfs is not None:
            return path if card_id in self.pdfs else None
        return path if path.is_file() else None


def card_context(site: Site, loaded: LoadedCard[Card]) -> dict[str, Any]:
    """Everything `pages/<kind>.md.j2` renders from: `view` (the sections), and for the card's PDF
    `pdf_link` (the download, when published) and `pdf_enabled`; `card` and `facts` for overrides."""
    facts = site.facts.of(loaded)
    published = pdf_published(site, loaded)
    return {
        "card": loaded.card,
        "kind": loaded.kind,
        "facts": facts,
        "view": card_view(loaded.card, facts),
        "source": loaded.rel,
        "page": facts.page,
        "tags": list(facts.tags),
        "pdf_link": Layout.relative(facts.page, Layout.site_pdf_path(loaded.id)) if published else None,
        "pdf_enabled": site.pdf_enabled,
    }


def pdf_published(site: Site, loaded: LoadedCard[Card]) -> bool:
    """Whether the card's page links its PDF: its kind is printed and the PDF is published."""
    return site.facts.of(loaded).pdf_artifact is not None and site.pdf_file(loaded.id) is not None

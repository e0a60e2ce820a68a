"""The site's navigation in the order a reader looks for things, not the alphabetical order of folders:
Home, Models (grouped by modality), Compare, Choose, Datasets, Integrations and recipes, Reference.

The `kb` plugin hands it to MkDocs when mkdocs.yml has no `nav:` of its own. Entries are page paths
under docs_dir (titles come from each page's heading, already escaped); every other Markdown page of
docs_dir is listed under Reference, so no page goes missing from the navigation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from generator.knowledge import KnowledgeBase
from generator.render.catalog import CATALOG_PAGES, MODALITY_LABELS
from generator.render.context import page_folder, page_path
from generator.schema import CARD_KINDS

NavItem = str | dict[str, Any]

SECTIONS = ("Home", "Models", "Compare", "Choose", "Datasets", "Integrations and recipes", "Reference")
"""The top-level entries, in order (tests and readers rely on it)."""

CONTRIBUTING = "contributing.md"


def site_nav(kb: KnowledgeBase, docs_dir: Path, broken: Sequence[tuple[str, str]] = ()) -> list[NavItem]:
    """MkDocs `nav` for the pages rendered from `kb` plus the hand-written pages found in docs_dir, in
    the reader's order, top to bottom. `broken` (kind, page) are the error pages of cards that do not
    validate (`mkdocs serve`): first in their kind's section."""
    pages = _Pages(kb, docs_dir, broken)
    # Each page is listed once, where it comes first: the sections are planned in this order.
    models, integrations = _models(pages), _titled(pages, ("integration", "recipe"))
    reference = _reference(pages)
    nav: list[NavItem] = []
    for title, items in (
        ("Home", pages.page("index.md")),
        ("Models", models),
        ("Compare", pages.page(CATALOG_PAGES["comparison"])),
        ("Choose", pages.page(CATALOG_PAGES["selection"])),
        ("Datasets", pages.kind_pages("dataset")),
        ("Integrations and recipes", integrations),
        ("Reference", reference),
    ):
        if not items:
            continue
        single = len(items) == 1 and isinstance(items[0], str) and title in ("Home", "Compare", "Choose")
        nav.append({title: items[0] if single else items})
    # Hand-written pages the plan above does not know (a user's notes): listed, never dropped.
    others: list[NavItem] = list(sorted(pages.present - pages.used))
    if others:
        last = nav[-1] if nav else None
        if isinstance(last, dict) and isinstance(last.get("Reference"), list):
            last["Reference"].extend(others)
        else:
            nav.append({"Reference": others})
    return nav


class _Pages:
    """The Markdown pages of docs_dir, and which of them the navigation has listed so far."""

    def __init__(self, kb: KnowledgeBase, docs_dir: Path, broken: Sequence[tuple[str, str]]) -> None:
        self.kb = kb
        self.broken = broken
        self.present = (
            {p.relative_to(docs_dir).as_posix() for p in docs_dir.rglob("*.md")}
            if docs_dir.is_dir()
            else set()
        )
        self.used: set[str] = set()

    def page(self, rel: str) -> list[NavItem]:
        """`[rel]` when the page exists and is not listed yet (it is now), else nothing."""
        if rel in self.present and rel not in self.used:  # each page once
            self.used.add(rel)
            return [rel]
        return []

    def failing(self, kind_name: str) -> list[NavItem]:
        """The error pages of the kind's cards that do not validate."""
        return [item for kind, rel in self.broken if kind == kind_name for item in self.page(rel)]

    def kind_pages(self, kind_name: str) -> list[NavItem]:
        """A kind's index page, its error pages, then its cards' pages by name."""
        kind = CARD_KINDS[kind_name]
        cards = sorted(self.kb.of_kind(kind_name), key=lambda c: str(c.card.name).lower())
        items: list[NavItem] = [*self.page(f"{page_folder(kind)}/index.md"), *self.failing(kind_name)]
        for loaded in cards:
            items += self.page(page_path(kind, loaded.id))
        return items


def _titled(pages: _Pages, kinds: tuple[str, ...]) -> list[NavItem]:
    """One titled group per kind that has pages."""
    return [{CARD_KINDS[k].title: items} for k in kinds if (items := pages.kind_pages(k))]


def _models(pages: _Pages) -> list[NavItem]:
    """The models' index and error pages, the model pages grouped by modality, then the derived kinds'."""
    models: list[NavItem] = [
        *pages.page(f"{page_folder(CARD_KINDS['model'])}/index.md"),
        *pages.failing("model"),
    ]
    by_modality: dict[str, list[NavItem]] = {}
    for loaded in sorted(pages.kb.models, key=lambda c: str(c.card.name).lower()):
        by_modality.setdefault(str(loaded.card.modality), []).extend(
            pages.page(page_path(CARD_KINDS["model"], loaded.id))
        )
    order = list(MODALITY_LABELS)
    for modality in sorted(by_modality, key=lambda m: order.index(m) if m in order else len(order)):
        if by_modality[modality]:
            models.append({MODALITY_LABELS.get(modality, modality): by_modality[modality]})
    return models + _titled(pages, ("sae", "finetuned"))


def _reference(pages: _Pages) -> list[NavItem]:
    reference: list[NavItem] = []
    for name in ("catalog", "tags", "downloads", "card_format"):
        reference += pages.page(CATALOG_PAGES[name])
    return reference + pages.page(CONTRIBUTING)

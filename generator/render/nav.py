"""The site's navigation in the order a reader looks for things, not the alphabetical order of folders:
Home, Models (grouped by modality), Compare, Choose, Datasets, Integrations and recipes, Reference.
Each card kind is listed under the entry its declaration names (`CardKind.nav`): directly when the
entry bears the kind's title (Datasets), else as a group titled by the kind (Sparse autoencoders under
Models); a kind naming an entry of its own gets it, before Reference.

The `kb` plugin hands it to MkDocs when mkdocs.yml has no `nav:` of its own. Entries are page paths
under docs_dir (titles come from each page's heading, already escaped); every other Markdown page of
docs_dir is listed under Reference, so no page goes missing from the navigation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from generator.knowledge import KnowledgeBase
from generator.layout import Layout
from generator.schema import CARD_KINDS
from generator.schema.labels import MODALITY_LABELS

NavItem = str | dict[str, Any]

SECTIONS = ("Home", "Models", "Compare", "Choose", "Datasets", "Integrations and recipes", "Reference")
"""The top-level entries, in order (tests and readers rely on it)."""

CONTRIBUTING = "contributing.md"


def site_nav(kb: KnowledgeBase, docs_dir: Path, broken: Sequence[tuple[str, str]] = ()) -> list[NavItem]:
    """MkDocs `nav` for the pages rendered from `kb` plus the hand-written pages found in docs_dir, in
    the reader's order, top to bottom. `broken` (kind, page) are the error pages of cards that do not
    validate (`mkdocs serve`): first in their kind's section."""
    pages = _Pages(kb, docs_dir, broken)
    titles = [*SECTIONS[:-1], *dict.fromkeys(k.nav for k in CARD_KINDS.values() if k.nav not in SECTIONS)]
    # Each page is listed once, where it comes first: the entries are planned in this order.
    planned = {title: _kinds_under(pages, title) for title in titles}
    planned["Home"] = pages.page("index.md")
    planned["Compare"] = pages.page(Layout.CATALOG_PAGES["comparison"])
    planned["Choose"] = pages.page(Layout.CATALOG_PAGES["selection"])
    planned["Reference"] = _reference(pages)
    nav: list[NavItem] = []
    for title, items in planned.items():
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
        items: list[NavItem] = [*self.page(Layout.index_page(kind)), *self.failing(kind_name)]
        for loaded in cards:
            items += self.page(Layout.page_path(kind, loaded.id))
        return items


def _kinds_under(pages: _Pages, title: str) -> list[NavItem]:
    """The pages of the kinds that name `title` as their entry: the kind bearing that title directly
    (the models grouped by modality), then one titled group per other kind that has pages."""
    kinds = [k for k in CARD_KINDS.values() if k.nav == title]
    items: list[NavItem] = []
    for kind in kinds:
        if kind.title == title:
            items += _models(pages) if kind.name == "model" else pages.kind_pages(kind.name)
    return items + [
        {k.title: found} for k in kinds if k.title != title and (found := pages.kind_pages(k.name))
    ]


def _models(pages: _Pages) -> list[NavItem]:
    """The models' index and error pages, then the model pages grouped by modality."""
    kind = CARD_KINDS["model"]
    models: list[NavItem] = [*pages.page(Layout.index_page(kind)), *pages.failing("model")]
    by_modality: dict[str, list[NavItem]] = {}
    for loaded in sorted(pages.kb.models, key=lambda c: str(c.card.name).lower()):
        by_modality.setdefault(str(loaded.card.modality), []).extend(
            pages.page(Layout.page_path(kind, loaded.id))
        )
    order = list(MODALITY_LABELS)
    for modality in sorted(by_modality, key=lambda m: order.index(m) if m in order else len(order)):
        if by_modality[modality]:
            models.append({MODALITY_LABELS.get(modality, modality): by_modality[modality]})
    return models


def _reference(pages: _Pages) -> list[NavItem]:
    reference: list[NavItem] = []
    for name in ("catalog", "tags", "downloads", "card_format"):
        reference += pages.page(Layout.CATALOG_PAGES[name])
    return reference + pages.page(CONTRIBUTING)

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
    """MkDocs `nav` for the pages rendered from `kb` plus the hand-written pages found in docs_dir.
    `broken` (kind, page) are the error pages of cards that do not validate (`mkdocs serve`): first in
    their kind's section.

    It is longer because the reader's order is written out in one place, top to bottom."""
    present = ({p.relative_to(docs_dir).as_posix() for p in docs_dir.rglob("*.md")} if docs_dir.is_dir()
               else set())
    used: set[str] = set()

    def page(rel: str) -> list[NavItem]:
        if rel in present and rel not in used:  # each page once
            used.add(rel)
            return [rel]
        return []

    def kind_pages(kind_name: str) -> list[NavItem]:
        kind = CARD_KINDS[kind_name]
        cards = sorted(kb.of_kind(kind_name), key=lambda c: str(c.card.name).lower())
        items: list[NavItem] = [*page(f"{page_folder(kind)}/index.md"), *failing(kind_name)]
        for loaded in cards:
            items += page(page_path(kind, loaded.id))
        return items

    def failing(kind_name: str) -> list[NavItem]:
        return [item for kind, rel in broken if kind == kind_name for item in page(rel)]

    models: list[NavItem] = [*page(f"{page_folder(CARD_KINDS['model'])}/index.md"), *failing("model")]
    by_modality: dict[str, list[NavItem]] = {}
    for loaded in sorted(kb.models, key=lambda c: str(c.card.name).lower()):
        by_modality.setdefault(str(loaded.card.modality), []).extend(
            page(page_path(CARD_KINDS["model"], loaded.id)))
    order = list(MODALITY_LABELS)
    for modality in sorted(by_modality, key=lambda m: order.index(m) if m in order else len(order)):
        if by_modality[modality]:
            models.append({MODALITY_LABELS.get(modality, modality): by_modality[modality]})
    for derived in ("sae", "finetuned"):
        items = kind_pages(derived)
        if items:
            models.append({CARD_KINDS[derived].title: items})

    integrations: list[NavItem] = []
    for kind_name in ("integration", "recipe"):
        items = kind_pages(kind_name)
        if items:
            integrations.append({CARD_KINDS[kind_name].title: items})

    reference: list[NavItem] = []
    for name in ("catalog", "tags", "downloads", "card_format"):
        reference += page(CATALOG_PAGES[name])
    reference += page(CONTRIBUTING)

    nav: list[NavItem] = []
    for title, items in (("Home", page("index.md")), ("Models", models),
                         ("Compare", page(CATALOG_PAGES["comparison"])),
                         ("Choose", page(CATALOG_PAGES["selection"])),
                         ("Datasets", kind_pages("dataset")),
                         ("Integrations and recipes", integrations), ("Reference", reference)):
        if not items:
            continue
        single = len(items) == 1 and isinstance(items[0], str) and title in ("Home", "Compare", "Choose")
        nav.append({title: items[0] if single else items})
    # Hand-written pages the plan above does not know (a user's notes): listed, never dropped.
    others: list[NavItem] = list(sorted(present - used))
    if others:
        last = nav[-1] if nav else None
        if isinstance(last, dict) and isinstance(last.get("Reference"), list):
            last["Reference"].extend(others)
        else:
            nav.append({"Reference": others})
    return nav

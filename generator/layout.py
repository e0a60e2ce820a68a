"""The site's URL layout, in one place: where each card's page, each PDF and each built page lives.

Paths are POSIX and relative to docs_dir (pages) or to the built site (`pdf/<id>.pdf`).
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from generator.schema import CardKind
from generator.schema.labels import pdf_name

PDF_FOLDER = "pdf"
"""Where PDFs live in the built site: `site/pdf/<id>.pdf`."""

CARD_FOLDER = "kb"
"""Where the cards' YAML is published in the built site: `site/kb/<kind folder>/<id>.yaml`."""

PAGE_FOLDERS = {"model_cards": "models"}
"""Page folders that differ from the card folder with `_cards` removed."""


def page_folder(kind: CardKind) -> str:
    """Folder of a kind's pages under docs_dir: `model_cards` -> `models`, `sae_cards` -> `sae`,
    `datasets` -> `datasets`."""
    return PAGE_FOLDERS.get(kind.folder, kind.folder.removesuffix("_cards"))


def page_path(kind: CardKind, card_id: str) -> str:
    """A card's page, relative to docs_dir (POSIX)."""
    return f"{page_folder(kind)}/{card_id}.md"


def card_file_path(kind: CardKind, card_id: str) -> str:
    """A card's YAML as published with the site, relative to the site root (POSIX)."""
    return f"{CARD_FOLDER}/{kind.folder}/{card_id}.yaml"


def site_pdf_path(card_id: str) -> str:
    """A card's PDF in the built site (POSIX, relative to its root)."""
    return f"{PDF_FOLDER}/{pdf_name(card_id)}"


def built_page(site_dir: Path, page: str) -> Path:
    """The HTML file MkDocs writes for a page of docs_dir (directory URLs, or `page.html` without)."""
    stem = page.removesuffix(".md")
    built = site_dir / stem / "index.html"
    return built if built.exists() else site_dir / f"{stem}.html"


def relative(from_page: str, to_path: str) -> str:
    """Relative link from one docs_dir file to another, as MkDocs resolves Markdown links."""
    return posixpath.relpath(to_path, posixpath.dirname(from_page) or ".")

"""What a page template sees: the card plus the facts around it (links, PDF, smoke status, citations).

Everything is derived by feature, not by kind: any card with a `repo` gets the license note and pin,
any card with `walkthrough` steps gets its code citations, any card with a PDF gets the button. So a
new card kind needs only its template.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.checks.licenses import flagged_licenses
from generator.knowledge import KnowledgeBase, LoadedCard
from generator.render import views
from generator.repos.citations import CitationView, citation_view, read_lock
from generator.repos.pins import pin_info
from generator.schema import CARD_KINDS, CardKind
from generator.settings import Project
from generator.smoke.status import SmokeStatus, project_status

PDF_FOLDER = "pdf"
"""Where PDFs live in the built site: `site/pdf/<id>.pdf`."""


PAGE_FOLDERS = {"model_cards": "models"}
"""Page folders that differ from the card folder with `_cards` removed."""


def page_folder(kind: CardKind) -> str:
    """Folder of a kind's pages under docs_dir: `model_cards` -> `models`, `sae_cards` -> `sae`,
    `datasets` -> `datasets`."""
    return PAGE_FOLDERS.get(kind.folder, kind.folder.removesuffix("_cards"))


def page_path(kind: CardKind, card_id: str) -> str:
    """A card's page, relative to docs_dir (POSIX)."""
    return f"{page_folder(kind)}/{card_id}.md"


def relative(from_page: str, to_path: str) -> str:
    """Relative link from one docs_dir file to another, as MkDocs resolves Markdown links."""
    return posixpath.relpath(to_path, posixpath.dirname(from_page) or ".")


@dataclass
class Site:
    """The facts every page shares: the project, the cards, and where things are linked."""

    project: Project
    kb: KnowledgeBase
    pdf_enabled: bool = True

    def pdf_file(self, card_id: str) -> Path | None:
        """The card's PDF under artifacts/, when PDFs are published and it has been rendered."""
        if not self.pdf_enabled:
            return None
        path = self.project.pdf_dir / views.pdf_name(card_id)
        return path if path.is_file() else None

    def card_source_url(self, rel: str) -> str | None:
        """Link to the card's YAML on the forge, from mkdocs.yml's `repo_url` and `edit_uri`."""
        repo_url = str(self.project.mkdocs_config.get("repo_url") or "").rstrip("/")
        if not repo_url.startswith(("http://", "https://")):
            return None
        edit_uri = str(self.project.mkdocs_config.get("edit_uri") or "")
        m = re.match(r"/?(?:edit|blob|src/branch|-/blob)/([^/]+)/", edit_uri)
        branch = m.group(1) if m else "HEAD"
        return f"{repo_url}/blob/{branch}/{rel}"


def smoke_status(site: Site, loaded: LoadedCard) -> SmokeStatus | None:
    """The card's smoke status, stale when the card, its checkpoint or the projector changed since the
    report; None when its kind has no smoke test at all."""
    if not hasattr(loaded.card, "smoke_test"):
        return None
    return project_status(site.project, loaded)


def walkthrough_views(site: Site, loaded: LoadedCard) -> list[tuple[Any, CitationView | None]]:
    """Each walkthrough step with the view of its code citation (None when it cites nothing)."""
    steps = getattr(loaded.card, "walkthrough", None) or []
    repo = getattr(loaded.card, "repo", None)
    if not steps:
        return []
    lock = read_lock(loaded.path)
    templates = site.project.settings.permalink_templates
    return [(step, citation_view(repo, step.cite, lock, templates) if step.cite and repo else None)
            for step in steps]


def related_links(site: Site, loaded: LoadedCard, here: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Related cards in both directions, grouped by kind: (kind title, [(name, link)])."""
    groups = []
    for kind_name, cards in site.kb.related(loaded).items():
        kind = CARD_KINDS[kind_name]
        groups.append((kind.title, [(str(c.card.name), relative(here, page_path(kind, c.id)))
                                    for c in cards]))
    order = list(CARD_KINDS)
    return sorted(groups, key=lambda g: next(
        (i for i, k in enumerate(order) if CARD_KINDS[k].title == g[0]), len(order)))


def tags_of(card: Any) -> list[str]:
    """Tags for mkdocs-material's tags plugin: modality, architecture family, license."""
    tags = []
    if getattr(card, "modality", None):
        tags.append(f"modality:{card.modality}")
    family = getattr(getattr(card, "architecture", None), "family", None)
    if family:
        tags.append(f"family:{family}")
    for lic in (getattr(card, "license", None), getattr(card, "weights_license", None)):
        if lic and f"license:{lic}" not in tags:
            tags.append(f"license:{lic}")
    return tags


def license_label(card: Any) -> str:
    """`views.license_label` for any card kind with a `license` (weights license optional)."""
    weights = getattr(card, "weights_license", None)
    if weights and weights != card.license:
        return f"{card.license} (code), {weights} (weights)"
    return str(card.license)


def card_context(site: Site, loaded: LoadedCard) -> dict[str, Any]:
    """Everything `pages/<kind>.md.j2` renders from."""
    card, kind = loaded.card, loaded.kind
    here = page_path(kind, loaded.id)
    pdf = site.pdf_file(loaded.id)
    repo = getattr(card, "repo", None)
    ctx: dict[str, Any] = {
        "card": card,
        "kind": kind,
        "source": loaded.rel,
        "source_url": site.card_source_url(loaded.rel),
        "page": here,
        "tags": tags_of(card),
        "related": related_links(site, loaded, here),
        "pdf_link": relative(here, f"{PDF_FOLDER}/{views.pdf_name(loaded.id)}") if pdf else None,
        "pdf_enabled": site.pdf_enabled,
        "pdf_artifact": f"{site.project.rel(site.project.pdf_dir)}/{views.pdf_name(loaded.id)}",
        "smoke": smoke_status(site, loaded),
        "steps": walkthrough_views(site, loaded),
        "license_flags": flagged_licenses(site.project, card),
        "repo": None,
    }
    if repo is not None:
        ctx["repo"] = {
            "name": repo.name,
            "url": views.web_url(repo) or repo.url,
            "is_web": views.web_url(repo) is not None,
            "commit_url": views.commit_url(repo),
            "pin": views.pin_label(repo),
            "pinned": pin_info(site.project, loaded).label if kind.name == "model" else None,
            "license_note": f"This walkthrough references {repo.name} under {license_label(card)}.",
            "license_label": license_label(card),
        }
    return ctx

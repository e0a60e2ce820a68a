"""What a print template sees: the validated card plus the facts the page shows too.

Facts are derived by feature, not by kind (any card with a `repo` gets its pin and license note, any
card with `walkthrough` steps gets its code citations), so a new card kind needs only its template
`templates/pdf/<kind>.html.j2`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from markupsafe import Markup

from generator.render import markup, views
from generator.repos.citations import CitationView, citation_view

PYGMENTS_STYLE = "friendly"
"""Pygments colour scheme of code blocks (light background, prints well)."""


@dataclass(frozen=True)
class RelatedCard:
    """A card related to the one printed (either direction)."""

    kind_title: str
    id: str
    name: str
    rel: str


@dataclass
class PdfJob:
    """One PDF to render: everything a worker process needs, picklable, no open resources."""

    key: str
    kind: str
    card_id: str
    card: Any
    rel: str
    out: Path
    date: int
    lock: dict[str, Any]
    templates: list[Path]
    """Template search path: the user's overrides first, then the product's templates."""
    assets_dir: Path
    related: list[RelatedCard] = field(default_factory=list)
    permalink_templates: dict[str, str] = field(default_factory=dict)
    pdf_artifact: str = ""
    pinned: str | None = None
    """The page's pin line: "pinned at 0123abc (v1.0), 2024-03-01" (model cards)."""

    @property
    def template(self) -> str:
        return template_name(self.kind)


def template_name(kind: str) -> str:
    return f"pdf/{kind}.html.j2"


def card_context(job: PdfJob) -> dict[str, Any]:
    """The variables of a print template."""
    card = job.card
    repo: Any = getattr(card, "repo", None)
    when = datetime.fromtimestamp(job.date, tz=timezone.utc)
    ctx: dict[str, Any] = {
        "card": card,
        "kind": job.kind,
        "card_path": job.rel,
        "pdf_artifact": job.pdf_artifact,
        "date": when.strftime("%Y-%m-%d"),
        "created": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "license_label": _license_label(card),
        "license_note": _license_note(card),
        "repo": repo,
        "pin_label": views.pin_label(repo) if _is_repo(repo) else None,
        "pinned": job.pinned,
        "commit_url": views.commit_url(repo) if _is_repo(repo) else None,
        "repo_url": views.web_url(repo) if _is_repo(repo) else None,
        "steps": walkthrough_views(job),
        "related": _group_related(job.related),
        "description": _description(card),
        "keywords": _keywords(card),
        "author": ", ".join(getattr(card, "developers", None) or []) or "foundation-model-kb",
        "pygments_css": Markup(pygments_css()),
    }
    return ctx


def _is_repo(repo: Any) -> bool:
    return repo is not None and hasattr(repo, "url") and hasattr(repo, "commit")


def _license_label(card: Any) -> str:
    if hasattr(card, "weights_license") and hasattr(card, "repo"):
        return views.license_label(card)
    return str(getattr(card, "license", None) or "not stated")


def _license_note(card: Any) -> str:
    """The page's license sentence; cards without a repository name their own license."""
    repo: Any = getattr(card, "repo", None)
    if _is_repo(repo) and hasattr(card, "weights_license"):
        return views.license_note(card)
    if not getattr(card, "license", None):
        return f"No license is stated for {card.name}: check its source before reusing it."
    if _is_repo(repo):
        return f"This walkthrough references {repo.name} under {_license_label(card)}."
    return f"{card.name} is under {_license_label(card)}."


def walkthrough_views(job: PdfJob) -> list[tuple[Any, CitationView | None]]:
    """Each walkthrough step with its code citation's view (snippet from the lock file, or a permalink)."""
    steps = getattr(job.card, "walkthrough", None) or []
    repo = getattr(job.card, "repo", None)
    return [(step, citation_view(repo, step.cite, job.lock, job.permalink_templates)
             if getattr(step, "cite", None) and repo is not None else None) for step in steps]


def _group_related(related: list[RelatedCard]) -> list[tuple[str, list[RelatedCard]]]:
    groups: dict[str, list[RelatedCard]] = {}
    for r in related:
        groups.setdefault(r.kind_title, []).append(r)
    return list(groups.items())


def _description(card: Any) -> str:
    summary = getattr(card, "summary", "") or ""
    purpose = getattr(getattr(card, "purpose", None), "summary", "") or ""
    text = summary or purpose or f"Code walkthrough of {card.name}"
    return " ".join(text.split())


def _keywords(card: Any) -> list[str]:
    words = ["code walkthrough", "foundation model"]
    for value in (getattr(card, "modality", None),
                  getattr(getattr(card, "architecture", None), "family", None),
                  getattr(getattr(card, "architecture", None), "model_type", None),
                  getattr(card, "license", None), getattr(card, "weights_license", None),
                  getattr(getattr(card, "repo", None), "name", None), getattr(card, "id", None)):
        if value and str(value) not in words:
            words.append(str(value))
    return words


# --- filters --------------------------------------------------------------------------------------

def md_block(text: str | None) -> Markup:
    """Untrusted Markdown prose to HTML; raw HTML in it is shown literally."""
    return Markup(markup.markdown_to_html(text or ""))


def md_inline(text: str | None) -> Markup:
    """One line of untrusted Markdown (a list item, a table cell) without the surrounding paragraph."""
    html = markup.markdown_to_html(" ".join(str(text or "").split())).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return Markup(html)


def highlight(source: str, language: str | None = None, start: int = 1) -> Markup:
    """Pygments-highlighted code with line numbers starting at `start` (a citation's real lines)."""
    from pygments import highlight as pyg_highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import TextLexer, get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(language or "text", stripnl=False, ensurenl=True)
    except ClassNotFound:
        lexer = TextLexer(stripnl=False, ensurenl=True)
    formatter = HtmlFormatter(linenos="inline", linenostart=max(1, int(start)), cssclass="code",
                              style=PYGMENTS_STYLE, wrapcode=True)
    return Markup(pyg_highlight(source.expandtabs(4), lexer, formatter))


def pygments_css() -> str:
    from pygments.formatters import HtmlFormatter

    return str(HtmlFormatter(style=PYGMENTS_STYLE, cssclass="code").get_style_defs(".code"))


def doi_url(doi: str) -> str:
    return f"https://doi.org/{doi}"


def arxiv_url(arxiv: str) -> str:
    return f"https://arxiv.org/abs/{arxiv}"


FILTERS = {"md_block": md_block, "md_inline": md_inline, "highlight": highlight,
           "doi_url": doi_url, "arxiv_url": arxiv_url, "tokens": views.token_label}

"""What a print template sees: the validated card plus its facts (`generator.facts.CardFacts`), the
same ones its page shows.

Facts are derived by feature, not by kind (see `generator.facts`), so a new card kind needs only its
template `templates/pdf/<kind>.html.j2`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from markupsafe import Markup

from generator.facts import CardFacts, RelatedCard
from generator.render import markup
from generator.render.context import steps
from generator.schema import Card, DatasetCard, ModelCard
from generator.schema.card import HasCitations, HasLicense, HasRepo
from generator.schema.labels import LABEL_FILTERS

PYGMENTS_STYLE = "friendly"
"""Pygments colour scheme of code blocks (light background, prints well)."""


@dataclass
class PdfJob:
    """One PDF to render: everything a worker process needs, picklable, no open resources."""

    key: str
    card: Card
    facts: CardFacts
    out: Path
    date: int
    templates: list[Path]
    """Template search path: the user's overrides first, then the product's templates."""
    assets_dir: Path

    @property
    def card_id(self) -> str:
        return self.facts.id

    @property
    def rel(self) -> str:
        return self.facts.rel

    @property
    def template(self) -> str:
        return template_name(self.facts.kind)


def template_name(kind: str) -> str:
    return f"pdf/{kind}.html.j2"


def card_context(job: PdfJob) -> dict[str, Any]:
    """The variables of a print template."""
    card, facts = job.card, job.facts
    repo = facts.repo
    when = datetime.fromtimestamp(job.date, tz=timezone.utc)
    return {
        "card": card,
        "facts": facts,
        "kind": facts.kind,
        "card_path": facts.rel,
        "pdf_artifact": facts.pdf_artifact,
        "date": when.strftime("%Y-%m-%d"),
        "created": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "license_label": facts.license_label,
        "license_note": facts.license_note,
        "repo": card.repo if isinstance(card, HasRepo) else None,
        "pin_label": repo.pin_label if repo else None,
        "pinned": repo.pinned if repo and isinstance(card, ModelCard) else None,
        "commit_url": repo.commit_url if repo else None,
        "repo_url": repo.web_url if repo else None,
        "card_url": facts.source_url,
        "paper_url": _paper_url(card),
        "steps": steps(card, facts),
        "related": _group_related(facts.related),
        "smoke": facts.smoke,
        "description": _description(card),
        "keywords": _keywords(card),
        "author": ", ".join(card.developers)
        if isinstance(card, ModelCard) and card.developers
        else "foundation-model-kb",
        "pygments_css": Markup(pygments_css()),
    }


def _paper_url(card: Card) -> str | None:
    """The paper's landing page: the card's `links.paper`, else its first citation's DOI, arXiv or URL."""
    if isinstance(card, ModelCard) and card.links.paper:
        return str(card.links.paper)
    for c in card.citations if isinstance(card, HasCitations) else []:
        if c.doi or c.arxiv or c.url:
            return doi_url(c.doi) if c.doi else arxiv_url(c.arxiv) if c.arxiv else str(c.url)
    return None


def _group_related(related: tuple[RelatedCard, ...]) -> list[tuple[str, list[RelatedCard]]]:
    groups: dict[str, list[RelatedCard]] = {}
    for r in related:
        groups.setdefault(r.kind_title, []).append(r)
    return list(groups.items())


def _description(card: Card) -> str:
    purpose = card.purpose.summary if isinstance(card, ModelCard) else ""
    text = card.summary or purpose or f"Code walkthrough of {card.name}"
    return " ".join(text.split())


def _keywords(card: Card) -> list[str]:
    words = ["code walkthrough", "foundation model"]
    values: list[object] = []
    if isinstance(card, ModelCard):
        values += [card.modality, card.architecture.family, card.architecture.model_type]
    elif isinstance(card, DatasetCard):
        values.append(card.modality)
    values += [value for _name, value in card.license_fields()] if isinstance(card, HasLicense) else []
    if isinstance(card, ModelCard):
        values.append(card.repo.name)
    values.append(card.id)
    for value in values:
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


_LINE_SPAN = re.compile(r'<span id="ln-\d+">')


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
    formatter = HtmlFormatter(
        linenos="inline",
        linenostart=max(1, int(start)),
        cssclass="code",
        style=PYGMENTS_STYLE,
        wrapcode=True,
        linespans="ln",
    )
    html = pyg_highlight(source.expandtabs(4), lexer, formatter)
    # Tokens the style does not colour (names, punctuation) and whitespace lose their <span>: the same
    # text, looking the same, and WeasyPrint lays out and draws about half as many boxes (-10% CPU).
    html = _unstyled_tokens(PYGMENTS_STYLE).sub(r"\1", html)
    # One block per source line (a class, not Pygments' ids, which repeat across the code blocks of a
    # document), so that print.css can indent a wrapped line past the line-number gutter.
    return Markup(_LINE_SPAN.sub('<span class="code-line">', html))


@functools.cache
def _unstyled_tokens(style: str) -> re.Pattern[str]:
    """`<span class="X">text</span>` of a token class X that `style` gives no rule (or whitespace,
    whose colour is not seen)."""
    from pygments.formatters import HtmlFormatter
    from pygments.token import STANDARD_TYPES, Whitespace

    styled = HtmlFormatter(style=style).class2style
    names = {n for n in STANDARD_TYPES.values() if n and n not in styled} | {STANDARD_TYPES[Whitespace]}
    return re.compile(r'<span class="(?:' + "|".join(sorted(map(re.escape, names))) + r')">([^<]*)</span>')


def pygments_css() -> str:
    from pygments.formatters import HtmlFormatter

    return str(HtmlFormatter(style=PYGMENTS_STYLE, cssclass="code").get_style_defs(".code"))


def doi_url(doi: str) -> str:
    return f"https://doi.org/{doi}"


def arxiv_url(arxiv: str) -> str:
    return f"https://arxiv.org/abs/{arxiv}"


FILTERS = {
    "md_block": md_block,
    "md_inline": md_inline,
    "highlight": highlight,
    "doi_url": doi_url,
    "arxiv_url": arxiv_url,
    **LABEL_FILTERS,
}

"""What a print template sees: the card's sections (`generator.sections.card_view`), the same ones its
page shows, built in the worker from the card and its facts; and the document's own date and metadata.

Every printed kind (`CardKind.printed`) is printed by `templates/pdf/card.html.j2`, unless it has a
template of its own (`templates/pdf/<kind>.html.j2`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from markupsafe import Markup

from generator.facts import CardFacts
from generator.render import markup
from generator.schema import GENERIC_PRINT, Card
from generator.schema.card import HasLicense, HasModality
from generator.schema.labels import LABEL_FILTERS
from generator.sections import card_view

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
    template: str = GENERIC_PRINT
    """The print template: the kind's own (`pdf/<kind>.html.j2`) where there is one, else the generic."""

    @property
    def card_id(self) -> str:
        return self.facts.id

    @property
    def rel(self) -> str:
        return self.facts.rel


def card_context(job: PdfJob) -> dict[str, Any]:
    """The variables of a print template: the card's sections (`view`, the same the page shows), and
    the document's own facts (its date, its metadata)."""
    card, facts = job.card, job.facts
    view = card_view(card, facts)
    when = datetime.fromtimestamp(job.date, tz=timezone.utc)
    return {
        "card": card,
        "facts": facts,
        "view": view,
        "kind": facts.kind,
        "date": when.strftime("%Y-%m-%d"),
        "created": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "description": view.description,
        "keywords": _keywords(card, facts),
        "author": ", ".join(view.authors) or "foundation-model-kb",
        "pygments_css": Markup(pygments_css()),
    }


def _keywords(card: Card, facts: CardFacts) -> list[str]:
    """The document's keywords: its tags' values, the card's own modality and license ids, its
    repository and its id."""
    words = ["code walkthrough", "foundation model"]
    values: list[object] = [tag.partition(": ")[2] for tag in facts.tags]
    if isinstance(card, HasModality):
        values.append(card.modality)
    values += [value for _name, value in card.license_fields()] if isinstance(card, HasLicense) else []
    values += [facts.repo.name] if facts.repo else []
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


FILTERS = {"md_block": md_block, "md_inline": md_inline, "highlight": highlight, **LABEL_FILTERS}

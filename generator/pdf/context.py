"""What a print template sees: the card's sections (`generator.sections.card_view`), the same ones its
page shows, built in the worker from the card and its facts; and the document's own date and metadata.

Every printed kind (`CardKind.printed`) is printed by `templates/pdf/card.html.j2`, unless it has a
template of its own (`templates/pdf/<kind>.html.j2`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterable, Iterator
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
    weight: int = 0
    """How long the card is (its YAML's length): the pool starts the longest first, so that no worker
    is left with a long one at the end while the others idle."""

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
    from pygments import format as pyg_format
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
    # WeasyPrint lays out and draws each <span> as a box of its own: the tokens go as runs of one look
    # (`_runs`), about a third as many spans as Pygments gives, looking the same (-15% of a PDF's CPU).
    html = pyg_format(_runs(lexer.get_tokens(source.expandtabs(4)), PYGMENTS_STYLE), formatter)
    # One block per source line (a class, not Pygments' ids, which repeat across the code blocks of a
    # document), so that print.css can indent a wrapped line past the line-number gutter.
    return Markup(_LINE_SPAN.sub('<span class="code-line">', html))


_Run = tuple[Any, str]


def _runs(tokens: Iterable[_Run], style: str) -> Iterator[_Run]:
    """The tokens as runs that look alike: each token takes the type of the first token type the style
    draws exactly as it (`Keyword.Namespace` is drawn as `Keyword`: one span, not two), a token the
    style does not draw (names, punctuation) is plain text (no span), and the spaces between tokens
    join the run before them, or at the start of a line the one after, where that run's look does not
    show on a space (a colour, bold or italic in a monospace font: not a background, border or
    underline)."""
    from pygments.token import Text

    look = _looks(style)
    runs: list[list[Any]] = []
    for ttype, value in tokens:
        for part in value.splitlines(keepends=True):
            kind, clear = look.get(ttype, (ttype, False))
            blank = part.strip(" \t") == "" or part.isspace()
            if blank and runs and _look_clear(runs[-1], look) and not runs[-1][1].endswith("\n"):
                runs[-1][1] += part
                continue
            if blank:
                kind = Text
                if runs and runs[-1][1].endswith("\n"):
                    runs.append([kind, part])  # a line's indentation: its first token may take it
                    continue
            elif clear and runs and runs[-1][0] is Text and _line_indent(runs):
                runs[-1][0] = kind  # the indentation joins the line's first token
            if runs and runs[-1][0] == kind:
                runs[-1][1] += part
            else:
                runs.append([kind, part])
    for kind, text in runs:
        yield kind, text


def _look_clear(run: list[Any], look: dict[Any, tuple[Any, bool]]) -> bool:
    """Whether spaces may join `run` without being seen to (plain text, or a look without a background,
    border or underline)."""
    from pygments.token import Text

    return bool(run[0] is Text or any(kind == run[0] and clear for kind, clear in look.values()))


def _line_indent(runs: list[list[Any]]) -> bool:
    """Whether the last run is the spaces that start a line."""
    text = runs[-1][1]
    return text.strip(" \t") == "" and "\n" not in text and (len(runs) == 1 or runs[-2][1].endswith("\n"))


@functools.cache
def _looks(style: str) -> dict[Any, tuple[Any, bool]]:
    """For each standard token type: the token type whose span draws it (the first, by class name, of
    those the style draws alike; plain text for one the style does not draw) and whether spaces may join
    it unseen."""
    from pygments.styles import get_style_by_name
    from pygments.token import STANDARD_TYPES, Text

    drawn = get_style_by_name(style)
    seen: dict[tuple[Any, ...], Any] = {}
    out: dict[Any, tuple[Any, bool]] = {}
    for ttype, _name in sorted(STANDARD_TYPES.items(), key=lambda item: (len(item[1]), item[1])):
        d = drawn.style_for_token(ttype)
        key = (d["color"], d["bold"], d["italic"], d["underline"], d["bgcolor"], d["border"])
        if key == (None, False, False, False, None, None):
            out[ttype] = (Text, True)
            continue
        out[ttype] = (seen.setdefault(key, ttype), not (d["underline"] or d["bgcolor"] or d["border"]))
    return out


def pygments_css(used: Collection[str] | None = None) -> str:
    """The code blocks' colours; with `used` (the classes a document's body holds), only the rules of
    the token classes among them: WeasyPrint matches every rule against every element, and a card's
    code uses a fifth of the style's 80-odd classes (-4% of a PDF's CPU)."""
    from pygments.formatters import HtmlFormatter

    css = str(HtmlFormatter(style=PYGMENTS_STYLE, cssclass="code").get_style_defs(".code"))
    if used is None:
        return css
    lines = css.splitlines()
    return "\n".join(line for line in lines if (m := _TOKEN_RULE.match(line)) is None or m[1] in used)


_TOKEN_RULE = re.compile(r"\.code \.([\w-]+) \{")


FILTERS = {"md_block": md_block, "md_inline": md_inline, "highlight": highlight, **LABEL_FILTERS}

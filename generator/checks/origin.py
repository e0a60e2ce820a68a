"""Where a broken link of the built site comes from: the card field whose text holds it.

The link check reads the built HTML, so it names a page (`models/x/index.html`). When the link was
written in a card (a Markdown link in a summary or a step's prose), the fix belongs in the card: the
problem is moved there, `FILE:LINE:COL` of the field, with the page it was found on. A link shown on
several pages (a card page and the catalogs that quote its summary) is one problem, naming them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from generator.facts import Facts
from generator.knowledge import KnowledgeBase, LoadedCard
from generator.problems import Problem
from generator.schema import Card

_BROKEN = re.compile(r"^link '(?P<link>.*)' is broken: ")

HINT = (
    "a link in card text must be an http(s) URL or point at a page of the site: correct the link, "
    "or write the text without it"
)


def in_cards(problems: list[Problem], kb: KnowledgeBase, facts: Facts) -> list[Problem]:
    """`problems` of the link check, each broken link written in a card located in that card."""
    pages = {_site_page(f.page): f for f in facts}
    cards = list(kb.all())
    out: list[Problem | tuple[str, int, int]] = []
    located: dict[tuple[str, int, int], tuple[Problem, list[str]]] = {}
    for p in problems:
        m = _BROKEN.match(p.message)
        if m is None:
            out.append(p)
            continue
        own = pages.get(p.file)
        candidates = [c for c in cards if own is None or (c.kind.name, c.id) == (own.kind, own.id)]
        found = [(c, loc) for c in candidates for loc in _fields_holding(c, m.group("link"))]
        if not found:
            out.append(p)
            continue
        for card, loc in found:
            line, col = card.doc.locate(loc)
            key = (card.rel, line, col)
            if key not in located:
                moved = replace(p, file=card.rel, line=line, col=col, field=_dotted(loc), hint=HINT)
                located[key] = (moved, [])
                out.append(key)
            if p.file not in located[key][1]:
                located[key][1].append(p.file)
    return [item if isinstance(item, Problem) else _on(*located[item]) for item in out]


def _on(problem: Problem, pages: list[str]) -> Problem:
    return replace(problem, message=f"{problem.message} (on {', '.join(pages)})")


def _site_page(docs_page: str) -> str:
    """`models/x.md` -> `models/x/index.html` (MkDocs' directory URLs); `models/index.md` -> itself."""
    stem = docs_page.removesuffix(".md")
    return f"{stem}.html" if stem == "index" or stem.endswith("/index") else f"{stem}/index.html"


def _normal(text: str) -> str:
    """What escaping and Markdown leave of a link: `unsafe-` prefixes gone, whitespace collapsed, no
    angle brackets."""
    text = re.sub(r"unsafe-", "", text, flags=re.IGNORECASE)
    return " ".join(text.replace("<", " ").replace(">", " ").split())


def _fields_holding(card: LoadedCard[Card], link: str) -> Iterator[tuple[str | int, ...]]:
    target = _normal(link)
    if not target:
        return
    for loc, text in _strings(card.doc.data, ()):
        if target in _normal(text):
            yield loc


def _strings(data: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(data, str):
        yield loc, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(value, (*loc, str(key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _strings(value, (*loc, i))


def _dotted(loc: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")

"""The sections of a card kind that has no builder of its own: its metadata and the sections its mixins
give (walkthrough, smoke test, citations, related cards), and one section per other field of its
schema, in the schema's order, titled by the field's name: a field typed Markdown as prose, a list
as a list, a nested object as a table of facts, anything else as a row of "Details". A new kind's
cards are shown whole from its schema alone; a builder of its own (`generator.sections.BUILDERS`)
arranges them better."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from generator.facts import CardFacts
from generator.schema import CARD_KINDS, Card
from generator.schema.card import HasCitations, HasLicense, HasRepo, HasSmokeTest, HasWalkthrough
from generator.schema.common import MARKDOWN_FORMAT
from generator.sections import common
from generator.sections.model import (
    Block,
    Bullets,
    Facts,
    Prose,
    Row,
    Section,
    Span,
    Style,
    Value,
    row,
    section,
)

SHOWN_ELSEWHERE = {"schema_version", "id", "name", "summary", "related", "assets"}
"""Fields every card has (the page's title and summary) or that other sections show."""

TRAIT_FIELDS: dict[type, set[str]] = {
    HasLicense: {"license", "weights_license", "license_notes"},
    HasRepo: {"repo"},
    HasWalkthrough: {"walkthrough"},
    HasSmokeTest: {"smoke_test"},
    HasCitations: {"citations"},
}
"""Fields a mixin's sections show."""


def sections(card: Card, facts: CardFacts) -> list[Section | None]:
    skip = set(SHOWN_ELSEWHERE)
    for trait, names in TRAIT_FIELDS.items():
        if isinstance(card, trait):
            skip |= names
    details: list[Row | None] = []
    own: list[Section | None] = []
    for name, info in type(card).model_fields.items():
        if name in skip:
            continue
        value = getattr(card, name)
        if _scalar(value) and not (isinstance(value, str) and _markdown(info)):
            details.append(row(_title(name), _shown(value, info)))
        else:
            own.append(section(name.replace("_", "-"), _title(name), *_blocks(value, info)))
    kind = CARD_KINDS.get(facts.kind)
    return [
        common.metadata(card, facts, [row("Kind", (kind.singular if kind else facts.kind).capitalize())]),
        section("details", "Details", Facts.of(*details)),
        *own,
        common.walkthrough(card, facts),
        common.smoke(card, facts),
        common.citations(card, template=False),
        common.related(facts),
    ]


def _title(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _markdown(info: FieldInfo | None) -> bool:
    if info is None:
        return False
    extra = [info.json_schema_extra, *(getattr(m, "json_schema_extra", None) for m in info.metadata)]
    return MARKDOWN_FORMAT in extra or any(
        getattr(m, "json_schema_extra", None) == MARKDOWN_FORMAT
        for a in typing.get_args(info.annotation)
        for m in typing.get_args(a)[1:]
    )


def _shown(value: Any, info: FieldInfo | None) -> Value:
    if value is None or value == "":
        return ()
    if isinstance(value, bool):
        return (Span("yes" if value else "no"),)
    return (Span(str(value), "markdown" if _markdown(info) else "text"),)


def _blocks(value: Any, info: FieldInfo | None) -> list[Block]:
    if isinstance(value, str):
        return [Prose(text=value)] if _markdown(info) else [Bullets.of([value], style="text")]
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        scalars = [(n, getattr(value, n)) for n in fields if _scalar(getattr(value, n))]
        nested = [(n, getattr(value, n)) for n in fields if not _scalar(getattr(value, n))]
        out: list[Block] = [Facts.of(*(row(_title(n), _shown(v, fields[n])) for n, v in scalars))]
        for n, v in nested:
            out += [b for b in _blocks(v, fields[n]) if not b.empty()]
        return out
    if isinstance(value, (list, tuple)):
        style: Style = "markdown" if _markdown(info) else "text"
        return [Bullets.of([_item(v) if not isinstance(v, str) else v for v in value], style=style)]
    if isinstance(value, dict):
        return [Facts.of(*(row(str(k), str(v)) for k, v in value.items()))]
    return [Bullets.of([str(value)], style="text")]


def _item(value: Any) -> Value:
    """One item of a list of objects, on one line: `key: value; ...`."""
    if isinstance(value, BaseModel):
        parts = [f"{n}: {v}" for n, v in value.model_dump(mode="json").items() if v not in (None, "", [], {})]
        return (Span("; ".join(parts)),)
    return (Span(str(value)),)

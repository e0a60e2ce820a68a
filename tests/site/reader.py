"""What a reader of the site and the PDFs must not meet, derived from the product rather than listed by
hand: the schema's enumerated values as the card writes them (before their words), the `kb` commands,
and the folders a build works in. The pages written for authors (the card format, contributing) may
show all of these."""

from __future__ import annotations

import re
import typing
from pathlib import Path
from types import UnionType
from typing import Any, Literal

from lxml import html
from pydantic import BaseModel

from generator.cli import COMMANDS
from generator.layout import Layout
from generator.schema import CARD_KINDS
from generator.schema.labels import VALUE_WORDS
from generator.settings import Project

AUTHOR_PAGES = {Layout.CATALOG_PAGES["card_format"], "contributing.md"}
"""Pages for the people who write cards (docs_dir-relative): commands and folders belong there."""

ISSUE_WORDING = ("Stage:", "Generated from the", "rendered by", "Related Cards")
"""Builder wording a reader once met on these pages (issue 27), beside the commands and folders."""


def enumerated_fields() -> dict[str, tuple[str, ...]]:
    """`Class.field` -> its allowed values, for every enumerated (Literal) text field of every card
    kind's schema, nested objects included."""
    out: dict[str, tuple[str, ...]] = {}
    seen: set[type[BaseModel]] = set()

    def walk(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, info in model.model_fields.items():
            for tp in _leaves(info.annotation):
                if typing.get_origin(tp) is Literal:
                    values = tuple(v for v in typing.get_args(tp) if isinstance(v, str))
                    if values:
                        out[f"{model.__name__}.{name}"] = values
                elif isinstance(tp, type) and issubclass(tp, BaseModel):
                    walk(tp)

    for kind in CARD_KINDS.values():
        walk(kind.model)
    return out


def _leaves(tp: Any) -> list[Any]:
    """The types inside an annotation (`list[X] | None` -> [X, NoneType]), Literals kept whole."""
    origin = typing.get_origin(tp)
    if origin is Literal or origin is None:
        return [tp]
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return _leaves(args[0])
    if origin in (typing.Union, UnionType, list, tuple, dict):
        return [leaf for a in args for leaf in _leaves(a)]
    return [tp]


def raw_values() -> dict[str, str]:
    """Each enumerated value that pages show in other words -> the field it belongs to."""
    fields = enumerated_fields()
    return {
        value: key
        for key, words in VALUE_WORDS.items()
        for value in fields[key]
        if words.get(value, value) != value
    }


def compound(value: str) -> bool:
    """A raw value no sentence writes (`joint-embedding`, `hub_mean`): looked for in the whole text."""
    return bool(re.search(r"[-_]", value))


def authors_words(kb_dir: Path) -> set[str]:
    """The compound raw values the cards' own prose uses as words (`replaces k-mer tokenization`): the
    author's, not the product's (the `key: value` lines that set them are not prose)."""
    prose = ""
    for path in sorted(kb_dir.rglob("*.yaml")):
        if not Layout.is_lock_file(path):
            prose += path.read_text(encoding="utf-8")
    return {
        v
        for v in raw_values()
        if compound(v)
        and word_pattern(v).search(re.sub(rf"(?m)^\s*(- )?[\w-]+:\s*{re.escape(v)}\s*$", "", prose))
    }


def word_pattern(value: str) -> re.Pattern[str]:
    """`value` as a whole word (not inside `non-joint-embedding` or `hub_mean_x`), case as written."""
    return re.compile(rf"(?<![\w-]){re.escape(value)}(?![\w-])")


LICENSE_REF = re.compile(r"\bLicenseRef-")
"""A custom SPDX id: the schema's way of writing a license, never a reader's."""


def builder_words(project: Project) -> list[re.Pattern[str]]:
    """The `kb` commands (`kb smoke`, `kb checkpoints pull`...) and the folders a build works in
    (`external_repos/`, `artifacts/`, the cache), as they would appear in text."""
    layout = project.layout
    folders = [project.rel(layout.external_repos_dir), project.rel(layout.artifacts_dir), Layout.CACHE_FOLDER]
    return [
        re.compile(rf"\bkb (?:{'|'.join(map(re.escape, COMMANDS))})\b"),
        *(re.compile(rf"(?<![\w.-]){re.escape(f)}/") for f in folders),
        *(re.compile(re.escape(w)) for w in ISSUE_WORDING),
    ]


def reader_pages(site: Path) -> list[Path]:
    """Every built page a reader may open (the authors' pages left out)."""
    authors = {Layout.built_page(site, p).resolve() for p in AUTHOR_PAGES}
    return [p for p in sorted(site.rglob("*.html")) if p.resolve() not in authors and p.name == "index.html"]


def article(path: Path) -> html.HtmlElement | None:
    return html.parse(str(path)).getroot().find(".//article")

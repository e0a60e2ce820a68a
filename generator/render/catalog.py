"""Catalog pages across all cards: per-kind indexes, models by modality, the comparison table, the
model-selection guide, downloads, tags, and the card-format reference generated from the schema."""

from __future__ import annotations

import re
import typing
from collections import Counter
from dataclasses import dataclass
from types import UnionType
from typing import Any

from pydantic import BaseModel

from generator.layout import Layout
from generator.render import views
from generator.render.context import Site
from generator.schema import CARD_KINDS
from generator.schema.common import MARKDOWN_FORMAT, param_count_value
from generator.schema.labels import MODALITY_LABELS, context_label, context_numbers, tokenizer_short


def catalog_link(page: str, name: str) -> str:
    return Layout.relative(page, Layout.CATALOG_PAGES[name])


def context_short(tok: Any) -> str:
    """A model's context window in numbers only (`131,072 bp`, `450 ROIs x 160 timepoints` when the card
    gives only words); the card's description is the footnote."""
    if tok is None:
        return ""
    # One token per base: the length in bp says it all.
    return context_numbers(tok, tokens_beside_bases=False) or short_and_note(str(tok.context.description))[0]


def _context_note(tok: Any) -> str:
    if tok is None or not tok.context.description:
        return ""
    short = context_short(tok)
    words = str(tok.context.description)
    return "" if words == short else words


def short_and_note(text: str) -> tuple[str, str]:
    """`~3 GB (a benchmark's table, for X)` -> (`~3 GB`, `a benchmark's table, for X`): the figure for a
    table cell, the rest for its footnote."""
    text = " ".join(text.split())
    m = re.match(r"(.*?)\s*(?:\(|;|,| with |$)", text)
    short = m.group(1).strip() if m else ""
    if not short or short == text:
        return text, ""
    rest = text[len(short) :].strip()
    if rest.startswith("("):
        inner, _, after = rest[1:].partition(")")
        rest = "; ".join(s for s in (inner.strip(), after.strip(" ;,")) if s)
    return short, rest.strip(" ;,")


def tokenization_label(tok: Any) -> str:
    return "" if tok is None else tokenizer_short(tok.kind, tok.k)


@dataclass
class ModelRow:
    """One model in the catalog tables (the comparison table's columns)."""

    id: str
    name: str
    link: str
    summary: str
    modality: str
    type: str
    family: str
    parameters: str
    context: str
    tokenization: str
    embedding_dim: str
    vram: str
    license: str
    sort_params: int
    code_license: str = ""
    """The code license in words (`views.license_words`)."""
    weights_license: str = ""
    """The weights license in words, or "same as code"."""
    license_words: str = ""
    """Both in one phrase: `Apache-2.0 (code), CC-BY-NC-ND-4.0 (weights)`, or the one license."""
    needs_cuda: bool = False
    smoke: str = ""
    """The smoke test's state: passed (or "passed, not verified"), failed, stale, skipped, not run."""
    context_short: str = ""
    """The context window in numbers (`context_short`); the card's sentence goes in a footnote."""
    vram_short: str = ""
    """The inference VRAM figure (`short_and_note`); the rest of the sentence goes in a footnote."""
    vram_note: str = ""
    context_note: str = ""
    """The card's description of the context window, when the cell shows numbers."""


def model_rows(site: Site, page: str) -> list[ModelRow]:
    kind = CARD_KINDS["model"]
    rows = []
    for loaded in site.kb.models:
        c = loaded.card
        a = c.architecture
        dim = a.embedding_dim or a.hidden_size
        facts = site.facts.of(loaded)
        rows.append(
            ModelRow(
                id=loaded.id,
                name=str(c.name),
                link=Layout.relative(page, Layout.page_path(kind, loaded.id)),
                summary=str(c.summary),
                modality=str(c.modality),
                type=str(a.model_type or ""),
                family=str(a.family or ""),
                parameters=str(a.parameters or ""),
                context=context_label(c.tokenization),
                tokenization=tokenization_label(c.tokenization),
                embedding_dim=str(dim or ""),
                vram=str(c.deployment.vram_inference or ""),
                license=facts.license_label,
                sort_params=param_count_value(a.parameters) or 0,
                code_license=views.license_words(c.license),
                weights_license=(
                    views.license_words(c.weights_license)
                    if c.weights_license and c.weights_license != c.license
                    else "same as code"
                ),
                license_words=views.license_words(facts.license_label),
                needs_cuda=bool(c.deployment.requires_cuda),
                smoke=getattr(facts.smoke, "label", "") or "",
                context_short=context_short(c.tokenization),
                context_note=_context_note(c.tokenization),
                vram_short=short_and_note(str(c.deployment.vram_inference or ""))[0],
                vram_note=short_and_note(str(c.deployment.vram_inference or ""))[1],
            )
        )
    return rows


SMOKE_TALLY = (
    ("passed", "passed", True),
    ("passed, not verified", "passed without a trusted signature", False),
    ("failed", "failed", True),
    ("stale", "stale (the card or its checkpoint changed since)", False),
    ("skipped", "skipped (needs CUDA)", False),
    ("not run", "not run", True),
    ("", "declare no smoke test", False),
)
"""(smoke state, words, shown even when 0) in the order the home page tallies them."""


def smoke_tally(rows: list[ModelRow]) -> list[str]:
    """How many models' smoke tests passed, failed or have not run, from the facts of this build."""
    counts = Counter(row.smoke for row in rows)
    return [f"{counts[state]} {words}" for state, words, always in SMOKE_TALLY if always or counts[state]]


def by_modality(rows: list[ModelRow]) -> list[tuple[str, list[ModelRow]]]:
    groups: dict[str, list[ModelRow]] = {}
    for row in rows:
        groups.setdefault(row.modality, []).append(row)
    order = list(MODALITY_LABELS)
    return [
        (MODALITY_LABELS.get(m, m), sorted(groups[m], key=lambda r: r.name.lower()))
        for m in sorted(groups, key=lambda m: order.index(m) if m in order else len(order))
    ]


def selection_guide(site: Site, page: str) -> dict[str, Any]:
    """Tasks -> the models that are a good first choice for them, and what to avoid each model for."""
    kind = CARD_KINDS["model"]
    best: dict[str, list[tuple[str, str]]] = {}
    avoid = []
    for loaded in site.kb.models:
        sel = loaded.card.selection
        link = Layout.relative(page, Layout.page_path(kind, loaded.id))
        for task in sel.best_for:
            best.setdefault(task, []).append((str(loaded.card.name), link))
        if sel.avoid_for:
            avoid.append((str(loaded.card.name), link, list(sel.avoid_for)))
    return {"best": sorted(best.items(), key=lambda kv: kv[0].lower()), "avoid": avoid}


def downloads(site: Site, page: str) -> list[tuple[str, str, str]]:
    """(model name, card page link, PDF link) for every model whose PDF exists."""
    out = []
    for loaded in site.kb.all():
        if site.pdf_file(loaded.id):
            out.append(
                (
                    str(loaded.card.name),
                    Layout.relative(page, Layout.page_path(loaded.kind, loaded.id)),
                    Layout.relative(page, Layout.site_pdf_path(loaded.id)),
                )
            )
    return out


def kind_index(site: Site, kind_name: str) -> list[tuple[str, str, str]]:
    """(name, link, summary) of every card of a kind, for its index page."""
    kind = CARD_KINDS[kind_name]
    page = Layout.index_page(kind)
    return [
        (str(c.card.name), Layout.relative(page, Layout.page_path(kind, c.id)), c.card.summary)
        for c in site.kb.of_kind(kind_name)
    ]


def kind_cards(site: Site, kind_name: str) -> list[tuple[str, Any]]:
    """(link, card) of every card of a kind, for index pages that show more than the summary."""
    kind = CARD_KINDS[kind_name]
    page = Layout.index_page(kind)
    return [(Layout.relative(page, Layout.page_path(kind, c.id)), c.card) for c in site.kb.of_kind(kind_name)]


# --- the card-format reference ------------------------------------------------------------------


@dataclass
class FieldDoc:
    name: str
    type: str
    required: bool
    default: str
    description: str


@dataclass
class SchemaSection:
    """One schema object of the reference page: its title, docstring and fields."""

    name: str
    anchor: str
    doc: str
    fields: list[FieldDoc]


def schema_reference() -> list[tuple[str, str, list[SchemaSection]]]:
    """(kind title, card folder, sections) for every card kind, walking nested schema objects once."""
    out = []
    seen: set[type[BaseModel]] = set()
    for kind in CARD_KINDS.values():
        sections: list[SchemaSection] = []
        _walk(kind.model, sections, seen)
        out.append((kind.title, kind.folder, sections))
    return out


def _walk(model: type[BaseModel], sections: list[SchemaSection], seen: set[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.add(model)
    fields = []
    nested: list[type[BaseModel]] = []
    for name, info in model.model_fields.items():
        required = info.is_required()
        default = "" if required else _default(info)
        kind = "Markdown" if _is_markdown(info) else _type_name(info.annotation, nested)
        fields.append(FieldDoc(name, kind, required, default, " ".join((info.description or "").split())))
    sections.append(
        SchemaSection(model.__name__, model.__name__.lower(), " ".join((model.__doc__ or "").split()), fields)
    )
    for sub in nested:
        _walk(sub, sections, seen)


def _default(info: Any) -> str:
    value = info.get_default(call_default_factory=True)
    if value is None or value == [] or value == {} or value == "":
        return ""
    if isinstance(value, BaseModel):
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, str) else str(value)


def _type_name(tp: Any, nested: list[type[BaseModel]]) -> str:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return "Markdown" if any(_is_markdown(m) for m in args[1:]) else _type_name(args[0], nested)
    if origin in (typing.Union, UnionType):
        parts = [_type_name(a, nested) for a in args if a is not type(None)]
        return " or ".join(parts)
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin is list:
        return "list of " + _type_name(args[0], nested)
    if origin is tuple:
        return "pair of " + _type_name(args[0], nested) if len(args) == 2 else "tuple"
    if origin is dict:
        return "mapping"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if tp not in nested:
            nested.append(tp)
        return f"[{tp.__name__}](#{tp.__name__.lower()})"
    names = {str: "text", int: "integer", float: "number", bool: "true/false"}
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def _is_markdown(info: Any) -> bool:
    """A field (or list item) typed `Markdown` (`generator.schema.common`): every other text is plain."""
    return getattr(info, "json_schema_extra", None) == MARKDOWN_FORMAT

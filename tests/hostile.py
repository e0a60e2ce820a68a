"""A hostile knowledge base: every payload of tests/data/hostile/payloads.yaml in every text field of
every card kind.

The kinds and their cards come from their declarations (`generator.schema.CARD_KINDS`): each kind's
example card (`CardKind.example`, every optional field filled) is the base its hostile cards are made
from, and the examples themselves are written too, so that every reference resolves. A kind declared
tomorrow is in the corpus without this file changing.

`placements()` writes, per kind, a few cards that each hold `GROUP` payloads per text field (card k
puts payloads j+4k .. j+4k+3 in its j-th text field, so each field sees each payload) and one card
per pair of "row" payloads alternating field by field (so neighbouring fields on one Markdown line
or table row hold an unpaired backtick and a backtick-delimited payload).
A field whose schema refuses a payload keeps its valid value.
"""

from __future__ import annotations

import copy
import re
import types
import typing
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from generator.schema import CARD_KINDS
from generator.schema.derived import FineTunedCard, SAECard, split_name
from tests.factory import REPO_ROOT, write_yaml

DATA = Path(__file__).resolve().parent / "data" / "hostile"

ROW_PAIRS = [("x `", "`<img src=x onerror=alert(90)>` y"), ("`", "<img src=x onerror=alert(91)>`")]
"""Backticks that pair only across two fields sharing a line or a table row."""

GROUP = 4
"""Payloads per field (as paragraphs of one text; one-line fields join them into one line)."""

KEEP = {"id", "schema_version"}
NAME_PARTS = {("name",), ("base_model", "short_name"), ("sae", "layer"), ("domain",)}
"""Fields a derived card's name must agree with (seed-003 names): they keep their values."""


LINKS_TO_NOWHERE = ("alert(12)", "alert(23)")
"""Markers of the payloads whose Markdown link, once its unsafe scheme is defused, points at a page that
does not exist: `[x](JaVa<tab>ScRiPt:...)` (one-line fields join the tab into a space; multi-line ones
write `unsafe-JaVa<tab>ScRiPt:`) and `[x](<javascript: ...>)` (`<unsafe-javascript: ...>`). Browsers
read both as relative links; `kb build`'s link check rightly refuses to publish a link to nowhere."""


def payloads(*, links_to_nowhere: bool = True) -> list[str]:
    data = YAML(typ="safe", pure=True).load((DATA / "payloads.yaml").read_text(encoding="utf-8"))
    return [str(p) for p in data if links_to_nowhere or not any(m in str(p) for m in LINKS_TO_NOWHERE)]


def markers_in(texts: Iterable[str]) -> list[str]:
    """The markers (`alert(12)`) of the payloads among `texts`: each must be shown as text."""
    return sorted({m for t in texts for m in re.findall(r"alert\(\d+\)", t)})


def shipped(folder: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe", pure=True).load(
        (REPO_ROOT / "kb" / folder / name).read_text(encoding="utf-8")
    )
    return data


def base_cards() -> dict[str, dict[str, Any]]:
    """A valid card of each declared kind, with every optional text field filled: its example."""
    return {name: copy.deepcopy(dict(kind.example)) for name, kind in CARD_KINDS.items()}


def derived(kind: str) -> bool:
    """A kind whose card names follow the seed-003 grammar (their parts must agree with the fields)."""
    return issubclass(CARD_KINDS[kind].model, (SAECard, FineTunedCard))


def identity(kind: str, card: dict[str, Any], k: int) -> None:
    """Unique id (and, for derived cards, the name that must agree with it: a new token count)."""
    if not derived(kind):
        card["id"] = f"hostile-{kind}-{k}"
        return
    parts = split_name(kind, str(card["name"]))
    assert parts is not None
    card["training"]["tokens"] = f"{k + 1}M"
    middle = [parts.middle, parts.expansion] if parts.expansion else [parts.middle]
    card["name"] = "_".join([parts.base, *middle, f"{k + 1}M"])
    card["id"] = card["name"].lower()


def text_fields(kind: str, data: Any, loc: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    refs = {tuple(p) for p, _ in CARD_KINDS[kind].refs}
    if isinstance(data, str):
        pattern = tuple("*" if isinstance(p, int) else p for p in loc)
        if loc and loc[-1] not in KEEP and pattern not in refs and not (derived(kind) and loc in NAME_PARTS):
            yield loc
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from text_fields(kind, value, (*loc, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from text_fields(kind, value, (*loc, i))


def is_markdown(kind: str, loc: tuple[str | int, ...]) -> bool:
    """Whether the card format types the field at `loc` as Markdown (`generator.schema.common.Markdown`);
    every other text field is plain text."""
    from generator.schema.common import MARKDOWN_FORMAT

    tp: Any = CARD_KINDS[kind].model
    extra: Any = None
    for part in loc:
        while typing.get_origin(tp) in (typing.Union, types.UnionType):
            tp = next(a for a in typing.get_args(tp) if a is not type(None))
        if isinstance(part, int) or typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[-1]
            extra = None
        else:
            info = tp.model_fields[part]
            tp, extra = info.annotation, info.json_schema_extra
        if typing.get_origin(tp) is typing.Annotated:
            extra = next(
                (
                    m.json_schema_extra
                    for m in typing.get_args(tp)[1:]
                    if getattr(m, "json_schema_extra", None)
                ),
                None,
            )
            tp = typing.get_args(tp)[0]
    return bool(extra == MARKDOWN_FORMAT)


def set_field(data: Any, loc: tuple[str | int, ...], value: str) -> None:
    for part in loc[:-1]:
        data = data[part]
    data[loc[-1]] = value


def accepts(kind: str, base: dict[str, Any], loc: tuple[str | int, ...], value: str) -> bool:
    from pydantic import ValidationError

    card = copy.deepcopy(base)
    set_field(card, loc, value)
    try:
        CARD_KINDS[kind].model.model_validate(card)
    except ValidationError:
        return False
    return True


def placements(
    root: Path, *, links_to_nowhere: bool = True, kinds: Iterable[str] | None = None
) -> dict[str, list[str]]:
    """Write the hostile cards of `kinds` (default: every declared kind) into `root/kb/`, beside every
    kind's example; returns, per card id, the payloads it holds (without `links_to_nowhere`, none of
    LINKS_TO_NOWHERE)."""
    items = payloads(links_to_nowhere=links_to_nowhere)
    held: dict[str, list[str]] = {}
    write_examples(root)
    chosen = set(CARD_KINDS if kinds is None else kinds)
    for kind, base in base_cards().items():
        if kind not in chosen:
            continue
        fields = list(text_fields(kind, base))
        rounds = -(-len(items) // GROUP)
        cards: list[list[str]] = [
            [
                "\n\n".join(items[(j + k * GROUP + g) % len(items)] for g in range(GROUP))
                for j in range(len(fields))
            ]
            for k in range(rounds)
        ]
        cards += [[pair[j % 2] for j in range(len(fields))] for pair in ROW_PAIRS]
        for k, chosen in enumerate(cards):
            card = copy.deepcopy(base)
            identity(kind, card, k)
            placed = []
            for loc, value in zip(fields, chosen, strict=True):
                if accepts(kind, base, loc, value):
                    set_field(card, loc, value)
                    placed.append(value)
            write_yaml(root / "kb" / CARD_KINDS[kind].folder / f"{card['id']}.yaml", card)
            held[card["id"]] = placed
    return held


def write_examples(root: Path) -> None:
    """Every kind's example card, as it is: the cards the hostile ones point at."""
    for kind in CARD_KINDS.values():
        write_yaml(root / "kb" / kind.folder / f"{kind.example['id']}.yaml", dict(kind.example))

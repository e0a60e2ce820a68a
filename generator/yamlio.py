"""Reading card YAML (1.2, via ruamel.yaml) into plain data plus a map from field path to line/column.

Nothing here raises on bad input: problems come back as `Problem`s naming the file and place.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from generator.problems import Problem

_CLoader: Any = getattr(yaml, "CSafeLoader", None)
"""libyaml's C loader, when PyYAML was built with it; otherwise every file takes the exact path."""

if _CLoader is not None:
    class _FastLoader(_CLoader):  # defined only when PyYAML was built with libyaml
        """libyaml composition without PyYAML's YAML 1.1 tag resolution (`_scalar` resolves 1.2)."""

        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            return ""

MAX_BYTES = 1024 * 1024
"""Cards larger than 1 MiB are refused: no card needs that, and it bounds the work of a build."""

FieldPath = tuple[str | int, ...]


@dataclass
class Document:
    """One parsed YAML file: its data (None when unreadable) and where each field sits."""

    path: str
    data: Any = None
    positions: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    source: str = ""

    lazy_positions: bool = False
    """Positions were skipped on the fast path; they are computed on the first `locate`."""

    def locate(self, loc: FieldPath) -> tuple[int, int]:
        """Line and column of a field, or of its nearest enclosing field that exists."""
        if self.lazy_positions:
            self.lazy_positions = False
            located = Document(self.path)
            _Builder(located).build(yaml.compose(self.source, Loader=_FastLoader), ())
            self.positions = located.positions
        loc = tuple(loc)
        while loc:
            if loc in self.positions:
                return self.positions[loc]
            loc = loc[:-1]
        return self.positions.get((), (1, 1))


def _yaml() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.version = (1, 2)  # `no`, `on`, `yes` stay strings
    return yaml


def read_document(path: Path, display: str | None = None) -> Document:
    """Read and parse one card file, collecting encoding, size and syntax problems."""
    name = display or str(path)
    doc = Document(name)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        doc.problems.append(Problem(name, f"cannot read the file: {exc.strerror}", line=1, col=1))
        return doc
    if len(raw) > MAX_BYTES:
        doc.problems.append(Problem(
            name, f"the file is {len(raw):,} bytes; cards are limited to 1 MiB", line=1, col=1,
            hint="move large content (code, tables) to files under kb/assets/"))
        return doc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        doc.problems.append(Problem(
            name, f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})", line=line, col=col,
            hint="save the file as UTF-8"))
        return doc
    doc.source = text
    return parse_text(text, doc)


_NODE_PROPERTY = re.compile(r"(?m)(?::[ \t]+|^[ \t]*(?:-[ \t]+)*|[\[{,][ \t]*)[&*!]|<<")
"""Where an anchor, alias, explicit tag or merge key could start: such files take the exact path."""
_PROPERTY_MARK = re.compile(r"[&*!]|<<")
_PROPERTY_BEFORE = re.compile(r"(?m)(?::[ \t]+|^[ \t]*(?:-[ \t]+)*|[\[{,][ \t]*)\Z")


def _has_node_property(text: str) -> bool:
    """`_NODE_PROPERTY.search(text)`, about 3x faster: find the rare `&*!<<` characters first, then look
    back on their line only (the pattern has no literal prefix, so `re` tried it at every position)."""
    for mark in _PROPERTY_MARK.finditer(text):
        if mark.group() == "<<":
            return True
        start = mark.start()
        if _PROPERTY_BEFORE.search(text, text.rfind("\n", 0, start) + 1, start):
            return True
    return False


def parse_text(text: str, doc: Document) -> Document:
    """Parse YAML text into `doc`: data, positions and problems.

    Clean files take a fast path (libyaml's C composer through PyYAML, with YAML 1.2 scalar rules
    applied here, so both paths give the same data). Anything unusual, and every file with a problem,
    goes through ruamel.yaml, whose messages and anchor handling are exact.
    """
    if _CLoader is not None and not _has_node_property(text):
        fast = Document(doc.path, source=text, lazy_positions=True)
        try:
            node = yaml.compose(text, Loader=_FastLoader)
        except yaml.YAMLError:
            node = None
        if node is not None:
            fast.data = _Builder(fast, positions=False).build(node, ())
            if not fast.problems:
                return fast
    return _parse_exact(text, doc)


def _parse_exact(text: str, doc: Document) -> Document:
    try:
        node = _yaml().compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or exc.context or "invalid YAML"
        doc.problems.append(Problem(doc.path, f"YAML syntax error: {what}", line=line, col=col))
        return doc
    except Exception as exc:  # ruamel raises a few unmarked errors (e.g. composer errors on streams)
        doc.problems.append(Problem(doc.path, f"YAML error: {exc}", line=1, col=1))
        return doc
    if node is None:
        doc.problems.append(Problem(doc.path, "the file is empty", line=1, col=1))
        return doc
    builder = _Builder(doc)
    doc.data = builder.build(node, ())
    return doc


class _Builder:
    """Turns composed nodes into plain Python data, refusing anchors, aliases and duplicate keys."""

    def __init__(self, doc: Document, positions: bool = True):
        self.doc = doc
        self.record = positions
        self.built: dict[int, Any] = {}

    def _pos(self, node: Any) -> tuple[int, int]:
        return node.start_mark.line + 1, node.start_mark.column + 1

    def _problem(self, node: Any, path: FieldPath, message: str, hint: str = "") -> None:
        line, col = self._pos(node)
        self.doc.problems.append(Problem(
            self.doc.path, message, field=dotted(path), line=line, col=col, hint=hint))

    def build(self, node: Any, path: FieldPath) -> Any:
        if id(node) in self.built:
            # An alias resolves to the anchored node itself; report it where the alias is used.
            line, col = self.doc.positions.get(path, self._pos(node))
            self.doc.problems.append(Problem(
                self.doc.path, "YAML aliases (*name) are not allowed in cards", field=dotted(path),
                line=line, col=col, hint="write the value out in full"))
            return self.built[id(node)]  # keep validating the rest as if it were written out
        self.built[id(node)] = None
        if getattr(node, "anchor", None):
            self._problem(node, path, "YAML anchors (&name) are not allowed in cards",
                          hint="write each value out in full")
        if self.record:
            self.doc.positions.setdefault(path, self._pos(node))
        value: Any
        if node.id == "mapping":
            value = self._mapping(node, path)
        elif node.id == "sequence":
            value = [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        else:
            value = _scalar(node)
        self.built[id(node)] = value
        return value

    def _mapping(self, node: Any, path: FieldPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag.endswith(":merge"):
                self._problem(key_node, path, "YAML merge keys (<<) are not allowed in cards")
                continue
            key = _scalar(key_node) if key_node.id == "scalar" else None
            if not isinstance(key, str):
                self._problem(key_node, path, f"keys must be strings, not {key!r}")
                continue
            child = (*path, key)
            if key in out:
                self._problem(key_node, child,
                              f"duplicate key '{key}' (first given on line {first_line[key]})",
                              hint="keep one of them")
                continue
            first_line[key] = key_node.start_mark.line + 1
            if self.record:
                self.doc.positions[child] = self._pos(key_node)
            out[key] = self.build(value_node, child)
        return out


_MAYBE_NOT_STRING = frozenset("0123456789+-.~nNtTfF")
_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_SPECIAL_FLOAT = re.compile(r"[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")


def _scalar(node: Any) -> Any:
    """A scalar under the YAML 1.2 core schema (`no`, `on`, `yes` and dates stay strings).

    Quoted and block scalars are strings; only plain ones are resolved. Both parsers' nodes carry
    `style` (None for plain), so one rule serves both paths.
    """
    value: str = node.value
    if node.style or not isinstance(value, str):
        return value
    if value and value[0] not in _MAYBE_NOT_STRING:
        return value  # prose and identifiers: most scalars of a card
    if _NULL.fullmatch(value):
        return None
    if _BOOL.fullmatch(value):
        return value.lower() == "true"
    if _INT.fullmatch(value):
        return int(value, 0) if value[:2] in ("0o", "0x") else int(value, 10)
    if _FLOAT.fullmatch(value):
        return float(value)
    if _SPECIAL_FLOAT.fullmatch(value):
        low = value.lower()
        return math.nan if "nan" in low else (-math.inf if low.startswith("-") else math.inf)
    return value


def dotted(path: FieldPath) -> str:
    """`('citations', 0, 'doi')` -> `citations[0].doi`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out

"""Reading card YAML (1.2, via ruamel.yaml) into plain data plus a map from field path to line/column.

Nothing here raises on bad input: problems come back as `Problem`s naming the file and place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from generator.problems import Problem

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

    def locate(self, loc: FieldPath) -> tuple[int, int]:
        """Line and column of a field, or of its nearest enclosing field that exists."""
        loc = tuple(loc)
        while loc:
            if loc in self.positions:
                return self.positions[loc]
            loc = loc[:-1]
        return self.positions.get((), (1, 1))


def _yaml() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.version = (1, 2)  # type: ignore[assignment]  # `no`, `on`, `yes` stay strings
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


def parse_text(text: str, doc: Document) -> Document:
    """Parse YAML text into `doc`: data, positions and problems."""
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

    def __init__(self, doc: Document):
        self.doc = doc
        self.built: dict[int, Any] = {}

    def _pos(self, node: Node) -> tuple[int, int]:
        return node.start_mark.line + 1, node.start_mark.column + 1

    def _problem(self, node: Node, path: FieldPath, message: str, hint: str = "") -> None:
        line, col = self._pos(node)
        self.doc.problems.append(Problem(
            self.doc.path, message, field=dotted(path), line=line, col=col, hint=hint))

    def build(self, node: Node, path: FieldPath) -> Any:
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
        self.doc.positions.setdefault(path, self._pos(node))
        value: Any
        if isinstance(node, MappingNode):
            value = self._mapping(node, path)
        elif isinstance(node, SequenceNode):
            value = [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        else:
            value = _scalar(node)
        self.built[id(node)] = value
        return value

    def _mapping(self, node: MappingNode, path: FieldPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag.endswith(":merge"):
                self._problem(key_node, path, "YAML merge keys (<<) are not allowed in cards")
                continue
            key = _scalar(key_node) if isinstance(key_node, ScalarNode) else None
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
            self.doc.positions[child] = self._pos(key_node)
            out[key] = self.build(value_node, child)
        return out


def _scalar(node: Node) -> Any:
    """YAML 1.2 core-schema scalars; timestamps stay strings (pydantic parses dates itself)."""
    value: str = node.value
    tag = node.tag or ""
    kind = tag.rsplit(":", 1)[-1]
    if kind == "null":
        return None
    if kind == "bool":
        return value.lower() == "true"
    if kind == "int":
        digits = value.replace("_", "")
        try:
            return int(digits, 0)
        except ValueError:
            return int(digits, 10)
    if kind == "float":
        low = value.lower().replace("_", "")
        if low.endswith(".inf"):
            return -math.inf if low.startswith("-") else math.inf
        if low.endswith(".nan"):
            return math.nan
        return float(low)
    return value


def dotted(path: FieldPath) -> str:
    """`('citations', 0, 'doi')` -> `citations[0].doi`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out

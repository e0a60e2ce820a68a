"""Reading card YAML (1.2, via ruamel.yaml) into plain data plus a map from field path to line/column.

Nothing here raises on bad input: problems come back as `Problem`s naming the file and place.
"""

from __future__ import annotations

import errno
import math
import os
import re
import stat
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

MAX_DEPTH = 50
"""Deeper nesting is refused before any parser recurses into it (a card nests about six levels)."""

MAX_VALUES = 100_000
"""Values a file may stand for once its aliases are expanded ("billion laughs" files are refused)."""

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
    what: str = "card"
    """What the file is, as messages name it ("card", "lock file")."""

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


def read_document(
    path: Path, display: str | None = None, *, inside: Path | None = None, what: str = "card"
) -> Document:
    """Read and parse one YAML file (a card, or a card's lock file: `what` names it in messages),
    collecting file, encoding, size and syntax problems.

    Only a regular file is read, and only when it (after following symbolic links) lies inside the
    folder `inside` (the knowledge base); its size is checked before reading, and at most
    `MAX_BYTES + 1` bytes are ever read.
    """
    name = display or str(path)
    doc = Document(name, what=what)
    raw = read_bounded(path, name, inside, doc.problems, what)
    if raw is None:
        return doc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        doc.problems.append(
            Problem(
                name,
                f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                line=line,
                col=col,
                hint="save the file as UTF-8",
            )
        )
        return doc
    doc.source = text
    return parse_text(text, doc)


def read_bounded(
    path: Path, name: str, inside: Path | None, problems: list[Problem], what: str = "card"
) -> bytes | None:
    """The bytes of a regular file of at most `MAX_BYTES` (inside the folder `inside`, when given), or
    None with the reason in `problems`, located at `name`: never a device, a pipe or a link loop, and
    never more than `MAX_BYTES + 1` bytes read. Any side file of a card (its lock file, its smoke
    report) is read this way."""

    def refuse(message: str, hint: str = "") -> None:
        problems.append(Problem(name, message, line=1, col=1, hint=hint))

    try:
        real = path.resolve(strict=True)
        info = os.stat(real)
    except RuntimeError:  # Python < 3.13 reports a symlink loop this way
        refuse("the file is a symbolic link loop", hint=f"point the link at a {what} file, or remove it")
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            refuse("the file is a symbolic link loop", hint=f"point the link at a {what} file, or remove it")
        else:
            refuse(f"cannot read the file: {exc.strerror}")
        return None
    if not stat.S_ISREG(info.st_mode):
        shown = f" ({real})" if real != Path(os.path.abspath(path)) else ""
        refuse(
            f"not a regular file{shown}: a device, a pipe, a socket or a folder; "
            f"only {what if what.endswith(' file') else what + ' file'}s are read",
            hint="remove it from the knowledge base",
        )
        return None
    if inside is not None and not real.is_relative_to(inside.resolve()):
        refuse(
            f"the file is a symbolic link to {real}, outside {inside.name}/: only files inside the "
            "knowledge base are read",
            hint="copy the card into the knowledge base instead of linking it",
        )
        return None
    if info.st_size > MAX_BYTES:
        refuse(
            f"the file is {info.st_size:,} bytes; {what}s are limited to 1 MiB",
            hint="move large content (code, tables) to files under kb/assets/",
        )
        return None
    try:
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)  # a file that grew since the stat is still read boundedly
    except OSError as exc:
        refuse(f"cannot read the file: {exc.strerror}")
        return None
    if len(raw) > MAX_BYTES:
        refuse(
            f"the file is larger than 1 MiB; {what}s are limited to 1 MiB",
            hint="move large content (code, tables) to files under kb/assets/",
        )
        return None
    return raw


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
    if _too_deep(text, doc):
        return doc
    if _CLoader is not None and not _has_node_property(text):
        fast = Document(doc.path, source=text, lazy_positions=True, what=doc.what)
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
        hint = ""
        if "mapping values are not allowed" in what:
            # The usual cause: a title or sentence with ": " in it, read as a key of a new mapping.
            hint = (
                "a value that contains ': ' must be quoted, e.g. title: \"Caduceus: bi-directional "
                'equivariant DNA models"'
            )
        doc.problems.append(Problem(doc.path, f"YAML syntax error: {what}", line=line, col=col, hint=hint))
        return doc
    except Exception as exc:  # ruamel raises a few unmarked errors (e.g. composer errors on streams)
        doc.problems.append(Problem(doc.path, f"YAML error: {exc}", line=1, col=1))
        return doc
    if node is None:
        doc.problems.append(Problem(doc.path, "the file is empty", line=1, col=1))
        return doc
    if _expanded_size(node) > MAX_VALUES:
        line, col = _first_alias(text)
        doc.problems.append(
            Problem(
                doc.path,
                f"YAML aliases (*name) make this file stand for more than {MAX_VALUES:,} values; "
                f"aliases are not allowed in {doc.what}s",
                line=line,
                col=col,
                hint="write each value out in full",
            )
        )
        return doc
    builder = _Builder(doc)
    doc.data = builder.build(node, ())
    return doc


def _too_deep(text: str, doc: Document) -> bool:
    """Refuse nesting deeper than `MAX_DEPTH` from the parser's events, before any composer recurses.

    Every level of nesting costs a column of indentation, a `- ` or a flow bracket, so most files are
    seen to be shallow without parsing them at all.
    """
    prefix = max((len(line) - len(line.lstrip(" -?")) for line in text.splitlines()), default=0)
    if 2 * prefix + text.count("[") + text.count("{") + 2 < MAX_DEPTH:
        return False
    depth = 0
    try:
        events = yaml.parse(text, Loader=_FastLoader) if _CLoader is not None else _yaml().parse(text)
        for event in events:
            name = type(event).__name__
            if name in ("MappingStartEvent", "SequenceStartEvent"):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    return _nests_too_deep(doc, *((mark.line + 1, mark.column + 1) if mark else (1, 1)))
            elif name in ("MappingEndEvent", "SequenceEndEvent"):
                depth -= 1
    except (yaml.YAMLError, MarkedYAMLError):
        # libyaml gives up on deep flow nesting before emitting events; count the brackets instead
        # (a syntax error otherwise: the parse below reports it, located).
        return _too_deep_flow(text, doc)
    return False


def _too_deep_flow(text: str, doc: Document) -> bool:
    depth = 0
    for m in re.finditer(r"[\[\]{}]", text):
        depth += 1 if m.group() in "[{" else -1
        if depth > MAX_DEPTH:
            line = text.count("\n", 0, m.start()) + 1
            return _nests_too_deep(doc, line, m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1)
    return False


def _nests_too_deep(doc: Document, line: int, col: int) -> bool:
    """Record the one "nests too deep" problem at LINE:COL; True (the file is refused)."""
    message = f"the YAML nests deeper than {MAX_DEPTH} levels; no {doc.what} needs that"
    doc.problems.append(Problem(doc.path, message, line=line, col=col, hint="flatten the structure"))
    return True


def _expanded_size(root: Any) -> int:
    """How many nodes the composed graph stands for with every alias expanded, without expanding."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:  # iterative post-order: no recursion, each shared node counted once
        node, done = stack.pop()
        if id(node) in sizes and not done:
            continue
        children = (
            [v for pair in node.value for v in pair]
            if node.id == "mapping"
            else list(node.value)
            if node.id == "sequence"
            else []
        )
        if done:
            sizes[id(node)] = min(MAX_VALUES + 1, 1 + sum(sizes.get(id(c), 0) for c in children))
            continue
        sizes[id(node)] = 0  # in progress (a recursive alias cannot be composed, but stay safe)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def _first_alias(text: str) -> tuple[int, int]:
    match = re.search(r"(?m)(?::[ \t]+|^[ \t]*(?:-[ \t]+)*|[\[{,][ \t]*)\*", text)
    if not match:
        return 1, 1
    line = text.count("\n", 0, match.end()) + 1
    return line, match.end() - (text.rfind("\n", 0, match.end()) + 1)


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
        self.doc.problems.append(
            Problem(self.doc.path, message, field=dotted(path), line=line, col=col, hint=hint)
        )

    def build(self, node: Any, path: FieldPath) -> Any:
        if len(path) > MAX_DEPTH:  # `_too_deep` refused such files already; never recurse further
            self._problem(node, path, f"the YAML nests deeper than {MAX_DEPTH} levels")
            return None
        if id(node) in self.built:
            # An alias resolves to the anchored node itself; report it where the alias is used.
            line, col = self.doc.positions.get(path, self._pos(node))
            self.doc.problems.append(
                Problem(
                    self.doc.path,
                    f"YAML aliases (*name) are not allowed in {self.doc.what}s",
                    field=dotted(path),
                    line=line,
                    col=col,
                    hint="write the value out in full",
                )
            )
            return self.built[id(node)]  # keep validating the rest as if it were written out
        self.built[id(node)] = None
        if getattr(node, "anchor", None):
            self._problem(
                node,
                path,
                f"YAML anchors (&name) are not allowed in {self.doc.what}s",
                hint="write each value out in full",
            )
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
                self._problem(key_node, path, f"YAML merge keys (<<) are not allowed in {self.doc.what}s")
                continue
            key = _scalar(key_node) if key_node.id == "scalar" else None
            if not isinstance(key, str):
                self._problem(key_node, path, f"keys must be strings, not {key!r}")
                continue
            child = (*path, key)
            if key in out:
                self._problem(
                    key_node,
                    child,
                    f"duplicate key '{key}' (first given on line {first_line[key]})",
                    hint="keep one of them",
                )
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

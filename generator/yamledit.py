"""Editing one value of a card's YAML text in place, whatever wrote the file.

A round trip through a YAML library rewrites what it does not reproduce (indentation, flow or block
style, quoting, line breaks, comments it drops), so an edit by round trip works only on files laid out
the way that library writes them. Here the file is parsed once to learn where each node starts and
ends (character offsets), and only the text of the value being set is replaced, or one entry is
inserted into its mapping, in the style around it: block or flow, the file's own indentation. Every
other byte of the file stays as it was, comments included.

The result is read back with the product's own loader and must hold exactly the data before the edit
with the one value changed; otherwise nothing is written and `EditError` says so.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from generator.exceptions import KBError

Path = tuple[str | int, ...]
"""A field path: mapping keys and sequence indexes from the top of the document."""

PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+/-]*")
"""Strings written without quotes when both YAML 1.1 and 1.2 read them back as the same string."""


class EditError(KBError):
    """The card cannot be edited automatically (the message says what to paste instead)."""


@dataclass
class _Place:
    """Where a value goes: its parent mapping node, its key node and value node when present."""

    parent: Any
    key: Any | None
    value: Any | None


def set_value(text: str, path: Path, value: Any) -> str:
    """`text` with the value at `path` set to `value` (a scalar, or a mapping of scalars); the parent
    mapping must exist. Raises EditError when the file cannot be edited this way."""
    from generator.yamlio import Document, parse_text

    before = parse_text(text, Document("card"))
    if before.problems or before.data is None:
        raise EditError("the file does not parse cleanly")
    root = yaml.compose(text, Loader=yaml.SafeLoader)  # pure Python: offsets count characters
    place = _find(root, path)
    if place.value is not None:
        edited = _replace(text, place, value, _step(root))
    else:
        edited = _insert(text, place, str(path[-1]), value, _step(root))
    after = parse_text(edited, Document("card"))
    expected = copy.deepcopy(before.data)
    _assign(expected, path, value)
    if after.problems or after.data != expected:
        raise EditError("the edited file would not read back as the same card with the one value changed")
    return edited


def _find(root: Any, path: Path) -> _Place:
    node = root
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if isinstance(part, int):
            if not isinstance(node, yaml.SequenceNode) or part >= len(node.value) or last:
                raise EditError(f"no item {part} to edit at {_dotted(path[: i + 1])}")
            node = node.value[part]
            continue
        if not isinstance(node, yaml.MappingNode):
            raise EditError(f"{_dotted(path[:i]) or 'the file'} is not a mapping")
        pair = next(
            ((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None
        )
        if last:
            return _Place(node, *(pair or (None, None)))
        if pair is None:
            raise EditError(f"no {_dotted(path[: i + 1])} to edit")
        node = pair[1]
    raise EditError("an empty path names no value")


def _replace(text: str, place: _Place, value: Any, step: int) -> str:
    old, key = place.value, place.key
    assert old is not None and key is not None
    block = isinstance(value, dict) and bool(value)
    if place.parent.flow_style or _is_flow(old):
        start, end, new = old.start_mark.index, _end(text, old), _flow(value)
    elif _is_block(old):
        # Whole lines: from the end of the key's line (a comment there stays) to the end of the old
        # value's last line; a scalar goes back on the key's line.
        end = _line_end(text, _end(text, old))
        if block:
            column = (
                old.start_mark.column if isinstance(old, yaml.MappingNode) else key.start_mark.column + step
            )
            start, new = _line_end(text, key.end_mark.index), _block(value, column)
        else:
            start, new = _after_colon(text, key), " " + _flow(value)
    elif _empty(old):  # `key:` with nothing after it (null)
        start = end = _after_colon(text, key)
        new = _block(value, key.start_mark.column + step) if block else " " + _flow(value)
    elif block:
        start, end = _after_colon(text, key), _end(text, old)
        new = _block(value, key.start_mark.column + step)
    else:
        start, end, new = old.start_mark.index, _end(text, old), _flow(value)
    return text[:start] + new + text[end:]


def _insert(text: str, place: _Place, key: str, value: Any, step: int) -> str:
    parent = place.parent
    if parent.flow_style:
        close = parent.end_mark.index - 1  # the closing brace
        head = text[:close].rstrip()
        sep = "" if not parent.value else " " if head.endswith(",") else ", "
        return head + f"{sep}{_key(key)}: {_flow(value)}" + text[close:]
    if not parent.value:
        raise EditError("an empty block mapping has no place to add to")
    column = parent.value[0][0].start_mark.column
    at = _line_end(text, _end(text, parent))
    entry = (
        f"{_key(key)}:{_block(value, column + step)}"
        if isinstance(value, dict) and value
        else f"{_key(key)}: {_flow(value)}"
    )
    return text[:at] + "\n" + " " * column + entry + text[at:]


def _end(text: str, node: Any) -> int:
    """Offset just after a node's last character of content (not its trailing comment or newline)."""
    if isinstance(node, yaml.ScalarNode):
        if node.style in ("|", ">"):  # a block scalar ends at the next line: back up to its content
            return len(text[: node.end_mark.index].rstrip())
        return int(node.end_mark.index)
    if _is_flow(node) or not node.value:
        return int(node.end_mark.index)
    if isinstance(node, yaml.MappingNode):
        key, last = node.value[-1]
        # An empty value (`key:`) is marked where the next token starts, maybe lines further down.
        return _after_colon(text, key) if _empty(last) else _end(text, last)
    return _end(text, node.value[-1])


def _empty(node: Any) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.value == "" and node.style is None


def _after_colon(text: str, key: Any) -> int:
    """Offset just after the ':' that follows a key."""
    colon = text.index(":", key.end_mark.index)
    return colon + 1


def _line_end(text: str, at: int) -> int:
    newline = text.find("\n", at)
    return len(text) if newline < 0 else newline


def _is_flow(node: Any) -> bool:
    return isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and bool(node.flow_style)


def _is_block(node: Any) -> bool:
    return (
        isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not node.flow_style and bool(node.value)
    )


def _step(root: Any) -> int:
    """The file's indentation step: how far the first nested block mapping sits right of its key."""
    stack = [root]
    while stack:
        node = stack.pop(0)
        if isinstance(node, yaml.MappingNode) and not node.flow_style:
            for key, value in node.value:
                if isinstance(value, yaml.MappingNode) and not value.flow_style and value.value:
                    return max(1, value.start_mark.column - key.start_mark.column)
                stack.append(value)
    return 2


def _block(mapping: dict[str, Any], indent: int) -> str:
    return "".join(f"\n{' ' * indent}{_key(k)}: {_flow(v)}" for k, v in mapping.items())


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if value is None:
        return "null"
    return _key(str(value))


def _key(text: str) -> str:
    """A string as a plain scalar where every YAML reader gives it back unchanged, else double-quoted."""
    if PLAIN.fullmatch(text) and _reads_as(text):
        return text
    return json.dumps(text)


def _reads_as(text: str) -> bool:
    from generator.yamlio import Document, parse_text

    try:
        old = yaml.safe_load(f"k: {text}")  # YAML 1.1, as PyYAML and many tools read it
    except yaml.YAMLError:
        return False
    new = parse_text(f"k: {text}\n", Document("value")).data  # YAML 1.2, as the product reads it
    return old == new == {"k": text}


def _assign(data: Any, path: Path, value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = copy.deepcopy(value)


def _dotted(path: Path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")

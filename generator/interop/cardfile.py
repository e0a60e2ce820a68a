"""Writing imported cards: readable YAML (multi-line text as `|` blocks), atomically, never over a
card that exists unless asked to."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from generator.exceptions import KBError
from generator.io import atomic_write_bytes


def card_yaml(data: dict[str, Any], header: str = "", kept: list[tuple[str, int, str]] | None = None) -> str:
    """The card as YAML text, with a header comment and the kept, unplaced parts as trailing comments."""
    from ruamel.yaml import YAML
    from ruamel.yaml.scalarstring import LiteralScalarString

    def blocks(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: blocks(v) for k, v in value.items()}
        if isinstance(value, list):
            return [blocks(v) for v in value]
        if isinstance(value, str) and "\n" in value:
            return LiteralScalarString(value.rstrip("\n") + "\n")
        return value

    yaml = YAML(typ="rt", pure=True)
    yaml.default_flow_style = False
    yaml.width = 110
    yaml.indent(mapping=2, sequence=4, offset=2)
    buf = io.StringIO()
    yaml.dump(blocks(data), buf)
    text = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines()) + buf.getvalue()
    for title, line, body in kept or []:
        where = f" (line {line})" if line else ""
        text += f"\n# --- kept from the source, section '{title}'{where}: no field holds it ---\n"
        text += "".join(f"# {row}".rstrip() + "\n" for row in body.splitlines())
    return text


class CardExists(KBError):
    """An import would overwrite an existing card."""


def write_card_file(path: Path, text: str, *, force: bool, display: str) -> None:
    """Write a new card atomically; an existing one is replaced only with `force`."""
    if path.exists() and not force:
        raise CardExists(f"{display} exists already: pass --force to replace it")
    atomic_write_bytes(path, text.encode("utf-8"))

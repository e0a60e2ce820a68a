"""The JSON Schema of each card kind, for editors (yaml-language-server) and `kb schema`."""

from __future__ import annotations

from typing import Any

from generator.schema import CARD_KINDS
from generator.schema.common import spdx_pattern

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema(kind: str = "model") -> dict[str, Any]:
    """The JSON Schema of one card kind; accepts what the Pydantic model accepts on real cards."""
    card_kind = CARD_KINDS[kind]
    schema = card_kind.model.model_json_schema(mode="validation")
    # The SPDX pattern is long: define it once and refer to it.
    pattern = spdx_pattern()
    _replace_pattern(schema, pattern)
    schema.setdefault("$defs", {})["SpdxExpression"] = {
        "type": "string",
        "pattern": pattern,
        "description": "An SPDX license expression (https://spdx.org/licenses/).",
    }
    return {"$schema": SCHEMA_DIALECT, "$id": f"urn:foundation-model-kb:{kind}-card:1", **schema}


def _replace_pattern(node: Any, pattern: str) -> None:
    if isinstance(node, dict):
        if node.get("pattern") == pattern:
            del node["pattern"]
            node["$ref"] = "#/$defs/SpdxExpression"
        for value in node.values():
            _replace_pattern(value, pattern)
    elif isinstance(node, list):
        for value in node:
            _replace_pattern(value, pattern)

"""The numeric claims of a model card: every number-valued field, and every text field whose value is a
figure (a parameter count, a sample count, a size), outside the parts that are this knowledge base's
own settings or identifiers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from generator.schema import ModelCard

NOT_CLAIMS = {
    "schema_version", "repo", "integration", "smoke_test", "walkthrough", "usage", "fine_tuning",
    "citations", "links", "related", "discrepancies", "sources", "pooling.layer",
}  # fmt: skip
"""Links, this knowledge base's own settings (projector, smoke test, pooled layer) and the card's
bookkeeping: not claims about the model."""

FIGURE_TEXT = {
    "architecture.parameters",
    "tokenization.patch",
    "tokenization.context.description",
    "training.sources[].samples",
    "training.sources[].tokens",
    "training.hyperparameters.batch_size",
    "training.hyperparameters.schedule",
    "checkpoints[].size",
    "evaluation.primary_metrics[].value",
    "evaluation.secondary_metrics[].value",
    "deployment.vram_inference",
}
"""Text fields whose value is a figure in words (`~7.7M`, `34,021 segments`, `~31 MB`)."""


def numeric_claims(card: ModelCard) -> Iterator[tuple[str, Any]]:
    """(field path, value) of every figure the card states."""
    yield from _walk(card, "")


def _walk(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    shape = re.sub(r"\[\d+\]", "[]", path)
    if shape in NOT_CLAIMS:
        return
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _walk(getattr(node, name), f"{path}.{name}" if path else name)
    elif isinstance(node, (list, tuple)):
        for i, item in enumerate(node):
            yield from _walk(item, f"{path}[{i}]")
    elif isinstance(node, bool) or node is None:
        return
    elif isinstance(node, (int, float)) or (shape in FIGURE_TEXT and re.search(r"\d", str(node))):
        yield path, node

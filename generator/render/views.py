"""Facts shown identically on the page and in the PDF: kept here for templates and tools that import
them from `generator.render.views`; they live in `generator.schema.labels`."""

from __future__ import annotations

from generator.schema.labels import (
    commit_url,
    hub_url,
    layer_words,
    license_label,
    license_note,
    license_words,
    pin_label,
    pooling_words,
    rc_words,
    token_label,
    tokenizer_words,
    web_url,
)

__all__ = [
    "commit_url",
    "hub_url",
    "layer_words",
    "license_label",
    "license_note",
    "license_words",
    "pin_label",
    "pooling_words",
    "rc_words",
    "token_label",
    "tokenizer_words",
    "web_url",
]

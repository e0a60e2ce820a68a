"""Where a card's figures and facts come from: one `Source` per claim, so that a reader can follow it.

A source names the card fields it supports (`architecture.layers`, `training.sources[0].samples`) and
says where the figure is stated: lines of the upstream repository at the card's pinned commit, a file
of the checkpoint's hub repository, a section of the card's paper, or a web page. A claim that could
not be checked says so (`unverified`, with the reason in a reader's words) instead of naming a place.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from generator.schema.common import HttpUrl, HubId, Markdown, Node, RelPath

FIELD_PATH = re.compile(r"[a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*")
"""A card field as `section.field`, with `[n]` for the n-th item of a list (0-based)."""


class CodeLines(Node):
    """A file of the upstream repository at the card's pinned commit, optionally a line range."""

    path: RelPath
    """File path inside the repository."""
    lines: tuple[int, int] | None = None
    """First and last line (1-based, inclusive); the whole file when omitted."""

    @model_validator(mode="after")
    def _range(self) -> CodeLines:
        if self.lines and not 1 <= self.lines[0] <= self.lines[1]:
            raise ValueError(f"line range {self.lines[0]}-{self.lines[1]} is empty: write [first, last]")
        return self


class HubFile(Node):
    """A file of a model hub repository (a checkpoint's `config.json`, its model card `README.md`)."""

    file: RelPath
    """File name in the hub repository."""
    hub_id: HubId | None = None
    """The hub repository; the card's first checkpoint's `hub_id` when omitted."""


PLACES = ("code", "hub", "paper", "url", "unverified")


def _field_path(value: str) -> str:
    if not FIELD_PATH.fullmatch(value):
        raise ValueError(
            f"'{value}' is not a field path: write `section.field`, with `[n]` for a list item "
            "(e.g. training.sources[0].samples)"
        )
    return value


FieldPath = Annotated[
    str, AfterValidator(_field_path), Field(json_schema_extra={"pattern": FIELD_PATH.pattern.join("^$")})
]


class Source(Node):
    """Where the value of one or more card fields is stated (exactly one of `code`, `hub`, `paper`,
    `url`), or why it could not be checked (`unverified`)."""

    model_config = ConfigDict(
        **Node.model_config, json_schema_extra={"oneOf": [{"required": [k]} for k in PLACES]}
    )

    fields: list[FieldPath] = Field(min_length=1)
    """The card fields this source supports, e.g. `architecture.layers` or `training.sources[0].samples`."""
    code: CodeLines | None = None
    """Lines of the upstream repository at the pinned commit (linked at the pin)."""
    hub: HubFile | None = None
    """A file of the checkpoint's hub repository."""
    paper: str | None = None
    """A section, table or figure of the card's first citation, e.g. `Section 4.1` or `Table 1`."""
    url: HttpUrl | None = None
    """A web page that states the value."""
    says: str = ""
    """What the source states, in its own words or figures (`d_model: 256`), when that helps a reader."""
    unverified: Markdown = ""
    """Why the value could not be checked against a source, in a reader's words."""

    @model_validator(mode="after")
    def _one_place(self) -> Source:
        given = [k for k in PLACES if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                "a source gives exactly one of `code` (upstream file and lines), `hub` (hub file), "
                "`paper` (section of the card's paper), `url`, or `unverified` (why it could not be "
                f"checked); this one gives {', '.join(given) or 'none'}"
            )
        return self


def field_value(card: Node, path: str) -> Any:
    """The value of a field path on a card, or None when the path names nothing there."""
    current: Any = card
    for name, index in re.findall(r"([a-z_]+)(?:\[(\d+)\])?", path):
        current = getattr(current, name, None)
        if index:
            if not isinstance(current, (list, tuple)) or int(index) >= len(current):
                return None
            current = current[int(index)]
        if current is None:
            return None
    return current

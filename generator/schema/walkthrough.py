"""Walkthrough steps: prose plus code, either written in the card or cited from the pinned upstream commit."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from generator.schema.common import CodeBlock, Markdown, Node, RelPath


class CodeCitation(Node):
    """Upstream code cited by path and line range at the card's pinned commit.

    The snippet itself is read from git at the pin and kept in `<id>.lock.yaml` beside the card, so
    pages and PDFs build where the repository is not synced.
    """

    path: RelPath
    """File path inside the upstream repository."""
    lines: tuple[int, int]
    """First and last line (1-based, inclusive)."""
    language: str | None = None
    """Pygments language; taken from the file name when omitted."""

    @model_validator(mode="after")
    def _range(self) -> CodeCitation:
        first, last = self.lines
        if first < 1 or last < first:
            raise ValueError(
                f"line range {first}-{last} is empty or starts before line 1: write [first, last] "
                "with 1 <= first <= last"
            )
        return self


class WalkthroughStep(Node):
    """One step of the code walkthrough (preprocess, encode, pool + project, persist)."""

    title: str
    """Short heading of the step."""
    stage: Literal["preprocess", "encode", "project", "persist", "other"] = "other"
    """Which stage of the embedding pipeline this step belongs to."""
    prose: Markdown = ""
    """What the step does and why, in Markdown."""
    code: CodeBlock | None = None
    """Code written for this knowledge base."""
    cite: CodeCitation | None = None
    """Upstream code this step explains, cited at the pinned commit."""

"""A small reader for model-card Markdown: the title, `##` sections with their line numbers, and
`- Key: value` items. Enough for seed-003 `model_card.md` files and Hugging Face READMEs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HEADING = re.compile(r"^(#{1,6})(?:[ \t]+(.*?))??(?:[ \t]+#+)?[ \t]*$")
"""An ATX heading; a closing run of `#` counts only after a space (CommonMark), so `# C#` is `C#`."""
_ITEM = re.compile(r"^\s*[-*+]\s+(?:\*\*)?([^:*]+?)(?:\*\*)?\s*:\s*(?:\*\*)?\s*(.*?)\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass
class Section:
    """A `##` section: its title, the line of its heading (1-based) and its body lines."""

    title: str
    line: int
    lines: list[tuple[int, str]] = field(default_factory=list)
    """(line number, text) of each body line."""

    @property
    def text(self) -> str:
        """The body as written, without leading and trailing blank lines."""
        return "\n".join(t for _, t in self.lines).strip("\n")

    def items(self) -> list[tuple[int, str, str | None]]:
        """Non-blank body lines as (line, key, value) for `- Key: value`, or (line, text, None)."""
        out: list[tuple[int, str, str | None]] = []
        in_code = False
        for number, text in self.lines:
            if _FENCE.match(text):
                in_code = not in_code
            if not text.strip():
                continue
            m = None if in_code else _ITEM.match(text)
            out.append((number, m.group(1).strip(), m.group(2)) if m else (number, text, None))
        return out


@dataclass
class MarkdownDoc:
    """A parsed Markdown document: title (the `#` heading), text before the first section, sections."""

    title: str = ""
    title_line: int = 0
    preamble: list[tuple[int, str]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    def section(self, title: str) -> Section | None:
        key = title.strip().lower()
        return next((s for s in self.sections if s.title.lower() == key), None)


def parse(text: str, first_line: int = 1) -> MarkdownDoc:
    """Split Markdown into its title and `##` sections; `###` and deeper stay inside their section."""
    doc = MarkdownDoc()
    current: Section | None = None
    in_code = False
    for number, line in enumerate(text.splitlines(), start=first_line):
        if _FENCE.match(line):
            in_code = not in_code
        m = None if in_code else _HEADING.match(line)
        if m and len(m.group(1)) == 1 and not doc.title and current is None:
            doc.title, doc.title_line = m.group(2) or "", number
            continue
        if m and len(m.group(1)) == 2:
            current = Section(m.group(2) or "", number)
            doc.sections.append(current)
            continue
        (current.lines if current else doc.preamble).append((number, line))
    return doc


def bullets(text: str) -> list[str]:
    """`- a` / `* b` items of a list (other non-blank lines become items too)."""
    return [
        re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", line).strip() for line in text.splitlines() if line.strip()
    ]


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """(YAML front matter or None, the Markdown body, the body's first line number)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None, text, 1
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "".join(lines[1:i]), "".join(lines[i + 1 :]), i + 2
    return None, text, 1

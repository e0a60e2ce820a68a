"""Card text is untrusted: prose is Markdown, but raw HTML in it is escaped so it shows literally."""

from __future__ import annotations

import re

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)


def escape_html_in_markdown(text: str) -> str:
    """Escape `<` and `&` outside code, so Markdown formatting works but no tag or entity survives.

    Inside code spans and fenced blocks Markdown already shows characters literally.
    """
    out: list[str] = []
    pos = 0
    for m in _iter_code(text):
        out.append(_escape(text[pos : m[0]]))
        out.append(text[m[0] : m[1]])
        pos = m[1]
    out.append(_escape(text[pos:]))
    return "".join(out)


def _iter_code(text: str) -> list[tuple[int, int]]:
    spans = [(m.start(), m.end()) for m in _FENCE.finditer(text)]
    for m in _CODE_SPAN.finditer(text):
        if not any(a <= m.start() < b for a, b in spans):
            spans.append((m.start(), m.end()))
    return sorted(spans)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def inline(text: str) -> str:
    """One-line Markdown safe for a table cell or list item: HTML escaped, pipes and newlines neutralised."""
    return escape_html_in_markdown(" ".join(str(text).split())).replace("|", "\\|")


def markdown_to_html(text: str) -> str:
    """Untrusted Markdown to HTML (for the PDF), with raw HTML shown literally."""
    import markdown

    return markdown.markdown(escape_html_in_markdown(text), extensions=["tables", "fenced_code"])

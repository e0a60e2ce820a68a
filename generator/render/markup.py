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
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # `{...}` would let attr_list set arbitrary attributes (onclick=...) on the element; `\{` shows `{`.
    text = text.replace("{", "\\{").replace("}", "\\}")
    return _UNSAFE_LINK.sub(_neutralise_link, text)


# Link destinations (inline `](...)` or reference `]: ...`) whose scheme runs code in a browser.
_UNSAFE_LINK = re.compile(r"(\]\(|\]:)([ \t]*<?)([^)\n>]*)")
_UNSAFE_SCHEMES = ("javascript:", "vbscript:", "data:")


def _neutralise_link(m: re.Match[str]) -> str:
    """`[x](javascript:...)` -> `[x](unsafe:javascript...)`: a harmless unknown scheme, shown as written."""
    dest = m.group(3)
    # Browsers drop whitespace and control characters inside a scheme (`java\tscript:`).
    cleaned = re.sub(r"[\x00-\x20]", "", dest).lower()
    if cleaned.startswith(_UNSAFE_SCHEMES):
        dest = "unsafe:" + re.sub(r"[\x00-\x20:]", "", dest)
    return m.group(1) + m.group(2) + dest


def inline(text: str) -> str:
    """One-line Markdown safe for a table cell or list item: HTML escaped, pipes and newlines neutralised."""
    return escape_html_in_markdown(" ".join(str(text).split())).replace("|", "\\|")


def markdown_to_html(text: str) -> str:
    """Untrusted Markdown to HTML (for the PDF), with raw HTML shown literally."""
    import markdown

    return markdown.markdown(escape_html_in_markdown(text), extensions=["tables", "fenced_code"])

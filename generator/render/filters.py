"""Jinja filters for Markdown pages, beside `markup`'s `md`, `inline` and `plain`: table cells, code
fences and quoted titles.

Card text is untrusted: code goes into a fence longer than any backtick run inside it, and the
language and options of a fence are reduced to characters that cannot end the info string.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from generator.render import markup
from generator.schema.labels import LABEL_FILTERS

_SAFE_LANG = re.compile(r"[A-Za-z0-9_+#.-]{1,40}")


def fence(
    code: str, language: str | None = "text", *, linenums: int | None = None, title: str | None = None
) -> str:
    """A fenced code block that no content can close early, highlighted by pymdownx.highlight."""
    lang = language if language and _SAFE_LANG.fullmatch(language) else "text"
    longest = max((len(m) for m in re.findall(r"`+", code)), default=0)
    ticks = "`" * max(3, longest + 1)
    opts = ""
    if linenums is not None:
        opts += f' linenums="{int(linenums)}"'
    if title:
        opts += f' title="{_quote_free(title)}"'
    body = code if code.endswith("\n") else code + "\n"
    return f"{ticks}{lang}{opts}\n{body}{ticks}"


def _quote_free(text: str) -> str:
    return " ".join(text.replace('"', "'").split())


def title(text: str) -> str:
    """Text for an admonition or tab title inside double quotes: plain text, no quote to end it."""
    return markup.plain(text).replace('"', "&quot;")


def cell(value: object, empty: str = "—") -> str:
    """A table cell of plain text (`markup.plain`: shown as written, nothing in it is Markdown), or a
    dash when there is nothing."""
    if value is None or value == "" or value == []:
        return empty
    return markup.plain(str(value))


def md_cell(value: object, empty: str = "—") -> str:
    """A table cell of a field typed Markdown (a summary): one line of untrusted Markdown
    (`markup.inline`: code spans, emphasis and links work, nothing else is markup), or a dash."""
    if value is None or value == "" or value == []:
        return empty
    return markup.inline(str(value))


def indent_md(text: str, width: int = 4) -> str:
    """Indent every line (blank ones too stay blank) so Markdown nests inside an admonition or tab."""
    pad = " " * width
    return "\n".join(pad + line if line.strip() else "" for line in text.splitlines())


def _edges(escape: Callable[[object], str]) -> Callable[[str], str]:
    """`escape` for a piece of a line (a span of the section model): its own escaping of the words, and
    the space that separates it from its neighbours kept at either end."""

    def spaced(text: str) -> str:
        text = str(text)
        lead = " " if text[:1].isspace() else ""
        trail = " " if text[-1:].isspace() and text.strip() else ""
        return lead + escape(text) + trail if text.strip() else lead

    return spaced


FILTERS = {
    "fence": fence,
    "title": title,
    "cell": cell,
    "md_cell": md_cell,
    "indent_md": indent_md,
    "span_plain": _edges(markup.plain),
    "span_inline": _edges(markup.inline),
}


def url(value: str) -> str:
    """A URL for a Markdown link destination: characters that could end or bend the link are escaped."""
    out = str(value)
    for ch, enc in (
        ("\\", "%5C"),
        (" ", "%20"),
        ("(", "%28"),
        (")", "%29"),
        ("<", "%3C"),
        (">", "%3E"),
        ('"', "%22"),
        ("'", "%27"),
        ("`", "%60"),
        ("\n", ""),
        ("\t", ""),
    ):
        out = out.replace(ch, enc)
    return out


def code(text: str) -> str:
    """Inline code that shows `text` literally, whatever backticks it contains. A pipe stays as it is:
    Python-Markdown's tables never split a cell inside a code span, and would show a backslash."""
    text = " ".join(str(text).split())
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


_PATH_SAFE = re.compile(r"[A-Za-z0-9.-]")


def path(text: str) -> str:
    """A file path as inline code that a narrow screen wraps only after a `/` (a `<wbr>` there), never
    inside a name (each name is a `kb-path-part`, which kb.css keeps on one line: not even at its
    hyphens). Every character but letters, digits, `.` and `-` is written as a numeric entity, so no
    Markdown (emphasis, code, a table's pipe) and no markup can start inside it."""
    parts = str(text).split("/")
    escaped = ("".join(ch if _PATH_SAFE.fullmatch(ch) else f"&#{ord(ch)};" for ch in part) for part in parts)
    return (
        "<code>"
        + "/<wbr>".join(f'<span class="kb-path-part">{e}</span>' if e else "" for e in escaped)
        + "</code>"
    )


FILTERS.update(
    {
        "url": url,
        "code": code,
        "path": path,
        **LABEL_FILTERS,
    }
)

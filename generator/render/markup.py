"""The one path from untrusted card text into Markdown: `prose`, `inline` and `plain`.

The contract (every card string reaches a page or a PDF through exactly one of these):

- `plain(text)`: text shown as text, never interpreted as Markdown: every text field the card format
  does not type `Markdown` (names, titles, labels, ids, short table cells). One line; every character
  that could start Markdown or HTML is escaped.
- `inline(text)`: one line of a field typed `Markdown` (a list item, a summary in a table cell):
  emphasis, links and code spans work; raw HTML, entities, attribute lists and unsafe link schemes
  do not.
- `prose(text)`: block Markdown (paragraphs, lists, tables, fenced code, admonitions), with the same
  inline rules as `inline`.

Nothing here guesses what Markdown will do. The text is tokenized here, and the Markdown written out
leaves Markdown no choice:

- Code is what this module decides is code: a fence opened at the start of a line (any info string,
  closed by a fence of the same character at least as long, or running to the end), and a code span
  of `n` backticks closed by the next run of exactly `n` backticks on the same line (CommonMark's
  rule, without crossing a line). Each is written out again with delimiters longer than any backtick
  run inside, so it cannot end early or pair with anything else.
- Every other backtick is written as the entity `&#96;`, which no Markdown parser pairs. So a field
  can never open or close a code span of a neighbouring field on the same line or table row.
- Outside code, `&`, `<` and `>` become entities (no tag, no entity of the card's own survives), and
  `{`/`}` become entities (no attribute list). A backslash before a backtick makes it a literal
  backtick, as in CommonMark; entities cannot be undone by a backslash before them.
- A dangerous URL scheme (`javascript:`, `vbscript:`, `data:`, with tabs inside as browsers allow)
  becomes `unsafe-javascript:` wherever it appears outside code, so it can never be the scheme of a
  link, however the link is written; `data: ...` followed by a space (prose) keeps its look, with an
  invisible zero-width space before the colon.

The output is also sanitized (`generator.render.sanitize`): this module keeps the text readable,
that one keeps the page safe whatever slips through.
"""

from __future__ import annotations

import re
import threading
from typing import Any

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_SAFE_LANG = re.compile(r"[A-Za-z0-9_+#.-]{1,40}")
_UNSAFE_SCHEME = re.compile(
    r"(?<![A-Za-z0-9+.-])(?P<word>"
    + "|".join("[\t\r]*".join(scheme) for scheme in ("javascript", "vbscript", "data"))
    + r")(?P<gap>[\t\r ]*):(?P<next>\S?)",
    re.IGNORECASE,
)
_ZWSP = "&#8203;"


def _neutralise(m: re.Match[str]) -> str:
    """`javascript:x` -> `unsafe-javascript:x` (a harmless unknown scheme, which link checks skip);
    `data: 10k samples` (prose, no link) keeps its look, with an invisible zero-width space."""
    word, gap, after = m.group("word"), m.group("gap"), m.group("next")
    if re.sub(r"[\t\r]", "", word).lower() != "data" or (after and not gap):
        return f"unsafe-{word}{gap}:{after}"
    return f"{word}{gap}{_ZWSP}:{after}"


_TEXT_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "{": "&#123;", "}": "&#125;", "`": "&#96;"}
"""Entities, not backslash escapes: a backslash of the card's own before them cannot undo them."""
_PLAIN_ESCAPES = {
    **_TEXT_ESCAPES,
    "\\": "\\\\",
    "*": "\\*",
    "_": "\\_",
    "[": "\\[",
    "]": "\\]",
    "|": "\\|",
    "!": "\\!",
    "#": "\\#",
}
"""Plain text: on top of the text escapes, every character that starts emphasis, a link, an image,
a table cell or a heading (backslash escapes Python-Markdown and CommonMark both honour)."""


def plain(text: object) -> str:
    """Text shown as text on one line: nothing in it is Markdown or HTML.

    An underscore between two letters or digits (`gpt2-small_biomed_500K`) is left as it is: neither
    Python-Markdown nor CommonMark lets an intraword `_` open or close emphasis."""
    line = " ".join(str(text).split())
    return "".join(
        "_" if ch == "_" and _intraword(line, i) else _PLAIN_ESCAPES.get(ch, ch) for i, ch in enumerate(line)
    )


def _intraword(line: str, i: int) -> bool:
    return 0 < i < len(line) - 1 and line[i - 1].isalnum() and line[i + 1].isalnum()


def inline(text: object) -> str:
    """One line of Markdown safe for a list item, a link text or a table cell (pipes escaped outside
    code spans; inside one, Python-Markdown's tables never split a cell and would show the backslash)."""
    return _inline(" ".join(str(text).split()), pipes=True)


def prose(text: object) -> str:
    """Block Markdown (card prose) with the guarantees of the module docstring."""
    lines = str(text).split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _FENCE_OPEN.match(lines[i])
        if m is None:
            out.append(_inline(lines[i]))
            i += 1
            continue
        indent, fence = m.group("indent"), m.group("fence")
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body: list[str] = []
        i += 1
        while i < len(lines) and not closing.match(lines[i]):
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        i += 1  # the closing fence (or the end of the text)
        words = m.group("info").split()
        # Blank lines around it: a fence never merges into the paragraph before or after it.
        out.extend(["", _fence("\n".join(body), words[0] if words else "text", indent), ""])
    return "\n".join(out)


def _fence(code: str, language: str, indent: str) -> str:
    lang = language if _SAFE_LANG.fullmatch(language) else "text"
    longest = max((len(r) for r in re.findall(r"`+", code)), default=0)
    ticks = "`" * max(3, longest + 1)
    lines = [f"{ticks}{lang}", *code.split("\n"), ticks] if code else [f"{ticks}{lang}", ticks]
    return "\n".join(indent + line if line else line for line in lines)


def _inline(line: str, *, pipes: bool = False) -> str:
    """One line: code spans kept as code (re-delimited), everything else escaped as text."""
    out: list[str] = []
    text_start = 0
    i = 0
    n = len(line)
    while i < n:
        if line[i] != "`":
            i += 1
            continue
        if _escaped(line, text_start, i):
            # `\``: a literal backtick (CommonMark and Python-Markdown agree); the backslash goes.
            out.append(_text(line[text_start : i - 1], pipes) + "&#96;")
            i = text_start = i + 1
            continue
        run = _run_length(line, i)
        close = _find_run(line, i + run, run)
        if close < 0:
            i += run  # unmatched: the backticks stay text (escaped below)
            continue
        out.append(_text(line[text_start:i], pipes))
        out.append(_code_span(line[i + run : close]))
        i = text_start = close + run
    out.append(_text(line[text_start:], pipes))
    return "".join(out)


def _escaped(line: str, start: int, i: int) -> bool:
    """An odd number of backslashes (in text, from `start`) right before position `i`."""
    count = 0
    while i - count - 1 >= start and line[i - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _run_length(line: str, start: int) -> int:
    end = start
    while end < len(line) and line[end] == "`":
        end += 1
    return end - start


def _find_run(line: str, start: int, length: int) -> int:
    """Start of the next run of exactly `length` backticks at or after `start`, or -1."""
    i = start
    while i < len(line):
        if line[i] == "`":
            run = _run_length(line, i)
            if run == length:
                return i
            i += run
        else:
            i += 1
    return -1


def _code_span(code: str) -> str:
    longest = max((len(r) for r in re.findall(r"`+", code)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if code.startswith("`") or code.endswith("`") or not code.strip() else ""
    return f"{ticks}{pad}{code}{pad}{ticks}"


def _text(text: str, pipes: bool = False) -> str:
    escaped = "".join(_TEXT_ESCAPES.get(ch, ch) for ch in text)
    if pipes:  # a pipe is never a cell boundary; one the card escaped itself (`\|`) stays escaped
        escaped = re.sub(r"(\\*)\|", lambda m: m.group(1) + "\\" * (len(m.group(1)) % 2 == 0) + "|", escaped)
    return _UNSAFE_SCHEME.sub(_neutralise, escaped)


def escape_html_in_markdown(text: str) -> str:
    """The name templates and overrides know for `prose` (the `md` filter)."""
    return prose(text)


def markdown_to_html(text: str) -> str:
    """Untrusted Markdown to HTML (for the PDF), through `prose`; the print body is sanitized after."""
    return _converter().reset().convert(prose(text))


_local = threading.local()


def _converter() -> Any:
    """This thread's Markdown converter (made once: building its parser is most of converting a short
    text; `reset()` clears what the last text left in it)."""
    md = getattr(_local, "markdown", None)
    if md is None:
        import markdown

        md = _local.markdown = markdown.Markdown(extensions=["tables", "fenced_code"])
    return md

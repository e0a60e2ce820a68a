"""A Markdown extension that makes a paragraph or table cell of many links cost what its links cost.

Python-Markdown 3.11 finds the `]` closing a link's text by computing, for the whole text of the
block, where every bracket closes; but each link it converts changes that text, so the computation
runs again for every link: a block of n links costs n times its length. Catalog-like pages hold such
blocks (an integration's page lists every model using it in one cell): at 500 cards one page took 3 s
to convert, and it grows with the square of the knowledge base.

`FastLinks` gives the link processors a forward scan from the `[` that stops at its closing `]`,
as Markdown did before; when no `]` closes it within `SCAN_LIMIT` characters (text that is not a
link, or hostile text made of brackets) Markdown's own method answers, so the result is the same and
the worst case is never worse than Markdown's. The `kb` plugin adds it to every MkDocs build.
"""

from __future__ import annotations

import types
from typing import Any

from markdown import Extension, Markdown
from markdown.inlinepatterns import LinkInlineProcessor

SCAN_LIMIT = 4096
"""Characters scanned forward for the closing `]` before Markdown's own method is asked."""


def _get_text(self: LinkInlineProcessor, data: str, index: int) -> tuple[str, int, bool]:
    """`LinkInlineProcessor.getText`, scanning forward from `index` (just past the `[`)."""
    depth, pos, limit = 1, index, min(len(data), index + SCAN_LIMIT)
    while pos < limit:
        close = data.find("]", pos, limit)
        if close < 0:
            break
        depth += data.count("[", pos, close) - 1
        if depth == 0:
            return data[index:close], close + 1, True
        pos = close + 1
    return type(self).getText(self, data, index)


class FastLinks(Extension):
    """Registers nothing new: speeds up the link processors Markdown registered."""

    def extendMarkdown(self, md: Markdown) -> None:  # the name Markdown calls
        for processor in list(md.inlinePatterns):
            if isinstance(processor, LinkInlineProcessor):
                proc: Any = processor
                proc.getText = types.MethodType(_get_text, processor)


def makeExtension(**kwargs: Any) -> FastLinks:  # the name Markdown looks up
    return FastLinks(**kwargs)

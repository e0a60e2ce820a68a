"""A Markdown extension that keeps a block out of the site's search index: a paragraph that holds only
`MARK` is removed, and the block after it (a table, a list) gets `data-search-exclude`.

Both search engines of the site skip an element with that attribute: Material for MkDocs' search
plugin (its block exclusion) and Zensical's built-in search. Markdown's `attr_list` can put it on a
heading (the whole section goes) or a paragraph, but not on a table or a list, and the catalog-like
pages list their cards in tables and lists: a list of every card of a group is one search field of
thousands of words, a hit for every query (the model pages are what a search should find), and past
Zensical's limit on a field's length (at 2,000 cards) the build stops. Which blocks carry the mark is
decided by the page plan (`generator.render.site.UNSEARCHED`); mkdocs.yml lists this extension (so
that plain Zensical builds use it) and the `kb` plugin adds it to MkDocs builds when it is missing.
"""

from __future__ import annotations

import xml.etree.ElementTree as etree

from markdown import Extension, Markdown
from markdown.treeprocessors import Treeprocessor

MARK = "{: data-search-exclude }"
"""A paragraph of only this: the next block stays out of the search index (`attr_list`'s spelling,
which `attr_list` itself leaves alone when nothing precedes it)."""
ATTRIBUTE = "data-search-exclude"


class _Unsearched(Treeprocessor):
    def run(self, root: etree.Element) -> None:
        for parent in list(root.iter()):
            children = list(parent)
            for i, el in enumerate(children):
                if el.tag == "p" and len(el) == 0 and (el.text or "").strip() == MARK:
                    parent.remove(el)
                    if i + 1 < len(children):
                        children[i + 1].set(ATTRIBUTE, "")


class Unsearched(Extension):
    def extendMarkdown(self, md: Markdown) -> None:  # Markdown's name
        # After attr_list (priority 8), before the unescaping of backslashes (0).
        md.treeprocessors.register(_Unsearched(md), "kb_unsearched", 5)


def makeExtension(**kwargs: object) -> Unsearched:  # the name Markdown looks for
    return Unsearched(**kwargs)

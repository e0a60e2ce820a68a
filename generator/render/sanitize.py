"""The output guarantee for untrusted card text: HTML made from cards passes an allowlist sanitizer.

Card text is escaped on the way in (`generator.render.markup`), but an escaping rule can only guess
what Markdown will do with a string; the guarantee sits here, at the output, where no Markdown trick
can get around it. Two allowlists, both for nh3 (the Python binding of ammonia):

- `clean_page`: the HTML of a page generated from cards, after Markdown and before the theme (the
  plugin's `on_page_content`). It keeps exactly what the page templates and the Markdown extensions
  of mkdocs.yml produce: headings with ids and permalinks, tables (with `text-align` only), code
  highlighting spans, admonitions, details, tabs, the PDF download buttons, links with safe schemes.
- `clean_print_body`: the `<body>` of a print document before WeasyPrint reads it; the `<head>`
  (metadata, the print CSS) comes from the product's templates only.

Everything else goes: event handlers, `style` (but `text-align` and `width` on table cells), `javascript:`,
`data:` and other unsafe URLs, `<script>`, `<iframe>`, `<object>`, `<svg>`, forms, comments, and every
`<img>` of a page (in print, images go through the PDF fetcher: files under kb/assets/ only).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from typing import Any

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
"""URL schemes a link may have; relative URLs (pages, anchors, PDFs) are kept as they are."""

_TEXT = {
    "p",
    "br",
    "hr",
    "em",
    "strong",
    "b",
    "i",
    "u",
    "s",
    "del",
    "ins",
    "mark",
    "small",
    "sub",
    "sup",
    "code",
    "kbd",
    "samp",
    "var",
    "pre",
    "blockquote",
    "q",
    "cite",
    "abbr",
    "span",
    "div",
    "a",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "caption",
    "colgroup",
    "col",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "details",
    "summary",
    "wbr",
}

PAGE_TAGS = frozenset(_TEXT | {"input", "label", "nav"})
"""Tags of the generated pages: Markdown, admonition, details, tables, highlight, tabbed (radio inputs
and labels), toc permalinks, and (Zensical's pages are sanitized whole, `generator.engines`) the
theme's list of a page's tags. No image: the page templates show none, and card text may not add one."""

PRINT_TAGS = frozenset(
    _TEXT | {"section", "nav", "main", "article", "header", "footer", "aside", "figure", "figcaption", "img"}
)
"""Tags of a print document's body (`templates/pdf/`)."""

_GLOBAL_ATTRS = {"id", "class", "title", "lang", "dir"}
_PAGE_ATTRS: dict[str, set[str]] = {
    "*": _GLOBAL_ATTRS,
    "a": {"href", "name"},
    "th": {"style", "colspan", "rowspan", "scope"},
    "td": {"style", "colspan", "rowspan"},
    "ol": {"start"},
    "details": {"open"},
    "input": {"name", "checked"},
    "label": {"for"},
    # data-search-exclude: a card listing kept out of the search index (`generator.render.unsearched`);
    # the search plugin reads it after this sanitizer (MkDocs' on_page_context) and then removes it.
    "div": {"data-tabs", "data-search-exclude"},
    "table": {"data-search-exclude"},
    "ul": {"data-search-exclude"},
    # data-sort: a comparison cell's sort key (the context window's, in its unit), read by kb-tables.js.
    "span": {"data-linenos", "data-sort"},
    "code": {"data-lang"},
}
_PRINT_ATTRS: dict[str, set[str]] = {
    "*": _GLOBAL_ATTRS,
    "a": {"href", "name"},
    "img": {"src", "alt", "width", "height"},
    "th": {"style", "colspan", "rowspan", "scope"},
    "td": {"style", "colspan", "rowspan"},
    "col": {"style", "span"},
    "ol": {"start"},
    "span": {"data-linenos"},
}
_VALUES = {"input": {"type": {"radio"}}, "a": {"tabindex": {"-1"}}}
"""The tabbed extension's inputs are radio buttons; no other input type survives. Zensical takes the
heading permalinks out of the tab order (`tabindex="-1"`)."""


@cache
def _cleaner(print_doc: bool) -> Any:
    import nh3

    return nh3.Cleaner(
        tags=set(PRINT_TAGS if print_doc else PAGE_TAGS),
        clean_content_tags={
            "script",
            "style",
            "iframe",
            "object",
            "embed",
            "svg",
            "math",
            "form",
            "textarea",
            "select",
            "template",
            "noscript",
            "frame",
            "frameset",
            "applet",
        },
        attributes={k: set(v) for k, v in (_PRINT_ATTRS if print_doc else _PAGE_ATTRS).items()},
        tag_attribute_values={}
        if print_doc
        else {k: {a: set(v) for a, v in d.items()} for k, d in _VALUES.items()},
        filter_style_properties={"text-align", "width"},
        # In print, links with other schemes were dropped (with a warning) before; `file:` and http(s)
        # image sources reach the fetcher, which embeds files under kb/assets/ only and warns on the rest.
        url_schemes=set(SAFE_SCHEMES | {"file"}) if print_doc else set(SAFE_SCHEMES),
        link_rel=None,
        strip_comments=True,
    )


def clean_page(html: str) -> str:
    """The HTML of a generated page, with everything outside the page allowlist removed."""
    return str(_cleaner(False).clean(html))


def clean_print_body(html: str) -> str:
    """A print document's body content, with everything outside the print allowlist removed."""
    return str(_cleaner(True).clean(html))


def removed(before: str, after: str) -> list[str]:
    """What sanitizing took away, as `tag` or `tag[attr]` entries (empty when it only re-serialised).

    Compares parsed trees, not strings: nh3 writes `<br>` for `<br />` and quotes attributes its own way.
    First, cheaply, the tags, attributes and comments as written: when those are the same, nothing was
    taken (what nh3 takes away always shows there: a tag, an attribute, a style property, a comment); a
    page of 500 cards is then not parsed twice on every rebuild.
    """
    if _all_seen(before) and _all_seen(after) and _written(before) == _written(after):
        return []
    a, b = _inventory(before), _inventory(after)
    out = []
    for item, count in a.items():
        if b.get(item, 0) < count:
            out.append(item)
    return sorted(out)


_VALUE = r"""(?:"[^"]*"|'[^']*'|[^\s>"'][^\s>]*)"""  # one way to read each value: no backtracking
_TAG = re.compile(rf"<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=>/]+(?:\s*=\s*{_VALUE})?)*)\s*/?>")
_ATTR = re.compile(rf"([^\s=>/]+)(?:\s*=\s*({_VALUE}))?")


def _all_seen(html: str) -> bool:
    """Whether the quick look reads every start tag (not `<svg/onload=...>` or `<a:b ...>`)."""
    return len(re.findall(r"<[a-zA-Z]", html)) == sum(1 for _ in _TAG.finditer(html))


def _written(html: str) -> Counter[Any]:
    """The start tags, their attributes (name and value, unquoted) and the comments of HTML as written."""
    found: Counter[Any] = Counter()
    for tag in _TAG.finditer(html):
        name = tag.group(1).lower()
        found[name] += 1
        for attr in _ATTR.finditer(tag.group(2)):
            found[(name, attr.group(1).lower(), (attr.group(2) or "").strip("\"'"))] += 1
    found["<!--"] = html.count("<!--")
    return found


def _inventory(html: str) -> dict[str, int]:
    import lxml.html

    counts: dict[str, int] = {}
    if not html.strip():
        return counts
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    for el in root.iter():
        if not isinstance(el.tag, str):
            name = "comment"
            counts[name] = counts.get(name, 0) + 1
            continue
        counts[el.tag] = counts.get(el.tag, 0) + 1
        for attr, value in el.attrib.items():
            if attr == "style":  # nh3 writes `text-align:left` for `text-align: left;`
                value = "".join(value.split()).rstrip(";")
            key = f"{el.tag}[{attr}={value}]"
            counts[key] = counts.get(key, 0) + 1
    counts["div"] -= 1
    text = " ".join("".join(root.itertext()).split())
    counts[f"text:{text}"] = 1
    return counts

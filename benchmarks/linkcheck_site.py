"""A synthetic built site shaped like MkDocs-Material output, for timing link checkers.

Every model page carries the whole navigation (one entry per card, as Material renders it), a table
of contents, headings with permalinks, a PDF download, a few external links and the usual assets;
plus a home page, a catalog, a tags page, a 404 page with absolute links, sitemap and search index.
"""

# ruff: noqa: E501  (the page template keeps Material's markup one element per line, as it is built)
from __future__ import annotations

import gzip
import json
from pathlib import Path

SECTIONS = [
    "Purpose",
    "Architecture",
    "Tokenization",
    "Pooling",
    "Training data",
    "Checkpoints",
    "Walkthrough",
    "Integration",
    "Evaluation",
    "Strengths and limitations",
    "Citations",
]
PDF_BYTES = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _slug(title: str) -> str:
    return title.lower().replace(" ", "-")


def _nav(ids: list[str], prefix: str, current: str | None) -> str:
    items = []
    for i, card in enumerate(ids):
        active = " md-nav__item--active" if card == current else ""
        items.append(
            f'<li class="md-nav__item{active}">\n  <a href="{prefix}models/{card}/" class="md-nav__link">\n'
            f'    <span class="md-ellipsis">Model {i:04d} {card}</span>\n  </a>\n</li>'
        )
    return (
        '<nav class="md-nav md-nav--primary" aria-label="Navigation" data-md-level="0">\n'
        f'<label class="md-nav__title" for="__drawer"><a href="{prefix}" class="md-nav__button md-logo">'
        f'<img src="{prefix}assets/images/favicon.png" alt="logo"></a>KB</label>\n'
        '<ul class="md-nav__list" data-md-scrollfix>\n'
        f'<li class="md-nav__item"><a href="{prefix}" class="md-nav__link">Home</a></li>\n'
        f'<li class="md-nav__item"><a href="{prefix}catalog/" class="md-nav__link">Catalog</a></li>\n'
        f'<li class="md-nav__item"><a href="{prefix}tags/" class="md-nav__link">Tags</a></li>\n'
        '<li class="md-nav__item md-nav__item--nested">\n'
        '<input class="md-nav__toggle md-toggle" type="checkbox" id="__nav_4">\n'
        '<label class="md-nav__link" for="__nav_4" id="__nav_4_label">Models</label>\n'
        '<nav class="md-nav" data-md-level="1" aria-labelledby="__nav_4_label"><ul class="md-nav__list">\n'
        + "\n".join(items)
        + "\n</ul></nav></li></ul></nav>\n"
    )


def _page(title: str, prefix: str, nav: str, body: str, toc: str = "", canonical: str = "") -> str:
    return f"""<!doctype html>
<html lang="en" class="no-js">
<head>
<meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="canonical" href="{canonical}">
<link rel="icon" href="{prefix}assets/images/favicon.png">
<title>{title} - KB</title>
<link rel="stylesheet" href="{prefix}assets/stylesheets/main.css">
<link rel="stylesheet" href="{prefix}assets/stylesheets/palette.css">
</head>
<body dir="ltr">
<input class="md-toggle" data-md-toggle="drawer" type="checkbox" id="__drawer" autocomplete="off">
<input class="md-toggle" data-md-toggle="search" type="checkbox" id="__search" autocomplete="off">
<label class="md-overlay" for="__drawer"></label>
<div data-md-component="skip"><a href="#{_slug(title)}" class="md-skip">Skip to content</a></div>
<header class="md-header"><nav class="md-header__inner md-grid" aria-label="Header">
<a href="{prefix}" title="KB" class="md-header__button md-logo"><img src="{prefix}assets/images/favicon.png" alt=""></a>
<label class="md-header__button md-icon" for="__search"></label>
<div class="md-search" data-md-component="search" role="dialog"><form class="md-search__form" name="search">
<input type="text" class="md-search__input" name="query" placeholder="Search"></form></div>
<div class="md-header__source"><a href="https://github.com/example/kb" title="Go to repository">example/kb</a></div>
</nav></header>
<div class="md-container" data-md-component="container"><main class="md-main"><div class="md-main__inner md-grid">
<div class="md-sidebar md-sidebar--primary" data-md-component="sidebar" data-md-type="navigation">
<div class="md-sidebar__scrollwrap"><div class="md-sidebar__inner">
{nav}
</div></div></div>
<div class="md-sidebar md-sidebar--secondary" data-md-component="sidebar" data-md-type="toc">
<div class="md-sidebar__scrollwrap"><div class="md-sidebar__inner">
<nav class="md-nav md-nav--secondary" aria-label="Table of contents">
<label class="md-nav__title" for="__toc">Table of contents</label>
<ul class="md-nav__list" data-md-component="toc" data-md-scrollfix>{toc}</ul></nav></div></div></div>
<div class="md-content" data-md-component="content"><article class="md-content__inner md-typeset">
{body}
</article></div></div></main>
<footer class="md-footer"><div class="md-footer-meta md-typeset"><div class="md-copyright">
Made with <a href="https://squidfunk.github.io/mkdocs-material/" target="_blank" rel="noopener">Material for MkDocs</a>
</div></div></footer></div>
<div class="md-dialog" data-md-component="dialog"><div class="md-dialog__inner md-typeset"></div></div>
<script id="__config" type="application/json">{{"base": "{prefix or "."}"}}</script>
<script src="{prefix}assets/javascripts/bundle.js"></script>
</body></html>
"""


def _model_body(card: str, ids: list[str], index: int) -> tuple[str, str]:
    toc = "".join(
        f'<li class="md-nav__item"><a href="#{_slug(s)}" class="md-nav__link">{s}</a></li>' for s in SECTIONS
    )
    parts = [
        f'<h1 id="{card}">Model {card}<a class="headerlink" href="#{card}" title="Permanent link">'
        "&para;</a></h1>",
        f'<p><a class="md-button" href="../../pdf/{card}.pdf">Download the code walkthrough (PDF)</a> '
        f'<a href="../../tags/#tag:dna">dna</a></p>',
    ]
    for s in SECTIONS:
        slug = _slug(s)
        parts.append(
            f'<h2 id="{slug}">{s}<a class="headerlink" href="#{slug}" title="Permanent link">&para;</a></h2>'
        )
        parts.append("<p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 6 + "</p>")
    related = [ids[(index + k) % len(ids)] for k in (1, 2, 3)]
    parts.append(
        "<ul>" + "".join(f'<li><a href="../{r}/#architecture">{r}</a></li>' for r in related) + "</ul>"
    )
    parts.append(
        f'<p>Code: <a href="https://github.com/example/{card}">github.com/example/{card}</a>, '
        f'paper <a href="https://arxiv.org/abs/2403.{index:05d}">arXiv</a>, '
        f'<a href="https://huggingface.co/example/{card}">hub</a>.</p>'
    )
    parts.append(
        '<div class="highlight"><pre><span></span><code>'
        + "".join(
            f'<a id="__codelineno-0-{n}" name="__codelineno-0-{n}" href="#__codelineno-0-{n}"></a>x = {n}\n'
            for n in range(1, 21)
        )
        + "</code></pre></div>"
    )
    return toc, "\n".join(parts)


def make_site(root: Path, n_pages: int = 500, site_url: str = "https://example.org/") -> Path:
    """Write the synthetic site under `root` (returned); `n_pages` model pages."""
    ids = [f"model-{i:04d}" for i in range(n_pages)]
    (root / "assets" / "stylesheets").mkdir(parents=True, exist_ok=True)
    (root / "assets" / "javascripts").mkdir(parents=True, exist_ok=True)
    (root / "assets" / "images").mkdir(parents=True, exist_ok=True)
    (root / "pdf").mkdir(exist_ok=True)
    for name in ("stylesheets/main.css", "stylesheets/palette.css", "javascripts/bundle.js"):
        (root / "assets" / name).write_text("/* asset */\n")
    (root / "assets" / "images" / "favicon.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    top_nav = _nav(ids, "", None)
    sub_nav = _nav(ids, "../", None)
    for i, card in enumerate(ids):
        folder = root / "models" / card
        folder.mkdir(parents=True, exist_ok=True)
        toc, body = _model_body(card, ids, i)
        nav = _nav(ids, "../../", card)
        (folder / "index.html").write_text(
            _page(card, "../../", nav, body, toc, f"{site_url}models/{card}/"), encoding="utf-8"
        )
        (root / "pdf" / f"{card}.pdf").write_bytes(PDF_BYTES)
    rows = "".join(
        f'<tr><td><a href="../models/{c}/">{c}</a></td><td><a href="../pdf/{c}.pdf">PDF</a></td></tr>'
        for c in ids
    )
    (root / "catalog").mkdir(exist_ok=True)
    (root / "catalog" / "index.html").write_text(
        _page(
            "Catalog",
            "../",
            sub_nav,
            f'<h1 id="catalog">Catalog</h1><table>{rows}</table>',
            canonical=f"{site_url}catalog/",
        ),
        encoding="utf-8",
    )
    (root / "tags").mkdir(exist_ok=True)
    tag_items = "".join(f'<li><a href="../models/{c}/">{c}</a></li>' for c in ids)
    (root / "tags" / "index.html").write_text(
        _page(
            "Tags",
            "../",
            sub_nav,
            f'<h1 id="tags">Tags</h1><h2 id="tag:dna">dna</h2><ul>{tag_items}</ul>',
            canonical=f"{site_url}tags/",
        ),
        encoding="utf-8",
    )
    (root / "index.html").write_text(
        _page(
            "Home",
            "",
            top_nav,
            '<h1 id="home">Home</h1><p><a href="catalog/">Catalog</a></p>',
            canonical=site_url,
        ),
        encoding="utf-8",
    )
    (root / "404.html").write_text(
        _page("404", "/", _nav(ids, "/", None), '<h1 id="404">404 - Not found</h1>'), encoding="utf-8"
    )
    sitemap = "".join(f"<url><loc>{site_url}models/{c}/</loc></url>" for c in ids)
    xml = f'<?xml version="1.0" encoding="UTF-8"?><urlset>{sitemap}</urlset>'
    (root / "sitemap.xml").write_text(xml)
    (root / "sitemap.xml.gz").write_bytes(gzip.compress(xml.encode()))
    (root / "search").mkdir(exist_ok=True)
    (root / "search" / "search_index.json").write_text(json.dumps({"docs": [{"location": c} for c in ids]}))
    return root

"""Plain text stays plain: every text field the card format does not type as Markdown (names, titles,
labels, short table cells) is shown exactly as written, on the pages (heading, browser title,
navigation, catalog and comparison tables) and in the PDFs; `*`, `_`, backticks, brackets, `#`, `|`
and HTML in it are characters, never Markdown or markup.

Data-driven: one card of each kind, every plain text field holding its own marked value.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
from lxml import html

from generator.cli import main
from generator.knowledge import load_knowledge_base
from generator.pdf.build import print_jobs
from generator.pdf.context import card_context
from generator.pdf.document import finish_html, renderer_for
from generator.schema import CARD_KINDS
from generator.settings import Project
from tests.factory import new_project, write_yaml
from tests.hostile import accepts, base_cards, identity, is_markdown, set_field, text_fields, write_examples
from tests.pdf.helpers import pdf_dir, pdf_text
from tests.site.conftest import build

LITERAL = "a*b*c `x` _u_ x_y_z [l] #h | &copy 1<2"
"""Emphasis, a code span, underscores (around a word and inside one), a link label, a heading mark, a
table pipe, an entity without its semicolon (HTML would decode it) and a tag opener. No `;` or `,`:
table cells cut a sentence there (the rest goes to a footnote)."""

NOT_TEXT = {"path", "stage"}
"""Fields that are file paths or choices (and code blocks, `code.*`), not text read as a label."""

NOT_SHOWN = {
    ("model", ("repo", "tag")),  # the pin is shown as the commit when both are given
    ("model", ("citations", 0, "authors", 0)),  # citation authors: shown, but joined (tested below)
    ("integration", ("citations", 0, "authors", 0)),
    ("integration", ("citations", 0, "authors", 1)),
    ("sae", ("training", "method")),  # a fine-tuning field: SAE pages do not show it
}
"""(kind, field) of the plain fields no page shows as they are."""


Marks = dict[str, tuple[str, tuple[str | int, ...]]]
"""Marker (`P<n>:`) -> (card kind, field) it was placed in."""


def marked_cards() -> tuple[dict[str, dict[str, Any]], Marks]:
    """(kind -> card, marker -> (kind, field)): every plain text field holds `P<n>: LITERAL`."""
    bases = base_cards()
    cards: dict[str, dict[str, Any]] = {}
    marks: Marks = {}
    for kind, base in bases.items():
        card = copy.deepcopy(base)
        identity(kind, card, 0)
        for loc in text_fields(kind, base):
            if is_markdown(kind, loc) or loc[-1] in NOT_TEXT or "code" in loc:
                continue
            marker = f"P{len(marks) + 1}:"
            if accepts(kind, card, loc, f"{marker} {LITERAL}"):
                set_field(card, loc, f"{marker} {LITERAL}")
                marks[marker] = (kind, loc)
        cards[kind] = card
    return cards, marks


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Marks]:
    root = new_project(tmp_path_factory.mktemp("plain"))
    write_examples(root)  # the cards the marked ones point at
    cards, marks = marked_cards()
    for kind, card in cards.items():
        write_yaml(root / "kb" / CARD_KINDS[kind].folder / f"{card['id']}.yaml", card)
    return root, marks


def _text(element: Any) -> str:
    return " ".join(element.text_content().split())


def mangled(text: str, where: str) -> list[str]:
    """Every marked value in `text` that is not followed by LITERAL exactly (emphasis, code, a link or
    markup made of it would have eaten characters)."""
    return [
        f"{where}: {text[m.start() : m.start() + len(LITERAL) + 12]!r}"
        for m in re.finditer(r"P\d+: ", text)
        if not text.startswith(LITERAL, m.end())
    ]


def test_plain_fields_show_literally_on_every_page(plain: tuple[Path, dict[str, Any]]) -> None:
    root, marks = plain
    build(root)
    site = root / "site"
    found: list[str] = []
    seen: set[str] = set()
    pages: dict[str, dict[str, str]] = {}
    for path in sorted(site.rglob("*.html")):
        rel = str(path.relative_to(site))
        doc = html.parse(str(path)).getroot()
        article = doc.find(".//article")
        parts = {
            "title": " ".join((doc.findtext(".//title") or "").split()),
            "nav": " ".join(_text(n) for n in doc.findall(".//nav")),
            "article": _text(article) if article is not None else "",
            "h1": _text(article.find(".//h1")) if article is not None else "",
        }
        pages[rel] = parts
        for name, text in parts.items():
            found += mangled(text, f"{rel} {name}")
            seen.update(re.findall(r"P\d+:", text))
    assert found == []
    # Every plain field is shown somewhere (the markers not seen are the fields pages do not show).
    assert sorted(m for m, where in marks.items() if m not in seen and where not in NOT_SHOWN) == []

    def name_of(kind: str) -> str:
        return next(f"{m} {LITERAL}" for m, (k, loc) in marks.items() if k == kind and loc == ("name",))

    model = name_of("model")
    page = pages["models/hostile-model-0/index.html"]
    assert page["h1"].startswith(model)  # the heading
    assert page["title"].startswith(model)  # the browser's title bar
    assert model in page["nav"]
    for catalog in (
        "index.html",
        "models/index.html",
        "catalog/comparison/index.html",
        "catalog/selection/index.html",
    ):
        assert model in pages[catalog]["article"], catalog
    for kind in ("dataset", "integration", "recipe"):
        name = name_of(kind)
        card_page = next(v for k, v in pages.items() if k.endswith(f"/hostile-{kind}-0/index.html"))
        assert card_page["h1"].startswith(name) and card_page["title"].startswith(name), kind
    authors = [
        m
        for m, (k, loc) in marks.items()
        if k == "model" and loc[:2] == ("citations", 0) and "authors" in loc
    ]
    assert f"{authors[0]} {LITERAL}" in page["article"]


def test_plain_fields_show_literally_in_print(plain: tuple[Path, dict[str, Any]]) -> None:
    root, _ = plain
    project = Project.load(root)
    kb, _ = load_knowledge_base(project.root, None, project.kb_dir)
    found: list[str] = []
    for job in print_jobs(project, kb):
        document, _ = finish_html(
            renderer_for(job.templates).render(job.template, **card_context(job)), job.rel
        )
        doc = html.document_fromstring(document)
        found += mangled(_text(doc.body), job.rel)
        found += mangled(" ".join((doc.findtext(".//title") or "").split()), f"{job.rel} title")
    assert found == []
    # And in the PDF itself: the heading on its cover, as text.
    assert main(["-C", str(root), "pdf", "--no-progress", "hostile-model-0"]) == 0
    text = " ".join(pdf_text(pdf_dir(root) / "hostile-model-0.pdf").split())
    assert re.search(r"P\d+: " + re.escape(LITERAL), text)

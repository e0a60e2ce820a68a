"""The page, the PDF and the Hugging Face export of a card show the same sections, in the same order,
with the same rows: those of its section model (`generator.sections.card_view`), for every card of
every kind in the test data (each kind's example card, the imported seed-003 model folders) and the
shipped cards.

Each output is read as a reader gets it: the page's Markdown, the print HTML WeasyPrint lays out (and
the outline of real PDFs), the README the Hub renders. What one of them leaves out must be declared in
the section model (`only="page"` / `only="pdf"`), and those declarations are few and listed here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from lxml import html

from generator.cli import main
from generator.facts import Facts, build_facts
from generator.interop.hf import export_readme
from generator.knowledge import KnowledgeBase, load_knowledge_base
from generator.pdf.build import print_jobs
from generator.pdf.document import render_html
from generator.render import markup
from generator.render.context import Site
from generator.render.filters import FILTERS
from generator.render.jinja import Renderer
from generator.render.site import make_renderer, plan_pages
from generator.schema import CARD_KINDS, FineTunedCard, ModelCard, SAECard
from generator.sections import card_view
from generator.sections.model import Bullets, Callout, CardView, Medium, declared_only
from generator.sections.model import Facts as FactsBlock
from generator.settings import Project
from tests.factory import REPO_ROOT, new_project
from tests.hostile import write_examples
from tests.pdf.helpers import kb_pdf, outline_titles, pdf_dir

pytestmark = pytest.mark.slow

FOLDERS = REPO_ROOT / "tests" / "data" / "interop" / "models"

DECLARED = {
    ("Model Selection", "line", "page"),  # the link to the site's model-selection guide
    ("Metadata", "part of Card YAML: ' · '", "page"),  # the forge's "edit this page" link
    ("Metadata", "part of Card YAML: 'edit this page'", "page"),
}
"""Everything shown by one presentation only (`declared_only`): at most these, each with its reason."""

EXPORT_ONLY = "Model details"
"""The export's own block after its title (the card's facts as written, which the import reads back),
as the PDF has its cover and the page its front matter: not a section of the card."""


@dataclass
class Shown:
    """What one presentation shows of a card: per section, its title, its block labels, its rows."""

    sections: list[tuple[str, list[str], list[str]]] = field(default_factory=list)

    def start(self, title: str) -> None:
        self.sections.append((title, [], []))

    def label(self, text: str) -> None:
        self.sections[-1][1].append(" ".join(text.split()))

    def row(self, text: str) -> None:
        self.sections[-1][2].append(" ".join(text.split()))


def expected(view: CardView, medium: Medium) -> Shown:
    """What `medium` must show of the view: every section; its blocks' labels (a boxed note's inner
    ones too) and its rows, but those declared for the other presentation."""
    out = Shown()
    for section in view.sections:
        out.start(section.title)
        for block in section.shown(medium):
            inner = block.shown(medium) if isinstance(block, Callout) else ()
            for b in (block, *inner):
                if b.label:
                    out.label(b.label)
                if isinstance(b, FactsBlock):
                    for r in b.shown(medium):
                        out.row(r.label)
    return out


MD_SECTION = re.compile(r"^## (?P<title>.+?)(?: \{ #[\w-]+ \})?$")
MD_LABEL = re.compile(r"^\s*\*\*(?P<label>.+?):\*\*")
MD_ROW = re.compile(r"^\| (?P<label>.+?) \| .* \|$")


def read_markdown(text: str, skip: str | None = None) -> Shown:
    """Sections (`## `), bold labels and the rows of two-column fact tables (`| | |`) of a page's or
    an export's Markdown, as escaped by `plain` (compared with the model's labels escaped alike)."""
    out = Shown()
    in_facts = in_code = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        if in_code:
            continue
        if m := MD_SECTION.match(line):
            out.start(m.group("title"))
            continue
        if not out.sections or out.sections[-1][0] == skip:
            continue
        if line.strip() == "| | |":
            in_facts = True
        elif not line.strip():
            in_facts = False
        elif in_facts and line.strip() != "| --- | --- |" and (m := MD_ROW.match(line.strip())):
            out.row(m.group("label"))
        elif m := MD_LABEL.match(line):
            out.label(m.group("label"))
    if skip:
        out.sections = [s for s in out.sections if s[0] != skip]
    return out


def read_print(document: str) -> Shown:
    """The cover (the metadata section) and each `section.section` of the print HTML."""
    doc = html.document_fromstring(document)
    out = Shown()
    cover = doc.find_class("cover")[0]
    out.start("Metadata")
    for el in cover.iter():
        if el.get("class") == "label":
            out.label(el.text_content())
        elif el.tag == "th" and el.get("scope") == "row":
            out.row(el.text_content())
    for section in doc.xpath("//main//section[contains(@class, 'section')]"):
        out.start(" ".join(section.find("h2").text_content().split()))
        for el in section.iter():
            if el.get("class") == "label":
                out.label(el.text_content())
            elif el.tag == "th" and el.get("scope") == "row":
                out.row(el.text_content())
    return out


def escaped(shown: Shown) -> Shown:
    """Labels and rows as the Markdown presentations write them (`plain`), for comparing with theirs."""
    return Shown(
        [(t, [markup.plain(x) for x in ls], [markup.plain(x) for x in rs]) for t, ls, rs in shown.sections]
    )


@dataclass
class Corpus:
    project: Project
    kb: KnowledgeBase
    facts: Facts


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    root = new_project(tmp_path_factory.mktemp("parity"), with_shipped_kb=True)
    write_examples(root)
    folders = [str(p) for kind in ("sae", "fine_tuned") for p in sorted((FOLDERS / kind).iterdir())]
    assert main(["-C", str(root), "import", *folders]) == 0
    project = Project.load(root)
    kb, _ = load_knowledge_base(project.root, None, project.kb_dir, project.smoke_dir)
    return Corpus(project, kb, build_facts(project, kb))


def test_the_corpus_has_every_kind(corpus: Corpus) -> None:
    assert {c.kind.name for c in corpus.kb.all()} == set(CARD_KINDS)
    assert len(list(corpus.kb.all())) >= 25


def test_pages_show_the_sections_of_the_model(corpus: Corpus) -> None:
    pages = plan_pages(Site(corpus.project, corpus.kb, corpus.facts), make_renderer(corpus.project))
    for loaded in corpus.kb.all():
        facts = corpus.facts.of(loaded)
        view = card_view(loaded.card, facts)
        assert read_markdown(pages[facts.page]) == escaped(expected(view, "page")), loaded.rel


def test_print_documents_show_the_sections_of_the_model(corpus: Corpus) -> None:
    jobs = print_jobs(corpus.project, corpus.kb)
    assert {j.facts.kind for j in jobs} == {k.name for k in CARD_KINDS.values() if k.printed}
    for job in jobs:
        document, _ = render_html(job)
        assert read_print(document) == expected(card_view(job.card, job.facts), "pdf"), job.rel


def test_exports_show_the_sections_of_the_model(corpus: Corpus) -> None:
    renderer = Renderer(corpus.project.templates_dir)
    renderer.env.filters.update(FILTERS)
    exported = [c for c in corpus.kb.all() if c.kind.exported]
    assert {c.kind.name for c in exported} == {k.name for k in CARD_KINDS.values() if k.exported}
    for loaded in exported:
        facts = corpus.facts.of(loaded)
        card = loaded.card
        assert isinstance(card, (ModelCard, SAECard, FineTunedCard))  # the kinds declared exported
        text = export_readme(card, facts, renderer)
        shown = read_markdown(text.split("\n---\n", 1)[1], skip=EXPORT_ONLY)
        assert shown == escaped(expected(card_view(loaded.card, facts), "page")), loaded.rel


def test_page_and_print_differ_only_by_what_is_declared_and_that_is_little(corpus: Corpus) -> None:
    found: set[tuple[str, str, str]] = set()
    for loaded in corpus.kb.all():
        view = card_view(loaded.card, corpus.facts.of(loaded))
        found |= set(declared_only(view))
        page, pdf = expected(view, "page"), expected(view, "pdf")
        assert [s[0] for s in page.sections] == [s[0] for s in pdf.sections], loaded.rel
        if not list(declared_only(view)):
            assert page == pdf, loaded.rel
    assert found <= DECLARED, found - DECLARED
    assert ("Model Selection", "line", "page") in found


def test_real_pdfs_outline_the_same_sections(corpus: Corpus) -> None:
    ids = [CARD_KINDS[k].example["id"] for k in ("model", "sae", "finetuned")]
    assert kb_pdf(corpus.project.root, *ids) == 0
    for card_id in ids:
        loaded = next(c for c in corpus.kb.all() if c.id == card_id)
        view = card_view(loaded.card, corpus.facts.of(loaded))
        outline = outline_titles(pdf_dir(corpus.project.root) / f"{card_id}.pdf")
        chapters = [t for t in outline if t in {s.title for s in view.body}]
        assert chapters == [s.title for s in view.body], card_id


def test_every_list_item_of_the_model_is_on_the_page(corpus: Corpus) -> None:
    """Not only the rows: the items of a list reach the page too (spot check on the example model)."""
    loaded = corpus.kb.get("model", "example-model")
    assert loaded is not None
    facts = corpus.facts.of(loaded)
    pages = plan_pages(Site(corpus.project, corpus.kb, corpus.facts), make_renderer(corpus.project))
    view = card_view(loaded.card, facts)
    items = [
        "".join(s.text for s in item)
        for sec in view.sections
        for b in sec.blocks
        if isinstance(b, Bullets)
        for item in b.items
    ]
    assert items and all(item in pages[facts.page] for item in items)

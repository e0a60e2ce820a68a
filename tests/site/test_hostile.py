"""Hostile card text (tests/hostile.py: every payload in every text field of every card kind) never
reaches a page or a PDF as live markup: plain `mkdocs build`, `kb build` and the print documents.

`kb build` publishes the corpus but for the payloads whose links point at nowhere once defused
(`LINKS_TO_NOWHERE`): it refuses those, naming the card's field, as it refuses any link to nowhere.

Each output is checked for what a browser or a PDF reader would act on: no script, no event handler,
no `style`, no unsafe URL, no frame, object, SVG, form or image from card text; and each payload's
marker text is shown as text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import html

from generator.cli import main
from generator.knowledge import load_knowledge_base
from generator.pdf.build import print_jobs
from generator.pdf.context import card_context
from generator.pdf.document import finish_html, renderer_for
from generator.render.sanitize import removed
from generator.settings import Project
from tests.factory import make_card, new_project, write_card, write_yaml
from tests.hostile import LINKS_TO_NOWHERE, payloads, placements, shipped
from tests.pdf.helpers import pdf_dir, pdf_text
from tests.site.conftest import mkdocs_cli

pytestmark = pytest.mark.slow

MARKERS = sorted({m for p in payloads() for m in re.findall(r"alert\(\d+\)", p)})
UNSAFE_URL = re.compile(r"^(javascript|vbscript|data):")
FORBIDDEN = {
    "script",
    "iframe",
    "frame",
    "object",
    "embed",
    "svg",
    "math",
    "form",
    "textarea",
    "select",
    "button",
    "style",
    "link",
    "meta",
    "base",
    "img",
}
URL_ATTRS = {"href", "src", "action", "formaction", "data", "xlink:href", "poster", "background"}
BENIGN_REMOVALS = re.compile(r"^(a\[href=unsafe-|img$|img\[(alt|src)=)")
"""What the sanitizer may take away from card text on a page: links whose scheme the escaping made
`unsafe-...`, and Markdown images (pages show none). Anything else means live markup got through."""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = new_project(tmp_path_factory.mktemp("hostile"))
    placements(root)
    return root


def problems_in(element: html.HtmlElement, where: str, *, images: bool = False) -> list[str]:
    """What a browser would run or fetch in `element` (a page's article or a print body)."""
    found = []
    for el in element.iter():
        if not isinstance(el.tag, str):
            continue
        if el.tag in FORBIDDEN and not (images and el.tag == "img"):
            found.append(f"{where}: <{el.tag}>")
        if el.tag == "input" and el.get("type") != "radio":
            found.append(f"{where}: <input type={el.get('type')}>")
        for attr, value in el.attrib.items():
            if attr.lower().startswith("on"):
                found.append(f"{where}: <{el.tag} {attr}=...>")
            if attr == "style" and not re.fullmatch(r"\s*((text-align|width)\s*:[^;]*;?\s*)*", value):
                found.append(f"{where}: <{el.tag} style={value!r}>")
            # As a browser reads a URL: C0 controls and spaces trimmed, tabs and newlines dropped.
            cleaned = re.sub(r"[\t\n\r]", "", value.strip("".join(map(chr, range(0x21))))).lower()
            if attr in URL_ATTRS and UNSAFE_URL.match(cleaned):
                found.append(f"{where}: <{el.tag} {attr}={value!r}>")
    return found


def check_site(site: Path, markers: list[str] = MARKERS) -> None:
    found: list[str] = []
    shown = ""
    for path in sorted(site.rglob("*.html")):
        rel = str(path.relative_to(site))
        doc = html.parse(str(path)).getroot()
        # The whole page: nothing card text made runs anywhere (title, navigation, search data).
        for el in doc.iter():
            if isinstance(el.tag, str):
                found += [f"{rel}: <{el.tag} {a}>" for a in el.attrib if a.lower().startswith("on")]
                if el.tag == "script" and "alert(" in (el.text or ""):
                    found.append(f"{rel}: a script holding card text")
        article = doc.find(".//article")
        if article is not None:
            found += problems_in(article, rel)
            shown += article.text_content()
    assert found == []
    assert [m for m in markers if m not in shown] == []  # every payload's text is shown as text


def sanitizer_removals(log: str) -> list[str]:
    """The sanitizer's own report: what it removed that is not benign (see BENIGN_REMOVALS)."""
    out = []
    for line in log.splitlines():
        if "the sanitizer removed markup" in line:
            page, _, items = line.partition(": the sanitizer removed markup made from card text: ")
            out += [
                f"{page}: {item}"
                for item in items.removesuffix(" ...").split(", ")
                if not BENIGN_REMOVALS.match(item)
            ]
    return out


def test_plain_mkdocs_build_publishes_no_live_markup(hostile: Path) -> None:
    result = mkdocs_cli(hostile, "build")
    assert result.returncode == 0, result.stderr[-3000:]
    # The escaping held on its own (the sanitizer found no handler, script or style to remove) ...
    assert sanitizer_removals(result.stderr) == []
    # ... and the output holds whatever the escaping missed.
    check_site(hostile / "site")


@pytest.fixture(scope="module")
def hostile_linkable(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus without the payloads whose links point at nowhere (LINKS_TO_NOWHERE), which
    `test_kb_build_refuses_a_card_link_to_nowhere_naming_the_card` covers."""
    root = new_project(tmp_path_factory.mktemp("hostile-linkable"))
    placements(root, links_to_nowhere=False)
    return root


def test_kb_build_publishes_no_live_markup(
    hostile_linkable: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["-C", str(hostile_linkable), "build", "--no-pdf", "--force"])
    err = capsys.readouterr().err
    assert code == 0, err[-3000:]  # published: the link check passed (links to `unsafe-...` lost their href)
    check_site(hostile_linkable / "site", [m for m in MARKERS if m not in LINKS_TO_NOWHERE])


def test_kb_build_refuses_a_card_link_to_nowhere_naming_the_card(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = new_project(tmp_path)
    write_yaml(root / "kb" / "datasets" / "hcp-rsfmri.yaml", shipped("datasets", "hcp-rsfmri.yaml"))
    nowhere = [p for p in payloads() if any(m in p for m in LINKS_TO_NOWHERE)]
    assert len(nowhere) == len(LINKS_TO_NOWHERE)
    card = make_card(
        id="nowhere",
        related={"datasets": ["hcp-rsfmri"]},
        summary=nowhere[0],
        purpose__summary="Prose.\n\n" + nowhere[1],
    )
    write_card(root, card)
    code = main(["-C", str(root), "build", "--no-pdf"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    errors = [ln for ln in err.splitlines() if ": error: " in ln and not ln.startswith("kb build:")]
    # Each link is named once, at the card's field (FILE:LINE:COL), with the page it was found on,
    # although the summary is shown on three pages (its own, the home page, the models index).
    assert sorted(ln.split(": error: ")[0] for ln in errors) == [
        "kb/model_cards/nowhere.yaml:43:3",
        "kb/model_cards/nowhere.yaml:55:1",
    ], err[-3000:]
    assert sorted(ln.split(": error: ")[1].split(":")[0] for ln in errors) == ["purpose.summary", "summary"]
    assert all(
        " is broken: no such file " in ln
        and "models/nowhere/index.html" in ln
        and "a link in card text must be an http(s) URL" in ln
        for ln in errors
    ), err[-3000:]
    assert "(on index.html, models/index.html, models/nowhere/index.html)" in err  # the summary's pages
    assert not (root / "site").exists()  # nothing published ...
    check_site(root / ".site.failed", [])  # ... and what was built holds no live markup


def test_print_documents_hold_no_live_markup(hostile: Path) -> None:
    project = Project.load(hostile)
    kb, _ = load_knowledge_base(project.root, None, project.kb_dir)
    jobs = print_jobs(project, kb)
    assert {j.facts.kind for j in jobs} >= {"model", "sae", "finetuned"}
    found: list[str] = []
    shown = ""
    for job in jobs:
        raw = renderer_for(job.templates).render(job.template, **card_context(job))
        unsanitized, _ = finish_html(raw, job.rel, sanitize=False)
        sanitized, _ = finish_html(raw, job.rel)
        body = html.document_fromstring(sanitized).body
        found += problems_in(body, job.rel, images=True)
        shown += body.text_content()
        # The escaping held on its own here too: the print sanitizer removed nothing but unsafe links.
        gone = removed(_body(unsanitized), _body(sanitized))
        found += [f"{job.rel}: sanitizer removed {g}" for g in gone if not BENIGN_REMOVALS.match(g)]
    assert found == []
    assert [m for m in MARKERS if m not in shown] == []


def test_pdfs_of_hostile_cards_link_nowhere_unsafe(hostile: Path) -> None:
    from pypdf import PdfReader

    ids = ["hostile-model-0", "hostile-model-3"]
    assert main(["-C", str(hostile), "pdf", "--no-progress", "--jobs", "2", *ids]) == 0
    for card_id in ids:
        pdf = pdf_dir(hostile) / f"{card_id}.pdf"
        reader = PdfReader(pdf)
        assert "/JavaScript" not in str(reader.trailer["/Root"].get("/Names", {}))
        for page in reader.pages:
            for annot in page.get("/Annots") or []:
                action = annot.get_object().get("/A") or {}
                uri = str(action.get("/URI", ""))
                assert not UNSAFE_URL.match(uri.lower()), (card_id, uri)
                assert action.get("/S") != "/JavaScript", card_id
        assert "alert(" in pdf_text(pdf)  # the payloads are printed as text


def _body(document: str) -> str:
    body = html.document_fromstring(document).body
    return (body.text or "") + "".join(html.tostring(c, encoding="unicode") for c in body)

"""What a reader sees in a rendered walkthrough: cover, contents, sections, code, metadata, outline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from generator.schema import TEMPLATE_SECTIONS
from tests.pdf.helpers import kb_pdf, outline_titles, pdf_dir, pdf_text, rich_commit, small_project

EPOCH = 1700000000  # 2023-11-14T22:13:20Z


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = small_project(tmp_path_factory.mktemp("doc"), table_rows=45)
    mp = pytest.MonkeyPatch()
    mp.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    try:
        assert kb_pdf(root) == 0
    finally:
        mp.undo()
    return pdf_dir(root)


@pytest.mark.parametrize("card_id,name", [("tiny-bert", "Tiny BERT"), ("rich-model", "Rich Model")])
def test_pdf_has_pages_name_license_and_every_section(rendered: Path, card_id: str, name: str) -> None:
    path = rendered / f"{card_id}.pdf"
    reader = PdfReader(path)
    assert len(reader.pages) > 1
    text = pdf_text(path)
    assert name in text
    repo = "tiny-bert"
    assert f"This walkthrough references {repo} under Apache-2.0." in text
    for title in (s.title for s in TEMPLATE_SECTIONS.values()):
        assert title in text, title
    outline = outline_titles(path)
    assert outline[:2] == [name, "Contents"]
    for title in (s.title for s in TEMPLATE_SECTIONS.values()):
        assert title in outline, title


def test_every_page_has_the_license_footer_and_page_x_of_y(rendered: Path) -> None:
    reader = PdfReader(rendered / "rich-model.pdf")
    total = len(reader.pages)
    for number, page in enumerate(reader.pages, 1):
        text = page.extract_text()
        assert f"page {number} of {total}" in text
        assert "This walkthrough references tiny-bert under Apache-2.0." in text
        if number > 1:
            assert "Rich Model" in text  # running header


def test_cover_shows_repository_pin_license_date_and_card_path(rendered: Path) -> None:
    cover = PdfReader(rendered / "rich-model.pdf").pages[0].extract_text()
    commit = rich_commit(rendered.parent.parent.parent)
    for expected in (
        "Rich Model",
        "RichM",
        "https://github.com/example/tiny-bert",
        commit,
        "v1.0",
        "Apache-2.0",
        "2023-11-14",
        "kb/model_cards/rich-model.yaml",
        "artifacts/pdf/code_walkthroughs/rich-model.pdf",
        f"Tag / commit pinned at {commit[:7]} (v1.0)",
        "Modality DNA",  # in words, as the site says it
    ):
        assert expected in cover, expected
    assert "Pinned pinned" not in cover


def test_contents_lists_sections_with_their_page_numbers(rendered: Path) -> None:
    reader = PdfReader(rendered / "rich-model.pdf")
    contents = reader.pages[1].extract_text()
    m = re.search(r"Citations \.+ ?(\d+)", contents)
    assert m, contents
    page = int(m.group(1))
    assert "Citations" in reader.pages[page - 1].extract_text()
    assert re.search(r"1\. Encode \.+ ?\d+", contents)


def test_metadata_title_subject_keywords_and_reproducible_date(rendered: Path) -> None:
    meta = PdfReader(rendered / "rich-model.pdf").metadata
    assert meta.title == "Rich Model — code walkthrough"
    assert meta.subject == "A tiny BERT-like DNA encoder used by the tests."
    assert "dna" in meta["/Keywords"] and "Apache-2.0" in meta["/Keywords"]
    assert meta["/CreationDate"].startswith("D:20231114221320")


def test_cited_snippet_keeps_its_real_line_numbers_and_permalink(rendered: Path) -> None:
    text = pdf_text(rendered / "rich-model.pdf")
    assert re.search(r"10\s+def forward\(self, x\):", text), text
    assert re.search(r"12\s+return self\.encoder\(h\)", text)
    commit = rich_commit(rendered.parent.parent.parent)
    assert f"https://github.com/example/tiny-bert/blob/{commit}/model/net.py#L10-L12" in text.replace(
        "\n", ""
    )
    # The second citation's file is not in the repository at the pin.
    assert "The code is at the link above (not copied into this document)." in text
    assert "kb repos sync" not in text  # a reader gets the permalink, not a maintainer's instruction


def test_links_in_the_pdf_point_at_the_permalinks(rendered: Path) -> None:
    uris = []
    for page in PdfReader(rendered / "rich-model.pdf").pages:
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A")
            if action and "/URI" in action:
                uris.append(str(action["/URI"]))
    commit = rich_commit(rendered.parent.parent.parent)
    assert f"https://github.com/example/tiny-bert/blob/{commit}/model/net.py#L10-L12" in uris
    assert "https://arxiv.org/abs/2403.03234" in uris


def test_long_table_repeats_its_header_on_every_page_it_spans(rendered: Path) -> None:
    pages = [p.extract_text() for p in PdfReader(rendered / "rich-model.pdf").pages]
    spanning = [t for t in pages if "Genome " in t]
    assert len(spanning) >= 2
    assert all("Data set" in t for t in spanning)
    assert "Genome 45" in "".join(spanning)


def test_related_card_is_listed_by_name(rendered: Path) -> None:
    text = pdf_text(rendered / "rich-model.pdf")
    section = text[text.rindex("Related Cards") :]
    assert "Tiny BERT" in section and "kb/model_cards/tiny-bert.yaml" in section


def test_facts_read_as_written_by_readers(rendered: Path) -> None:
    text = pdf_text(rendered / "rich-model.pdf")
    section = text[text.index("Architecture & Inductive Biases", text.index("Contents") + 100) :]
    assert "Family StripedHyena" in section and "striped-hyena" not in section
    assert "Tokenizer 6-mers" in section and "Strategy mean over the real tokens" in section

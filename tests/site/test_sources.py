"""A model card's sources on its page and in its PDF: each figure with a link a reader can follow
(upstream lines at the pin, the hub file, the paper), and what could not be checked among the
unverified facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factory import make_card, new_project, write_card
from tests.pdf.helpers import kb_pdf, outline_titles, pdf_dir, pdf_text
from tests.site.conftest import page, render

PIN = "0123456789abcdef0123456789abcdef01234567"
SOURCES = [
    {
        "fields": ["architecture.layers", "architecture.hidden_size"],
        "code": {"path": "src/config.py", "lines": [3, 9]},
        "says": "n_layer 2, d_model 32",
    },
    {"fields": ["tokenization.vocab_size"], "hub": {"file": "config.json"}},
    {"fields": ["training.sources[0].samples"], "paper": "Table 1"},
    {"fields": ["tokenization.context.tokens"], "url": "https://example.org/tiny-bert/context"},
    {
        "fields": ["architecture.parameters"],
        "unverified": "Counted from the file size, not from the weights.",
    },
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = new_project(tmp_path_factory.mktemp("sources"))
    card = make_card(
        sources=SOURCES, checkpoints=[{"name": "tiny", "path": "tiny", "hub_id": "example/tiny-bert"}]
    )
    write_card(root, card)
    render(root)
    return root


def test_the_page_lists_each_source_with_its_link(project: Path) -> None:
    text = page(project, "models/tiny-bert.md")
    sources = text[text.index("## Sources") :]
    assert (
        f"- **layers, hidden size**: [example/tiny-bert: src/config.py, lines 3-9, at 0123456 (v1.0)]"
        f"(https://github.com/example/tiny-bert/blob/{PIN}/src/config.py#L3-L9) (n_layer 2, d_model 32)"
    ) in sources
    assert "(https://huggingface.co/example/tiny-bert/blob/main/config.json)" in sources
    assert (
        "- **training source 1 samples**: [A paper (2024), Table 1](https://arxiv.org/abs/2403.03234)"
        in sources
    )
    assert "](https://example.org/tiny-bert/context)" in sources
    # An unverified source is not a source: it is among the unverified facts, with its field.
    assert "parameters" not in sources.split("## Unverified")[0]
    assert "- parameters: Counted from the file size, not from the weights." in text
    assert "**Check before use:** 1 unverified fact" in text


def test_the_pdf_has_a_sources_section_with_the_links(project: Path) -> None:
    from pypdf import PdfReader

    assert kb_pdf(project, "tiny-bert") == 0
    path = pdf_dir(project) / "tiny-bert.pdf"
    assert "Sources" in outline_titles(path)
    text = " ".join(pdf_text(path).split())
    assert "layers, hidden size" in text and "Counted from the file size" in text
    uris = {
        str(a.get_object()["/A"]["/URI"])
        for p in PdfReader(path).pages
        for a in p.get("/Annots") or []
        if "/A" in a.get_object() and "/URI" in a.get_object()["/A"]
    }
    assert f"https://github.com/example/tiny-bert/blob/{PIN}/src/config.py#L3-L9" in uris
    assert "https://huggingface.co/example/tiny-bert/blob/main/config.json" in uris


def test_a_one_line_source_says_line_and_names_the_repository_as_its_forge_does() -> None:
    from generator.schema import ModelCard
    from generator.schema.labels import source_rows

    one = {"fields": ["architecture.layers"], "code": {"path": "run.sh", "lines": [22, 22]}}
    (row,) = source_rows(ModelCard.model_validate(make_card(sources=[one])))
    assert row.where == "example/tiny-bert: run.sh, line 22, at 0123456 (v1.0)"
    assert row.url == f"https://github.com/example/tiny-bert/blob/{PIN}/run.sh#L22"

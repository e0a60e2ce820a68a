"""The shipped site and PDFs as a reader meets them: sources named, no internal labels, no rows of
dashes, every model page with its card's YAML linked and an edit link, the navigation in reader order."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from lxml import html

from generator.knowledge import load_knowledge_base
from tests.factory import new_project
from tests.site.conftest import mkdocs_cli

INTERNAL = re.compile(
    r"\bseeds? ?-?0\d\d\b|\bfacts sheet\b|\bno seed\b|\bthe seed'?s\b|\bbenchmark seed\b"
    r"|FACTS\.md",
    re.IGNORECASE,
)
"""Words that only make sense inside this project's own files (the seed documents, the facts sheet)."""

DASHES = {"—", "-", "–", ""}
REPO_URL = "https://github.com/example/fm-kb"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shipped_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped cards built with plain `mkdocs build` (PDFs included), with a forge configured."""
    root = new_project(tmp_path_factory.mktemp("reader"), with_shipped_kb=True)
    os.environ["KB_REPO_URL"] = REPO_URL
    try:
        result = mkdocs_cli(root, "build", "--strict")
    finally:
        del os.environ["KB_REPO_URL"]
    assert result.returncode == 0, result.stderr
    return root


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_no_internal_label_on_any_page_or_pdf(shipped_site: Path) -> None:
    from tests.pdf.helpers import pdf_text

    found = []
    for path in _pages(shipped_site / "site"):
        article = html.parse(str(path)).getroot().find(".//article")
        text = article.text_content() if article is not None else ""
        found += [f"{path.relative_to(shipped_site)}: {m.group(0)!r}" for m in INTERNAL.finditer(text)]
    pdfs = sorted((shipped_site / "site" / "pdf").glob("*.pdf"))
    assert pdfs, "no PDF was published"
    for pdf in pdfs:
        found += [f"{pdf.name}: {m.group(0)!r}" for m in INTERNAL.finditer(pdf_text(pdf))]
    assert found == []


def test_no_row_of_dashes_in_any_table(shipped_site: Path) -> None:
    from tests.pdf.helpers import pdf_text

    rows = []
    for path in _pages(shipped_site / "site"):
        for tr in html.parse(str(path)).getroot().iterfind(".//article//tbody/tr"):
            cells = [c.text_content().strip() for c in tr.iterfind("td")]
            if len(cells) > 1 and all(c in DASHES for c in cells[1:]):
                rows.append(f"{path.relative_to(shipped_site)}: {cells}")
    for pdf in sorted((shipped_site / "site" / "pdf").glob("*.pdf")):
        rows += [
            f"{pdf.name}: {line!r}"
            for line in pdf_text(pdf).splitlines()
            if re.fullmatch(r"[A-Z][\w ()/-]{0,40} (—|–)", line.strip())
        ]
    assert rows == []


def test_every_model_page_links_its_yaml_and_edits_it_on_the_forge(shipped_site: Path) -> None:
    kb, _ = load_knowledge_base(shipped_site)
    assert kb.models
    for loaded in kb.models:
        doc = html.parse(str(shipped_site / "site" / "models" / loaded.id / "index.html")).getroot()
        yaml_links = [a for a in doc.iterfind(".//article//a") if a.text_content() == loaded.rel]
        assert yaml_links, f"{loaded.id}: no link named {loaded.rel}"
        target = (shipped_site / "site" / "models" / loaded.id / yaml_links[0].get("href")).resolve()
        assert target.read_bytes() == (shipped_site / loaded.rel).read_bytes()
        edit = f"{REPO_URL}/edit/main/{loaded.rel}"
        assert doc.xpath(f"//a[@rel='edit'][@href='{edit}']"), f"{loaded.id}: no edit button to {edit}"
        assert doc.xpath(f"//article//a[@href='{edit}']"), f"{loaded.id}: no 'edit this page' link"


def test_navigation_is_in_reader_order(shipped_site: Path) -> None:
    doc = html.parse(str(shipped_site / "site" / "index.html")).getroot()
    tabs = [a.text_content().strip() for a in doc.iterfind(".//nav[@class='md-tabs']//a")]
    assert tabs == [
        "Home",
        "Models",
        "Compare",
        "Choose",
        "Datasets",
        "Integrations and recipes",
        "Reference",
    ]
    brainlm = html.parse(str(shipped_site / "site" / "models" / "brainlm" / "index.html")).getroot()
    # The model sidebar groups by modality, as the Models index does.
    groups = [
        " ".join(s.text_content().split())
        for s in brainlm.xpath(
            "//nav[contains(@class, 'md-nav--primary')]//li/label[contains(@class, 'md-nav__link')]"
        )
    ]
    assert groups[:2] == ["DNA", "fMRI"]


def test_comparison_shows_licenses_in_words_and_every_parameter_count_it_knows(shipped_site: Path) -> None:
    doc = html.parse(str(shipped_site / "site" / "catalog" / "comparison" / "index.html")).getroot()
    heads = [th.text_content().strip() for th in doc.iterfind(".//article//thead//th")]
    assert {"Code license", "Weights license", "Needs CUDA"} <= set(heads)
    table = doc.find(".//article//table")
    assert "LicenseRef-" not in table.text_content()
    rows = {
        tr.findtext("td/a"): [td.text_content().strip() for td in tr.iterfind("td")]
        for tr in table.iterfind(".//tbody/tr")
    }
    assert rows["Brain-JEPA"][heads.index("Code license")] == "no license stated"
    assert rows["BrainLM"][heads.index("Weights license")] == "CC-BY-NC-ND-4.0"
    params = heads.index("Parameters")
    # HyenaDNA medium: measured by kb smoke
    assert [r[params] for r in rows.values()].count("not stated") <= 1
    # sentences are footnotes
    assert all(len(r[heads.index("VRAM (inference)")]) <= 16 for r in rows.values())


def test_home_page_counts_models_by_modality(shipped_site: Path) -> None:
    kb, _ = load_knowledge_base(shipped_site)
    text = " ".join(
        html.parse(str(shipped_site / "site" / "index.html"))
        .getroot()
        .find(".//article")
        .text_content()
        .split()
    )
    dna = sum(1 for m in kb.models if m.card.modality == "dna")
    fmri = sum(1 for m in kb.models if m.card.modality == "fmri")
    assert f"{len(kb.models)} models: {dna} DNA · {fmri} fMRI" in text
    assert "do not edit" not in text.lower()
    assert "Brain-JEPA" in text and "License: no license stated" in text
    # The site's own name and description from mkdocs.yml, not a placeholder title.
    home = html.parse(str(shipped_site / "site" / "index.html")).getroot()
    assert home.findtext(".//article//h1").strip() == "Foundation Model Knowledge Base"
    assert "Model cards, code walkthroughs and embedding smoke tests" in text
    assert "verified embeddings" not in text  # promised only where a smoke test passed
    shipped = len(kb.models)
    assert f"Embedding smoke test: 0 passed · 0 failed · {shipped} not run." in text


def test_published_site_keeps_the_cards_yaml_beside_the_pages(shipped_site: Path) -> None:
    yaml_files = sorted(
        p.relative_to(shipped_site / "site").as_posix()
        for p in (shipped_site / "site" / "kb").rglob("*.yaml")
    )
    assert "kb/model_cards/brainlm.yaml" in yaml_files
    assert not any(name.endswith(".lock.yaml") for name in yaml_files)

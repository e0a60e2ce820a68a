"""The shipped site and PDFs as a reader meets them: sources named, no internal labels, no rows of
dashes, every card's page with its YAML linked and an edit link, the navigation in reader order; and
in a reader's words (issue 27): no raw schema value, no builder command or folder, one wording for a
missing value, DNA-only rows on DNA models only, the license sentence naming the repository as its
forge does, the comparison's context in units."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from lxml import html

from generator.facts import build_facts
from generator.knowledge import LoadedCard, load_knowledge_base
from generator.layout import Layout
from generator.schema import ModelCard
from generator.schema.labels import MISSING, NOT_SHOWN, VALUE_WORDS, license_note, repo_words
from generator.sections import CardView, card_view
from generator.sections.model import Callout, Facts, Span, Table
from generator.settings import Project
from tests.factory import new_project, write_card
from tests.site.conftest import mkdocs_cli, model, render
from tests.site.reader import (
    LICENSE_REF,
    article,
    authors_words,
    builder_words,
    compound,
    enumerated_fields,
    raw_values,
    reader_pages,
    word_pattern,
)

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


def test_every_card_page_links_its_yaml_and_edits_it_on_the_forge(shipped_site: Path) -> None:
    """Model pages, and dataset, integration and recipe pages alike."""
    kb, _ = load_knowledge_base(shipped_site)
    assert kb.models and kb.of_kind("dataset")
    for loaded in kb.all():
        built = Layout.built_page(shipped_site / "site", Layout.page_path(loaded.kind, loaded.id))
        doc = html.parse(str(built)).getroot()
        yaml_links = [a for a in doc.iterfind(".//article//a") if a.text_content() == loaded.rel]
        assert yaml_links, f"{loaded.id}: no link named {loaded.rel}"
        target = (built.parent / yaml_links[0].get("href")).resolve()
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
    # sentences are footnotes; a figure keeps its thousands separator ("8,192 bp" is one figure)
    vram = heads.index("VRAM (inference)")
    assert all(len(r[vram]) <= 24 for r in rows.values())
    assert rows["Caduceus-PS 131k"][vram].startswith("~3 GB at 8,192 bp")


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


# -- in a reader's words (issue 27) -------------------------------------------------------------------


@pytest.fixture(scope="module")
def views(shipped_site: Path) -> dict[str, tuple[LoadedCard[ModelCard], CardView]]:
    """Each shipped model card and its section model (what its page and PDF show)."""
    project = Project.load(shipped_site)
    kb, _ = load_knowledge_base(project.root, None, project.kb_dir)
    facts = build_facts(project, kb)
    return {m.id: (m, card_view(m.card, facts.of(m))) for m in kb.models}


def _pdf(shipped_site: Path, card_id: str) -> str:
    from tests.pdf.helpers import pdf_text

    return pdf_text(shipped_site / "site" / Layout.site_pdf_path(card_id))


def _row_labels(view: CardView) -> set[str]:
    blocks = [b for s in view.sections for b in s.blocks]
    blocks += [inner for b in blocks if isinstance(b, Callout) for inner in b.blocks]
    return {r.label for b in blocks if isinstance(b, Facts) for r in b.rows}


def test_every_enumerated_field_has_words_for_each_value_or_is_never_shown() -> None:
    fields = enumerated_fields()
    assert set(fields) == set(VALUE_WORDS) | NOT_SHOWN
    for key, words in VALUE_WORDS.items():
        assert set(fields[key]) <= set(words), f"{key}: no words for {set(fields[key]) - set(words)}"


def test_no_raw_schema_value_on_a_reader_page_or_pdf(
    shipped_site: Path, views: dict[str, tuple[LoadedCard[ModelCard], CardView]]
) -> None:
    """Values from the schema's own enumerations: a compound one (`joint-embedding`) nowhere in the
    text, a one-word one (`causal`) never as a whole table cell or row value; no `LicenseRef-` id."""
    raw = raw_values()
    assert {"joint-embedding", "cosine-distance", "causal", "hub_mean"} <= set(raw)
    compounds = {v for v in raw if compound(v)} - authors_words(shipped_site / "kb")
    found: list[str] = []
    for path in reader_pages(shipped_site / "site"):
        art = article(path)
        if art is None:
            continue
        where = path.relative_to(shipped_site / "site").as_posix()
        found += [
            f"{where}: cell {td.text_content().strip()!r}"
            for td in art.iter("td")
            if td.text_content().strip() in raw
        ]
        for code in art.xpath(".//pre | .//code"):  # code is the card's own, as written
            code.drop_tree()
        text = art.text_content()
        found += [f"{where}: {v!r}" for v in compounds if word_pattern(v).search(text)]
        found += [f"{where}: {m.group(0)!r}" for m in LICENSE_REF.finditer(text)]
    for card_id, (_, view) in views.items():
        text = _pdf(shipped_site, card_id)
        lines = [" ".join(line.split()) for line in text.splitlines()]
        found += [
            f"{card_id}.pdf: {line!r}"
            for line in lines
            for label in _row_labels(view)
            if line.startswith(label + " ") and line.removeprefix(label + " ") in raw
        ]
        found += [f"{card_id}.pdf: {m.group(0)!r}" for m in LICENSE_REF.finditer(text)]
        found += [f"{card_id}.pdf: {v!r}" for v in compounds if word_pattern(v).search(text)]
    assert found == []


def test_no_builder_command_or_folder_on_a_reader_page_or_pdf(shipped_site: Path) -> None:
    """The `kb` commands and the build's folders, from the command line and the layout; the pages for
    authors keep them (the card format names `external_repos/`)."""
    words = builder_words(Project.load(shipped_site))
    found: list[str] = []
    for path in reader_pages(shipped_site / "site"):
        art = article(path)
        text = art.text_content() if art is not None else ""
        where = path.relative_to(shipped_site / "site").as_posix()
        found += [f"{where}: {m.group(0)!r}" for w in words for m in w.finditer(text)]
    for pdf in sorted((shipped_site / "site" / "pdf").glob("*.pdf")):
        text = _pdf(shipped_site, pdf.stem)
        found += [f"{pdf.name}: {m.group(0)!r}" for w in words for m in w.finditer(text)]
    assert found == []
    card_format = article(Layout.built_page(shipped_site / "site", Layout.CATALOG_PAGES["card_format"]))
    assert card_format is not None and words[1].search(card_format.text_content())


def test_a_missing_value_reads_not_stated_on_every_page_and_pdf(
    shipped_site: Path, views: dict[str, tuple[LoadedCard[ModelCard], CardView]]
) -> None:
    site = shipped_site / "site"
    empty = []
    for path in reader_pages(site):
        art = article(path)
        cells = [td.text_content().strip() for td in art.iter("td")] if art is not None else []
        empty += [f"{path.relative_to(site)}: {c!r}" for c in cells if c in DASHES]
    assert empty == []

    def cell(page: str, name: str, column: str) -> str:
        doc = html.parse(str(Layout.built_page(site, page))).getroot()
        heads = [th.text_content().strip() for th in doc.iterfind(".//article//thead//th")]
        row = next(tr for tr in doc.iterfind(".//article//tbody/tr") if tr.findtext("td/a") == name)
        return str(row.xpath("td")[heads.index(column)].text_content().strip())

    # HyenaDNA's card states no parameter count: the model list and the comparison say so alike.
    assert cell("models/index.md", "HyenaDNA medium 160k", "Parameters") == MISSING
    assert cell(Layout.CATALOG_PAGES["comparison"], "HyenaDNA medium 160k", "Parameters") == MISSING
    # In the PDFs, each table cell a card leaves empty reads the same.
    for card_id, (_, view) in views.items():
        missing = sum(
            cells.count((Span(MISSING),))
            for s in view.sections
            for b in s.blocks
            if isinstance(b, Table)
            for cells in b.rows
        )
        assert " ".join(_pdf(shipped_site, card_id).split()).count(MISSING) >= missing, card_id
    assert "Variant effect prediction AUROC not stated" in " ".join(
        _pdf(shipped_site, "caduceus-ps-131k").split()
    )


def test_reverse_complement_is_a_row_of_dna_models_only(
    shipped_site: Path, views: dict[str, tuple[LoadedCard[ModelCard], CardView]]
) -> None:
    modalities = {m.card.modality for m, _ in views.values()}
    assert {"dna", "fmri"} <= modalities
    for card_id, (loaded, _) in views.items():
        built = Layout.built_page(shipped_site / "site", Layout.page_path(loaded.kind, card_id))
        labels = {tr.findtext("td") for tr in article(built).iter("tr")}
        in_pdf = any(
            line.startswith("Reverse complement ") for line in _pdf(shipped_site, card_id).splitlines()
        )
        dna = loaded.card.modality == "dna"
        assert ("Reverse complement" in labels, in_pdf) == (dna, dna), card_id


def test_the_license_sentence_names_the_repository_as_its_forge_does(
    shipped_site: Path, views: dict[str, tuple[LoadedCard[ModelCard], CardView]]
) -> None:
    """On the page, on the PDF's cover and in its footer on every page: `the kuleshov-group/caduceus
    repository`, never the card's folder name for it (`references caduceus under ...`)."""
    from pypdf import PdfReader

    for card_id, (loaded, _) in views.items():
        card = loaded.card
        note = license_note(card)
        assert f"the {repo_words(card.repo)} repository" in note and "/" in repo_words(card.repo)
        assert f"references {card.repo.name} " not in note
        built = Layout.built_page(shipped_site / "site", Layout.page_path(loaded.kind, card_id))
        assert note in " ".join(article(built).text_content().split())
        for page in PdfReader(shipped_site / "site" / Layout.site_pdf_path(card_id)).pages:
            # A footer line may break after a hyphen of a license id (`CC-BY-NC-` / `ND-4.0`).
            assert note in re.sub(r"-\s+", "-", " ".join(page.extract_text().split())), card_id


def test_the_comparison_gives_context_in_units_with_a_sort_key_that_keeps_them_apart(
    shipped_site: Path, views: dict[str, tuple[LoadedCard[ModelCard], CardView]]
) -> None:
    doc = html.parse(str(Layout.built_page(shipped_site / "site", Layout.CATALOG_PAGES["comparison"])))
    heads = [th.text_content().strip() for th in doc.getroot().iterfind(".//article//thead//th")]
    column = heads.index("Context")
    cells = {
        tr.findtext("td/a"): tr.xpath("td")[column] for tr in doc.getroot().iterfind(".//article//tbody/tr")
    }
    modality = {str(m.card.name): m.card.modality for m, _ in views.values()}
    keys: dict[str, list[int]] = {"bp": [], "tokens": [], "timepoints": []}
    for name, td in cells.items():
        (span,) = td.xpath(".//span[@data-sort]")
        unit = re.match(r"[\d,]+ (bp|tokens|timepoints)", span.text_content())
        assert unit, f"{name}: {span.text_content()!r}"
        assert (unit.group(1) == "timepoints") == (modality[name] == "fmri"), name
        keys[unit.group(1)].append(int(span.get("data-sort")))
    assert min(keys["bp"]) > max(keys["tokens"]) > max(keys["timepoints"])  # units apart, bp first
    key = {name: int(td.xpath(".//span/@data-sort")[0]) for name, td in cells.items()}
    assert key["HyenaDNA medium 160k"] > key["Nucleotide Transformer 2.5B multi-species (v1)"]


def test_a_venue_that_names_its_year_is_not_followed_by_it_again(project: Path) -> None:
    """`arXiv preprint (ICML 2024)`, not `arXiv preprint (ICML 2024) (2024)`, on the page and in the PDF."""
    from tests.pdf.helpers import kb_pdf, pdf_dir, pdf_text

    citation = {
        "title": "A paper",
        "authors": ["Doe, J."],
        "year": 2024,
        "venue": "arXiv preprint (ICML 2024)",
    }
    write_card(project, model("tiny-cited", citations=[citation]))
    render(project)
    text = (project / "site_src" / "models" / "tiny-cited.md").read_text(encoding="utf-8")
    assert (
        "*arXiv preprint (ICML 2024)*." in text
        and "(2024)" not in text.split("## Citations")[1].split("```")[0]
    )
    assert kb_pdf(project, "tiny-cited") == 0
    pdf = " ".join(pdf_text(pdf_dir(project) / "tiny-cited.pdf").split())
    assert "arXiv preprint (ICML 2024)." in pdf and "(2024)" not in pdf

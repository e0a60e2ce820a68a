"""Every shipped model card has a complete PDF: readable, several pages, license, name, sections, outline."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from generator.knowledge import KnowledgeBase, load_knowledge_base
from generator.pdf import PdfRun, build_pdfs
from generator.render import views
from generator.schema import TEMPLATE_SECTIONS, ModelCard
from generator.settings import Project
from tests.factory import REPO_ROOT, new_project
from tests.pdf.helpers import outline_titles, pdf_text

SHIPPED = sorted((REPO_ROOT / "kb" / "model_cards").glob("*.yaml"))
SHIPPED = [p for p in SHIPPED if not p.name.endswith(".lock.yaml")]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SHIPPED, reason="no shipped model cards under kb/model_cards/"),
]


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> tuple[KnowledgeBase, PdfRun]:
    root = new_project(tmp_path_factory.mktemp("shipped"), with_shipped_kb=True)
    project = Project.load(root)
    kb, _ = load_knowledge_base(project.root, None, project.kb_dir)
    return kb, build_pdfs(project, kb, jobs=2, progress=False)


def test_no_shipped_card_fails_or_warns(shipped: tuple[KnowledgeBase, PdfRun]) -> None:
    _, run = shipped
    assert run.failed == {}
    assert run.warnings == []
    assert sorted(run.rendered) == sorted(p.stem for p in SHIPPED)


@pytest.mark.parametrize("card_file", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_card_pdf(shipped: tuple[KnowledgeBase, PdfRun], card_file: Path) -> None:
    kb, run = shipped
    loaded = kb.get("model", card_file.stem)
    assert loaded is not None, f"{card_file.name} does not validate (run kb validate)"
    card = loaded.card
    assert isinstance(card, ModelCard)
    path = run.paths[card.id]
    assert len(PdfReader(path).pages) > 1
    text = pdf_text(path)
    assert card.name in text
    assert views.license_note(card) in " ".join(text.split())
    outline = outline_titles(path)
    for title in (s.title for s in TEMPLATE_SECTIONS.values()):
        assert title in text, title
        assert title in outline, title
    st = card.smoke_test
    if st and st.input.kind == "dna" and not st.input.add_special_tokens:  # the Caduceus cards
        assert "tokenized without special tokens" in " ".join(text.split())  # as the page says it
    if card.integration.strategy:  # the strategy card by its name, with its file
        strategy = kb.get("integration", card.integration.strategy)
        assert strategy is not None
        shown = f"{strategy.card.name} ({strategy.rel})"  # a line may break after a hyphen in the path
        assert "".join(shown.split()) in "".join(text.split())

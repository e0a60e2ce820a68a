"""PDFs of SAE and fine-tuned model cards (seed 003), imported from the sample folders of tests/data."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.cli import main
from tests.factory import REPO_ROOT, make_card, new_project, write_card
from tests.pdf.helpers import kb_pdf, outline_titles, pdf_dir, pdf_text

MODELS = REPO_ROOT / "tests" / "data" / "interop" / "models"

CASES = [
    (
        "sae/gpt2-small_mlp0_exp2_1M",
        "gpt2-small_mlp0_exp2_1m",
        "Sparse autoencoder",
        [
            "Sparse Autoencoder",
            "Training",
            "Performance",
            "Intended Use",
            "Limitations",
            "Weights",
            "Related Cards",
        ],
        ["Expansion factor", "L1 coefficient"],
    ),
    (
        "fine_tuned/gpt2-small_biomed_500K",
        "gpt2-small_biomed_500k",
        "Fine-tuned model",
        [
            "Domain",
            "Training",
            "Performance",
            "Intended Use",
            "Limitations",
            "Weights",
            "Related Cards",
        ],
        ["Domain", "Epochs"],
    ),
]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = new_project(tmp_path_factory.mktemp("derived"))
    # The base model's own card, so the derived cards link to it.
    write_card(root, make_card(id="gpt2-small", name="GPT-2 Small"))
    assert main(["-C", str(root), "import", *(str(MODELS / folder) for folder, *_ in CASES)]) == 0
    assert kb_pdf(root) == 0
    return root


@pytest.mark.parametrize(
    ("folder", "card_id", "kicker", "sections", "facts"), CASES, ids=[c[1] for c in CASES]
)
def test_derived_card_pdf_has_its_sections_facts_and_outline(
    rendered: Path, folder: str, card_id: str, kicker: str, sections: list[str], facts: list[str]
) -> None:
    path = pdf_dir(rendered) / f"{card_id}.pdf"
    text = pdf_text(path)
    squashed = " ".join(text.split())
    assert Path(folder).name in squashed  # the card's name, as the folder gives it
    assert kicker.upper().replace(" ", "") in squashed.upper().replace(" ", "")
    card_folder = "kb/sae_cards" if folder.startswith("sae/") else "kb/finetuned_cards"
    for fact in [*facts, "GPT-2 Small", card_folder]:
        assert fact in squashed, fact
    outline = outline_titles(path)
    for title in sections:
        assert title in squashed, title
        assert title in outline, title

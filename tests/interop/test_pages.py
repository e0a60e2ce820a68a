"""Pages of SAE and fine-tuned cards: the seed-003 facts, kept sections, and links to the base model."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.cli import main
from tests.factory import make_card, write_card


def test_pages_link_the_base_model_both_ways(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_card(project, make_card())
    folders = ["models/sae/pythia-70m_attn3_exp4_10M", "models/fine_tuned/gpt2-small_biomed_500K"]
    assert main(["import", *folders]) == 0
    card = project / "kb/finetuned_cards/gpt2-small_biomed_500k.yaml"
    card.write_text(
        card.read_text(encoding="utf-8").replace("base_model:", "base_model_card: tiny-bert\nbase_model:", 1),
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["render"]) == 0
    tuned = (project / "site_src/finetuned/gpt2-small_biomed_500k.md").read_text(encoding="utf-8")
    assert "| Base model | [GPT-2 Small](../models/tiny-bert.md) |" in tuned
    assert (
        "| Hub id | [`gpt2`](https://huggingface.co/gpt2) |" in tuned and "| Source | Hugging Face |" in tuned
    )
    assert "| Tokens processed | 500K (500,000) |" in tuned
    model = (project / "site_src/models/tiny-bert.md").read_text(encoding="utf-8")
    assert "[gpt2-small_biomed_500K](../finetuned/gpt2-small_biomed_500k.md)" in model
    sae = (project / "site_src/sae/pythia-70m_attn3_exp4_10m.md").read_text(encoding="utf-8")
    assert "| Base model | Pythia 70M |" in sae and "| Source | EleutherAI |" in sae
    assert "| Hub id | [`EleutherAI/pythia-70m`](https://huggingface.co/EleutherAI/pythia-70m) |" in sae
    assert "| Features | 2048 |" in sae
    assert "**Evaluation:**\n\n| metric | value |\n| --- | --- |\n| explained variance | 0.87 |" in sae
    assert "| SHA-256 | `7ca6887d0da5a7b10efe34599b30549c5265b75ca64d25afc032acd90a520a2c` |" in sae
    # Their catalog entries: one index page per kind, with the seed-003 facts as columns.
    sae_index = (project / "site_src/sae/index.md").read_text(encoding="utf-8")
    assert (
        "| [pythia-70m_attn3_exp4_10M](pythia-70m_attn3_exp4_10m.md) | Pythia 70M | `attn3` | 512 | 4 | 10M |"
    ) in sae_index
    tuned_index = (project / "site_src/finetuned/index.md").read_text(encoding="utf-8")
    assert (
        "| [gpt2-small_biomed_500K](gpt2-small_biomed_500k.md) | GPT-2 Small | `biomed` | "
        "full fine-tuning | 500K | 2.41 |"
    ) in tuned_index


def test_lfs_page_says_weights_absent(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "models/sae/gpt2-small_resid5_exp8_2B"]) == 0
    assert main(["render"]) == 0
    page = (project / "site_src/sae/gpt2-small_resid5_exp8_2b.md").read_text(encoding="utf-8")
    assert "| Size | 452,984,832 bytes |" in page
    assert (
        "| Git LFS | the folder held an LFS pointer: the weights were not present when the card was "
        "imported |"
    ) in page
    assert "| Feature activation rate | 1.2% |" in page


def test_card_html_is_escaped(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "models/sae/gpt2-small_mlp0_exp2_1M"]) == 0
    card = project / "kb/sae_cards/gpt2-small_mlp0_exp2_1m.yaml"
    card.write_text(
        card.read_text(encoding="utf-8").replace(
            "author: Interpretability Group", "author: <script>alert(1)</script>"
        ),
        encoding="utf-8",
    )
    assert main(["render"]) == 0
    page = (project / "site_src/sae/gpt2-small_mlp0_exp2_1m.md").read_text(encoding="utf-8")
    assert "| Author | &lt;script&gt;alert(1)&lt;/script&gt; |" in page
    assert "<script>" not in page

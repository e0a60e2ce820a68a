"""Choosing cards by id (`KnowledgeBase.select`), as every command that takes ids does it."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.cli import main
from tests.factory import make_card, new_project, write_card


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Cards `bert` and `tiny-bert`, both with an error of their own."""
    root = new_project(tmp_path)
    for card_id in ("bert", "tiny-bert"):
        write_card(root, make_card(id=card_id, name=card_id, license=f"Not-A-License-{card_id}"))
    return root


def test_kb_smoke_bert_reports_only_berts_problems(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(project), "smoke", "bert", "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert "kb/model_cards/bert.yaml:" in err and "Not-A-License-bert" in err
    assert "tiny-bert" not in err


def test_an_unknown_id_says_which_card_was_meant(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_card(project, make_card(id="tiny-bert"))  # valid again
    assert main(["-C", str(project), "smoke", "tiny-brt", "--device", "cpu"]) == 2
    assert capsys.readouterr().err == (
        "kb smoke: error: no model card 'tiny-brt' in kb/model_cards/ (did you mean 'tiny-bert'?)\n"
    )
    assert main(["-C", str(project), "export", "hf", "tiny-brt"]) == 2
    assert "no model, SAE or fine-tuned card with id 'tiny-brt' in kb/ (known: bert, tiny-bert)" in (
        capsys.readouterr().err
    )

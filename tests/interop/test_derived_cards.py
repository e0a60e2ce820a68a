"""SAE and fine-tuned cards: names agree with fields, token counts parse, base model cards link."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from generator.cli import main
from generator.interop.cardfile import card_yaml
from generator.knowledge import load_knowledge_base
from generator.schema.derived import format_token_count, parse_token_count
from tests.factory import make_card, write_card

SAE: dict[str, Any] = {
    "schema_version": 1,
    "id": "gpt2-small_mlp0_exp2_1m",
    "name": "gpt2-small_mlp0_exp2_1M",
    "base_model": {"name": "GPT-2 Small", "short_name": "gpt2-small", "source": "Hugging Face"},
    "sae": {"layer": "mlp0", "input_dim": 768, "expansion_factor": 2},
    "training": {"tokens": "1M"},
}
FINETUNED: dict[str, Any] = {
    "schema_version": 1,
    "id": "tiny-bert_promoters_500k",
    "name": "tiny-bert_promoters_500K",
    "base_model": {"name": "Tiny BERT", "short_name": "tiny-bert"},
    "base_model_card": "tiny-bert",
    "domain": "promoters",
    "training": {"tokens": 500000},
}


def sae(**changes: Any) -> dict[str, Any]:
    card = copy.deepcopy(SAE)
    for key, value in changes.items():
        target = card
        *parents, last = key.split("__")
        for part in parents:
            target = target[part]
        target[last] = value
    return card


def write(project: Path, card: dict[str, Any], folder: str, name: str | None = None) -> None:
    """Write a card with its keys in the order given (so line numbers are predictable)."""
    path = project / "kb" / folder / f"{name or card['id']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(card_yaml(card), encoding="utf-8")


def validate(project: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """Exit status and the problems reported for the SAE and fine-tuned cards."""
    code = main(["validate"])
    lines = capsys.readouterr().out.splitlines()
    return code, [line for line in lines if not line.startswith("kb/model_cards/")]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1M", 1_000_000),
        ("500K", 500_000),
        ("2B", 2_000_000_000),
        ("1.5M", 1_500_000),
        ("10m", 10_000_000),
        ("1,000,000", 1_000_000),
        (4096, 4096),
    ],
)
def test_token_counts_parse(text: str | int, number: int) -> None:
    assert parse_token_count(text) == number


@pytest.mark.parametrize(
    ("number", "text"),
    [(1_000_000, "1M"), (500_000, "500K"), (2_000_000_000, "2B"), (1_500_000, "1.5M"), (999, "999")],
)
def test_token_counts_format(number: int, text: str) -> None:
    assert format_token_count(number) == text


def test_valid_cards(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, SAE, "sae_cards")
    write_card(project, make_card())
    write(project, FINETUNED, "finetuned_cards")
    assert validate(project, capsys) == (0, [])


def test_name_disagreeing_with_expansion_factor(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, sae(id="gpt2-small_mlp0_exp4_1m", name="gpt2-small_mlp0_exp4_1M"), "sae_cards")
    assert validate(project, capsys) == (
        1,
        [
            "kb/sae_cards/gpt2-small_mlp0_exp4_1m.yaml:3:1: error: name: name part 'exp4' says "
            "expansion factor 4, but sae.expansion_factor is 2 "
            "(name it gpt2-small_mlp0_exp2_1M or correct sae.expansion_factor)",
        ],
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"base_model__short_name": "gpt2-medium"},
            "name: name part 'gpt2-small' says base model 'gpt2-small', "
            "but base_model.short_name is 'gpt2-medium' "
            "(name it gpt2-medium_mlp0_exp2_1M or correct base_model.short_name)",
        ),
        (
            {"sae__layer": "mlp1"},
            "name: name part 'mlp0' says layer 'mlp0', but sae.layer is 'mlp1' "
            "(name it gpt2-small_mlp1_exp2_1M or correct sae.layer)",
        ),
        (
            {"training__tokens": "2M"},
            "name: name part '1M' says 1,000,000 training tokens, but training.tokens is 2M (2,000,000) "
            "(name it gpt2-small_mlp0_exp2_2M or correct training.tokens)",
        ),
    ],
)
def test_each_name_part_is_checked(
    project: Path, capsys: pytest.CaptureFixture[str], changes: dict[str, Any], message: str
) -> None:
    write(project, sae(**changes), "sae_cards")
    expected = f"kb/sae_cards/gpt2-small_mlp0_exp2_1m.yaml:3:1: error: {message}"
    assert validate(project, capsys) == (1, [expected])


def test_rounded_token_count_agrees(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, sae(training={"tokens": 1_048_576}), "sae_cards")
    assert validate(project, capsys) == (0, [])


def test_id_is_the_lower_cased_name(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, sae(id="gpt2-small-sae"), "sae_cards")
    assert validate(project, capsys) == (
        1,
        [
            "kb/sae_cards/gpt2-small-sae.yaml:2:1: error: id: id 'gpt2-small-sae' is not the name "
            "'gpt2-small_mlp0_exp2_1M' lower-cased (set id: gpt2-small_mlp0_exp2_1m (and name the file "
            "gpt2-small_mlp0_exp2_1m.yaml))",
        ],
    )


def test_finetuned_domain_disagrees(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_card(project, make_card())
    write(project, {**FINETUNED, "domain": "enhancers"}, "finetuned_cards")
    assert validate(project, capsys) == (
        1,
        [
            "kb/finetuned_cards/tiny-bert_promoters_500k.yaml:3:1: error: name: name part 'promoters' says "
            "domain 'promoters', but domain is 'enhancers' "
            "(name it tiny-bert_enhancers_500K or correct domain)",
        ],
    )


def test_bad_token_count_is_located(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, sae(training={"tokens": "lots"}), "sae_cards")
    code, out = validate(project, capsys)
    assert code == 1
    assert out == [
        "kb/sae_cards/gpt2-small_mlp0_exp2_1m.yaml:13:3: error: training.tokens: "
        "'lots' is not a token count: write e.g. 1M, 500K, 2B or 1000000"
    ]


def test_base_model_card_links_both_ways(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_card(project, make_card())
    write(project, FINETUNED, "finetuned_cards")
    kb, problems = load_knowledge_base(project, None, project / "kb")
    assert [p for p in problems if p.is_error] == []
    model = kb.get("model", "tiny-bert")
    tuned = kb.get("finetuned", "tiny-bert_promoters_500k")
    assert model is not None and tuned is not None
    assert [c.id for c in kb.related(tuned)["model"]] == ["tiny-bert"]
    assert [c.id for c in kb.related(model)["finetuned"]] == ["tiny-bert_promoters_500k"]


def test_missing_base_model_card(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(project, FINETUNED, "finetuned_cards")
    code, out = validate(project, capsys)
    assert code == 1
    assert out == [
        "kb/finetuned_cards/tiny-bert_promoters_500k.yaml:7:1: error: base_model_card: "
        "model card 'tiny-bert' does not exist in kb/model_cards/ "
        "(add kb/model_cards/tiny-bert.yaml)"
    ]

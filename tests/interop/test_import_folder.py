"""`kb import DIR...` over the seed-003 sample folders: the card written and every problem reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from generator.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def load(path: Path) -> dict:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def test_sae_folder(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "import", "models/sae/gpt2-small_mlp0_exp2_1M")
    assert code == 0, out
    assert out == [
        "wrote kb/sae_cards/gpt2-small_mlp0_exp2_1m.yaml",
        "models/sae/gpt2-small_mlp0_exp2_1M/config.json:0:0: info: config.json: "
        "no card field for 'seed'; kept in extra_sections",
    ]
    assert err == "1 card(s) imported: 0 error(s), 0 warning(s)\n"
    card = load(project / "kb/sae_cards/gpt2-small_mlp0_exp2_1m.yaml")
    assert card == {
        "schema_version": 1,
        "id": "gpt2-small_mlp0_exp2_1m",
        "name": "gpt2-small_mlp0_exp2_1M",
        "base_model": {
            "name": "GPT-2 Small",
            "short_name": "gpt2-small",
            "source": "Hugging Face",
            "hub_id": "gpt2",
        },
        "sae": {
            "layer": "mlp0",
            "target_layer": "MLP output of block 0",
            "hook_point": "blocks.0.hook_mlp_out",
            "input_dim": 768,
            "expansion_factor": 2,
        },
        "training": {
            "dataset": "Skylion007/openwebtext",
            "tokens": "1M",
            "batch_size": 4096,
            "context_size": 128,
            "learning_rate": 0.0004,
            "l1_coefficient": 8e-05,
        },
        "performance": {"final_loss": 0.0123, "feature_activation_rate": 0.035},
        "intended_use": "This model is intended for interpretability research on GPT-2 Small's first "
        "MLP layer.",
        "limitations": [
            "Trained on only 1M tokens: many features are dead or noisy.",
            "Not evaluated on downstream tasks.",
        ],
        "notes": "Trained with SAELens defaults apart from the values above.",
        "date": "2024-05-14",
        "author": "Interpretability Group",
        "weights": {
            "file": "model.pt",
            "size_bytes": 30,
            "sha256": "5ee4c3b9c54c1c7d26be489d1a30854e26d43d8542dfd072a8604809a7166674",
        },
        "extra_sections": [{"title": "config.json", "body": '```json\n{\n  "seed": 42\n}\n```\n'}],
    }
    # The weights are described, not copied.
    assert not list((project / "kb").rglob("*.pt"))
    assert main(["validate"]) == 0


def test_finetuned_folder(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "import", "models/fine_tuned/gpt2-small_biomed_500K")
    assert code == 0
    assert out == ["wrote kb/finetuned_cards/gpt2-small_biomed_500k.yaml"]
    card = load(project / "kb/finetuned_cards/gpt2-small_biomed_500k.yaml")
    assert card["name"] == "gpt2-small_biomed_500K"
    assert card["domain"] == "biomed"
    assert card["domain_description"] == "Biomedical abstracts"
    assert card["base_model"] == {
        "name": "GPT-2 Small",
        "short_name": "gpt2-small",
        "source": "Hugging Face",
        "hub_id": "gpt2",
    }
    assert card["training"] == {
        "dataset": "pubmed_abstracts",
        "tokens": "500K",
        "batch_size": 8,
        "context_size": 512,
        "learning_rate": 5e-05,
        "epochs": 3.0,
        "method": "full fine-tuning",
    }
    assert card["date"] == "2024-06"
    assert card["weights"]["size_bytes"] == 37


def test_lfs_pointer_is_recorded_not_taken_for_weights(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "import", "models/sae/gpt2-small_resid5_exp8_2B")
    assert code == 0
    assert out[1:] == [
        "models/sae/gpt2-small_resid5_exp8_2B/model.pt:0:0: info: model.pt is a Git LFS pointer "
        "(oid sha256:4d7a214614ab..., 452,984,832 bytes): the weights are not present; recorded the "
        "pointer's oid and size (run `git lfs pull` to fetch them)",
    ]
    card = load(project / "kb/sae_cards/gpt2-small_resid5_exp8_2b.yaml")
    assert card["weights"] == {
        "file": "model.pt",
        "size_bytes": 452984832,
        "sha256": "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393",
        "lfs_pointer": True,
    }
    assert card["training"]["tokens"] == "2B"
    assert card["sae"]["dict_size"] == 6144


def test_missing_and_extra_sections_are_reported_and_kept(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "import", "models/sae/pythia-70m_attn3_exp4_10M")
    assert code == 0  # warnings only: the card validates
    md = "models/sae/pythia-70m_attn3_exp4_10M/model_card.md"
    assert out == [
        "wrote kb/sae_cards/pythia-70m_attn3_exp4_10m.yaml",
        f"{md}:0:0: warning: Additional Notes: section '## Additional Notes' is missing",
        f"{md}:0:0: warning: Performance: section '## Performance' is missing",
        f"{md}:15:1: warning: Training: 'Batch Size' is 1024 here but 2048 in config.json; using config.json",
        f"{md}:16:1: warning: Training: 'Warmup Steps' is not a field of this section; kept in "
        "extra_sections: - Warmup Steps: 500",
        f"{md}:20:1: info: Evaluation: section 'Evaluation' is not in the seed-003 template; kept in "
        "extra_sections",
        f"{md}:25:1: warning: Intended Use: section 'Intended Use' is empty or still the template's "
        "placeholder",
        f"{md}:28:1: warning: Limitations: section 'Limitations' is empty or still the template's "
        "placeholder",
        f"{md}:32:1: warning: Date: date 'spring 2024' is not YYYY-MM-DD; kept in extra_sections",
    ]
    assert err == "1 card(s) imported: 0 error(s), 7 warning(s)\n"
    card = load(project / "kb/sae_cards/pythia-70m_attn3_exp4_10m.yaml")
    assert card["extra_sections"] == [
        {"title": "Training", "body": "- Warmup Steps: 500"},
        {"title": "Evaluation", "body": "| metric | value |\n| --- | --- |\n| explained variance | 0.87 |\n"},
        {"title": "Date", "body": "spring 2024"},
    ]
    assert "performance" not in card and "intended_use" not in card


def test_existing_card_needs_force(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "models/sae/gpt2-small_mlp0_exp2_1M"]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "import", "models/sae/gpt2-small_mlp0_exp2_1M")
    assert code == 1
    assert out[0] == (
        "kb/sae_cards/gpt2-small_mlp0_exp2_1m.yaml:0:0: error: "
        "kb/sae_cards/gpt2-small_mlp0_exp2_1m.yaml exists already: pass --force to replace it"
    )
    assert main(["import", "--force", "models/sae/gpt2-small_mlp0_exp2_1M"]) == 0


def test_output_kb_dir_and_unknown_kind(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "elsewhere"
    assert main(["import", "-o", str(other), "models/fine_tuned/gpt2-small_biomed_500K"]) == 0
    assert (other / "finetuned_cards/gpt2-small_biomed_500k.yaml").is_file()
    odd = project / "odd"
    odd.mkdir()
    (odd / "config.json").write_text("{}")
    capsys.readouterr()
    code, _, err = run(capsys, "import", "odd")
    assert code == 2
    assert err == (
        "kb import: error: odd: cannot tell whether this is an SAE or a fine-tuned model "
        "(put it under sae/ or fine_tuned/, or pass --kind sae|finetuned)\n"
    )

"""Every stand-in family passes `kb smoke --device cpu`, and the report says what a user needs."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from tests.factory import REPO_ROOT
from tests.signing import allow, new_key, signing_with
from tests.smoke.conftest import SmokeProject

FAMILIES = [
    "tiny-brainlm",
    "tiny-caduceus-ph",
    "tiny-caduceus-ph-unfused",
    "tiny-caduceus-ps",
    "tiny-caduceus-ps-unfused",
    "tiny-dnabert",
    "tiny-hyena",
    "tiny-mamba",
    "tiny-nt",
]
"""BERT-like with a mask, ESM-like (NT) through its masked-LM wrapper, transformers' MambaModel,
a Hyena-like causal custom-code model without a mask, Caduceus-shaped PH and PS custom-code models
(fused add + RMSNorm as the hub config, and unfused LayerNorm) on the reference kernels, and a
BrainLM-like ViT-MAE fed ROI-by-time tensors."""

CHECKS = [
    "weights",
    "hidden width",
    "projector width",
    "layers",
    "vocabulary",
    "parameters",
    "context",
    "shape",
    "finite",
    "not constant",
    "layernorm",
    "determinism",
    "padding invariance",
    "reverse complement",
    "zero-shot",
    "golden reference",
]


@pytest.fixture(scope="module")
def all_passed(
    standin_template: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, int, str]:
    """One `kb smoke --device cpu` over every stand-in (a single run keeps the suite fast)."""
    import contextlib
    import io
    import shutil

    from generator.cli import main

    template, _ = standin_template
    root = tmp_path_factory.mktemp("smoke-all") / "project"
    shutil.copytree(template, root, symlinks=True)
    shutil.copy(REPO_ROOT / "mkdocs.yml", root / "mkdocs.yml")
    key = new_key(tmp_path_factory.mktemp("keys"))
    allow(root, ("smoke-ci", key))  # the reports are signed by an allowed signer, as a trusted run's are
    out = io.StringIO()
    with contextlib.redirect_stdout(out), signing_with(key):
        code = main(["-C", str(root), "smoke", "--device", "cpu"])
    return root, code, out.getvalue()


def test_every_family_passes(all_passed: tuple[Path, int, str]) -> None:
    _, code, out = all_passed
    assert code == 0
    for card_id in FAMILIES:
        assert f"PASSED  {card_id} (cpu/float32, load " in out


@pytest.mark.parametrize("card_id", FAMILIES)
def test_report_contents(all_passed: tuple[Path, int, str], card_id: str) -> None:
    root, _, _ = all_passed
    report = json.loads((root / "artifacts" / "smoke" / f"{card_id}.json").read_text())
    assert report["status"] == "passed"
    expected = [
        ("batch invariance" if card_id == "tiny-brainlm" and c == "padding invariance" else c) for c in CHECKS
    ]
    assert [c["name"] for c in report["checks"] if c["name"] != "remote code"] == expected
    assert report["device"] == "cpu" and report["dtype"] == "float32"
    assert report["timings"]["load_s"] > 0 and report["timings"]["forward_per_sample_ms"] > 0
    assert report["memory"]["kind"] == "process_peak_rss" and report["memory"]["peak_mb"] > 0
    assert {"torch", "transformers", "python"} <= set(report["versions"])
    assert report["inputs_hash"] and report["finished_at"]
    # The checkpoint's hash covers every file; the upstream commit is the repository's HEAD.
    ckpt = root / report["checkpoint"]["path"]
    files = {
        p.relative_to(ckpt).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(ckpt.rglob("*"))
        if p.is_file()
    }
    assert report["checkpoint"]["files"] == files
    assert report["upstream"]["commit"] == report["upstream"]["pinned"]


def test_what_each_family_is_fed(all_passed: tuple[Path, int, str]) -> None:
    root, _, _ = all_passed

    def emb(card_id: str) -> dict:
        return json.loads((root / "artifacts" / "smoke" / f"{card_id}.json").read_text())["embedding"]

    # Models with a mask get a padded batch; the causal Hyena-like model (no mask) right padding with a
    # masked mean; the bidirectional Caduceus-like models (no mask) one sequence at a time.
    assert emb("tiny-dnabert")["batching"] == "padded" and emb("tiny-dnabert")["takes_attention_mask"]
    assert emb("tiny-hyena")["batching"] == "padded" and not emb("tiny-hyena")["takes_attention_mask"]
    assert emb("tiny-caduceus-ph")["batching"] == "unpadded"
    # PS: 2 x d_model channels measured, d_model after the one-pass split; the projector is sized from it.
    assert (emb("tiny-caduceus-ps")["hidden_width"], emb("tiny-caduceus-ps")["pooled_width"]) == (32, 16)
    # RC for a 6-mer vocabulary re-tokenizes the RC string; for characters it flips ids.
    assert emb("tiny-nt")["rc_tokens"] == "re-tokenized the reverse-complement string"
    assert emb("tiny-caduceus-ph")["rc_tokens"] == "flipped character ids"


def test_notes_for_models_without_a_mask(all_passed: tuple[Path, int, str]) -> None:
    root, _, _ = all_passed
    report = json.loads((root / "artifacts" / "smoke" / "tiny-caduceus-ps.json").read_text())
    padding = next(c for c in report["checks"] if c["name"] == "padding invariance")
    assert padding["status"] == "skipped"
    assert padding["message"].startswith("not applicable: the model takes no attention mask")
    zero_shot = next(
        c
        for c in json.loads((root / "artifacts" / "smoke" / "tiny-hyena.json").read_text())["checks"]
        if c["name"] == "zero-shot"
    )
    assert zero_shot["message"].startswith(
        "log-likelihood-ratio: identical sequences 0, single-base substitution"
    )


def test_golden_reference_round_trip(smoke_project: SmokeProject) -> None:
    code, out, _ = smoke_project.kb("smoke", "tiny-nt", "--device", "cpu", "--record")
    assert code == 0, out
    golden = smoke_project.root / "kb" / "model_cards" / "tiny-nt.smoke-golden.npz"
    assert golden.is_file()
    assert "recorded to kb/model_cards/tiny-nt.smoke-golden.npz" in json.dumps(
        smoke_project.report("tiny-nt")
    )
    # The golden file is not taken for a card, and a second run matches it.
    code, _, err = smoke_project.kb("smoke", "tiny-nt", "--device", "cpu")
    assert code == 0, err
    check = next(c for c in smoke_project.report("tiny-nt")["checks"] if c["name"] == "golden reference")
    assert check["status"] == "passed"
    assert check["message"].startswith(
        "matches kb/model_cards/tiny-nt.smoke-golden.npz (recorded on cpu in float32)"
    )


def test_vit_mae_runs_without_random_masking(all_passed: tuple[Path, int, str]) -> None:
    root, _, _ = all_passed
    report = json.loads((root / "artifacts" / "smoke" / "tiny-brainlm.json").read_text())
    assert report["embedding"]["config_overrides"] == {"mask_ratio": 0.0}
    assert next(c for c in report["checks"] if c["name"] == "determinism")["status"] == "passed"


def test_token_id_input(smoke_project: SmokeProject) -> None:
    card = smoke_project.card("tiny-dnabert")
    card["smoke_test"].update(tokenizer="none", input={"kind": "token-ids", "length": 40, "batch_size": 3})
    smoke_project.write(card)
    code, _, err = smoke_project.kb("smoke", "tiny-dnabert", "--device", "cpu")
    assert code == 0, err
    report = smoke_project.report("tiny-dnabert")
    assert report["embedding"]["sample_sizes"] == [[40], [35], [30]]
    assert next(c for c in report["checks"] if c["name"] == "padding invariance")["status"] == "passed"


CADUCEUS = ["tiny-caduceus-ph", "tiny-caduceus-ph-unfused", "tiny-caduceus-ps", "tiny-caduceus-ps-unfused"]


@pytest.mark.parametrize("card_id", CADUCEUS)
def test_caduceus_runs_on_the_reference_kernels_and_says_so(
    all_passed: tuple[Path, int, str], card_id: str
) -> None:
    """Upstream-shaped Caduceus (mamba-ssm imported as upstream does, the reverse projections tied as
    upstream ties them and stored once, a tokenizer that appends [SEP] as the hub's does) on a CPU
    machine without mamba-ssm: the reference kernels stand in, the tied weights are tied, the RC checks
    pass on the input as the card tokenizes it, and the report says all of it."""
    root, _, out = all_passed
    report = json.loads((root / "artifacts" / "smoke" / f"{card_id}.json").read_text())
    assert report["kernels"] == {
        "kind": "reference",
        "label": "reference kernels (CPU)",
        "replaces": ["mamba-ssm"],
        "why": "mamba-ssm not importable here",
    }
    assert report["summary"].endswith("check(s) passed on cpu with reference kernels (CPU)")
    line = next(line for line in out.splitlines() if line.startswith(f"PASSED  {card_id} "))
    assert line.endswith(", reference kernels (CPU))")
    rc = next(c for c in report["checks"] if c["name"] == "reverse complement")
    how = "one-pass split of 2 x d channels" if "-ps" in card_id else "forward and RC embeddings averaged"
    assert rc["status"] == "passed"
    assert rc["message"].startswith(f"RC-invariant ({how}; no special tokens (add_special_tokens: false))")
    assert report["embedding"]["tokenized"] == (
        "add_special_tokens: false; 48 tokens for 48 bases, no special tokens"
    )
    weights = next(c for c in report["checks"] if c["name"] == "weights")
    assert weights["status"] == "passed"
    assert weights["message"] == (
        "every weight came from the checkpoint; 4 weight(s) the model's code shares with others were tied "
        "after loading (backbone.layers.0.mixer"
        + (".submodule" if "-ps" in card_id else "")
        + ".mamba_rev.in_proj.weight is backbone.layers.0.mixer"
        + (".submodule" if "-ps" in card_id else "")
        + ".mamba_fwd.in_proj.weight, ...)"
    )
    assert "mamba_ssm" not in sys.modules


def test_other_cards_report_no_kernels(all_passed: tuple[Path, int, str]) -> None:
    root, _, out = all_passed
    assert json.loads((root / "artifacts" / "smoke" / "tiny-nt.json").read_text())["kernels"] == {}
    assert "kernels" not in next(line for line in out.splitlines() if "tiny-nt" in line)


def test_the_gate_and_the_page_on_a_reference_kernel_pass(all_passed: tuple[Path, int, str]) -> None:
    from generator.build import smoke_gate
    from generator.exceptions import PublishRefused
    from generator.facts import build_facts
    from generator.knowledge import load_knowledge_base
    from generator.settings import Project

    root, _, _ = all_passed
    project = Project.load(root)
    kb, _ = load_knowledge_base(root)
    facts = build_facts(project, kb)
    smoke_gate(kb, facts, project.settings.smoke_accept_reference_kernels)  # default: accepted
    with pytest.raises(PublishRefused) as refused:
        smoke_gate(kb, facts, accept_reference=False)
    message = str(refused.value)
    assert "4 model card(s) are not verified" in message
    assert (
        "kb/model_cards/tiny-caduceus-ps.yaml: smoke test passed on reference kernels (CPU) only, and "
        "smoke_accept_reference_kernels is false; run it on CUDA with --kernels native"
    ) in message
    assert "tiny-nt" not in message


def test_the_card_page_says_reference_kernels(all_passed: tuple[Path, int, str]) -> None:
    import shutil

    from generator.cli import main

    root, _, _ = all_passed
    shutil.copytree(REPO_ROOT / "templates", root / "templates", dirs_exist_ok=True)
    assert main(["-C", str(root), "render"]) == 0
    from generator.settings import Project

    page = (Project.load(root).docs_dir / "models" / "tiny-caduceus-ps.md").read_text(encoding="utf-8")
    row = next(line for line in page.splitlines() if line.startswith("| Smoke test |"))
    assert row.startswith("| Smoke test | passed, ") and row.endswith(", on cpu, reference kernels (CPU) |")
    assert "check(s) passed on cpu with reference kernels (CPU)" in page
    # Who vouches for the pass, and when: the allowed signer's name for the key that signed the report.
    assert "Signed by smoke-ci on 20" in page and " UTC." in page

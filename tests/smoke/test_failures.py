"""Each way a card or a checkpoint can be wrong is caught, with a message naming the card and the check."""

from __future__ import annotations

import hashlib

import pytest

from tests.smoke.conftest import SmokeProject


def _fails(project: SmokeProject, card_id: str, check: str, *args: str) -> str:
    """Run the smoke test of one card; it must fail on `check`. Returns that check's stderr line."""
    code, _, err = project.kb("smoke", card_id, "--device", "cpu", *args)
    assert code == 1, err
    lines = [line for line in err.splitlines() if line.startswith(f"kb smoke: {card_id}: {check}: ")]
    assert lines, err
    report = project.report(card_id)
    assert report["status"] == "failed"
    assert check in [c["name"] for c in report["checks"] if c["status"] == "failed"]
    return lines[0]


def test_wrong_hidden_width(smoke_project: SmokeProject) -> None:
    card = smoke_project.card("tiny-dnabert")
    card["architecture"]["hidden_size"] = 48
    smoke_project.write(card)
    line = _fails(smoke_project, "tiny-dnabert", "hidden width")
    assert line == (
        "kb smoke: tiny-dnabert: hidden width: the card says architecture.hidden_size 48, "
        "but the model's hidden states are 32 wide"
    )


def test_wrong_layers_and_parameters(smoke_project: SmokeProject) -> None:
    card = smoke_project.card("tiny-nt")
    card["architecture"].update(layers=29, parameters="500M")
    smoke_project.write(card)
    assert _fails(smoke_project, "tiny-nt", "layers").endswith(
        "config.num_hidden_layers is 2, but the card says architecture.layers 29"
    )
    assert "the card says 500M (500,000,000), more than 5% away" in _fails(
        smoke_project, "tiny-nt", "parameters"
    )


def test_padding_leaks_into_the_embedding(smoke_project: SmokeProject) -> None:
    """Caduceus takes no attention mask: a padded batch mixes padding into the real tokens."""
    card = smoke_project.card("tiny-caduceus-ph")
    card["smoke_test"]["batching"] = "padded"
    smoke_project.write(card)
    line = _fails(smoke_project, "tiny-caduceus-ph", "padding invariance")
    assert line.startswith(
        "kb smoke: tiny-caduceus-ph: padding invariance: sequence 1 (42 tokens) alone differs "
        "from it inside a padded batch of 2 (largest difference "
    )
    assert line.endswith(
        "padding leaks into the embedding; the model takes no attention mask, so the padding "
        "tokens mix into the real ones; use smoke_test.batching: unpadded (or auto) for this model"
    )


def test_projector_out_dim_must_be_512(smoke_project: SmokeProject) -> None:
    card = smoke_project.card("tiny-mamba")
    card["integration"]["projector"]["out_dim"] = 256
    smoke_project.write(card)
    code, _, err = smoke_project.kb("smoke", "tiny-mamba", "--device", "cpu")
    assert code == 1
    assert (
        "kb/model_cards/tiny-mamba.yaml" in err
        and "integration.projector" in err
        and "out_dim is 256: the knowledge base projects every model to 512-D" in err
    )


def test_ph_model_without_rc_averaging(smoke_project: SmokeProject) -> None:
    card = smoke_project.card("tiny-caduceus-ph")
    card["pooling"]["reverse_complement"] = "none"
    card["smoke_test"]["rc_invariant"] = True
    smoke_project.write(card)
    line = _fails(smoke_project, "tiny-caduceus-ph", "reverse complement")
    assert line.startswith(
        "kb smoke: tiny-caduceus-ph: reverse complement: the card claims an RC-invariant "
        "embedding (smoke_test.rc_invariant: true), but a sequence and its reverse complement "
        "give embeddings that differ by up to "
    )
    assert line.endswith(
        "set pooling.reverse_complement: average (models trained with RC augmentation, e.g. "
        "Caduceus-PH) or split (RC-equivariant models, e.g. Caduceus-PS)"
    )


def test_split_on_a_model_that_is_not_rc_equivariant(smoke_project: SmokeProject) -> None:
    card = smoke_project.card("tiny-caduceus-ph")
    card["pooling"]["reverse_complement"] = "split"
    card["architecture"]["hidden_size"] = 8
    smoke_project.write(card)
    assert "use average instead" in _fails(smoke_project, "tiny-caduceus-ph", "reverse complement")


def test_golden_reference_no_longer_matches(smoke_project: SmokeProject) -> None:
    from safetensors.torch import load_file, save_file

    assert smoke_project.kb("smoke", "tiny-dnabert", "--device", "cpu", "--record")[0] == 0
    weights = smoke_project.checkpoint("tiny-dnabert") / "model.safetensors"
    tensors = load_file(str(weights))
    key = next(k for k in sorted(tensors) if k.endswith("output.dense.weight"))
    tensors[key][0] += (
        0.5  # a different checkpoint revision (one row: a constant shift would vanish in LayerNorm)
    )
    save_file(tensors, str(weights), metadata={"format": "pt"})
    line = _fails(smoke_project, "tiny-dnabert", "golden reference")
    assert line.startswith(
        "kb smoke: tiny-dnabert: golden reference: outputs no longer match "
        "kb/model_cards/tiny-dnabert.smoke-golden.npz (recorded on cpu in float32; "
        "rtol=0.0001, atol=1e-05): pooled: "
    )
    assert "values outside tolerance, largest difference " in line and " at [" in line
    assert line.endswith("If the change is intended, record again with kb smoke --record tiny-dnabert")


def test_remote_code_with_a_dirty_tree_is_refused(smoke_project: SmokeProject) -> None:
    code_file = smoke_project.checkpoint("tiny-hyena") / "modeling_hyena_standin.py"
    code_file.write_text(code_file.read_text() + "\nimport os  # injected\n")
    line = _fails(smoke_project, "tiny-hyena", "remote code")
    assert line == (
        "kb smoke: tiny-hyena: remote code: refusing to run the checkpoint's own code "
        "(trust_remote_code): the working tree of external_repos/tiny-hyena has uncommitted changes "
        "(checkpoints/hyena-tiny/modeling_hyena_standin.py); discard or commit them, then review and "
        "pin the new commit"
    )


def test_remote_code_at_another_commit_is_refused(smoke_project: SmokeProject) -> None:
    from tests.smoke.standins import git_commit_all

    (smoke_project.repo("tiny-caduceus-ps") / "NEWS.md").write_text("a new upstream commit\n")
    head = git_commit_all(smoke_project.repo("tiny-caduceus-ps"), "upstream moved on")
    pinned = smoke_project.card("tiny-caduceus-ps")["repo"]["commit"]
    line = _fails(smoke_project, "tiny-caduceus-ps", "remote code")
    assert line == (
        f"kb smoke: tiny-caduceus-ps: remote code: refusing to run the checkpoint's own code "
        f"(trust_remote_code): external_repos/tiny-caduceus is at {head[:12]}, not at the pinned "
        f"commit {pinned[:12]}; check out the pinned commit (kb repos sync) or update repo.commit "
        "after reviewing the code"
    )


def test_untracked_checkpoint_code_must_be_pinned_by_hash(smoke_project: SmokeProject) -> None:
    """A hub download's modeling code is not tracked upstream: it runs only when the card pins its sha256."""
    import git

    repo = git.Repo(smoke_project.repo("tiny-hyena"))
    repo.index.remove(["checkpoints"], r=True, cached=True)
    (smoke_project.repo("tiny-hyena") / ".gitignore").write_text("checkpoints/\n")
    repo.index.add([".gitignore"])
    head = repo.index.commit("checkpoints are downloaded, not tracked").hexsha
    card = smoke_project.card("tiny-hyena")
    card["repo"]["commit"] = head
    smoke_project.write(card)
    line = _fails(smoke_project, "tiny-hyena", "remote code")
    digest = hashlib.sha256(
        (smoke_project.checkpoint("tiny-hyena") / "modeling_hyena_standin.py").read_bytes()
    ).hexdigest()
    assert line.endswith(
        "external_repos/tiny-hyena/checkpoints/hyena-tiny/modeling_hyena_standin.py is not "
        "tracked by the upstream repository and not pinned by the card; after reviewing it, add "
        f"to smoke_test.code_sha256: {{modeling_hyena_standin.py: {digest}}}"
    )
    card["smoke_test"]["code_sha256"] = {"modeling_hyena_standin.py": digest}
    smoke_project.write(card)
    code, _, err = smoke_project.kb("smoke", "tiny-hyena", "--device", "cpu")
    assert code == 0, err


def test_checkpoint_outside_its_folder_is_refused(smoke_project: SmokeProject, tmp_path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    link = smoke_project.repo("tiny-dnabert") / "checkpoints" / "escape"
    link.symlink_to(outside, target_is_directory=True)
    card = smoke_project.card("tiny-dnabert")
    card["smoke_test"]["checkpoint"] = "escape"
    smoke_project.write(card)
    line = _fails(smoke_project, "tiny-dnabert", "load")
    assert (
        "smoke_test.checkpoint 'escape': external_repos/tiny-dnabert/checkpoints/escape resolves to" in line
        and "outside external_repos/tiny-dnabert/checkpoints/" in line
    )


def test_needs_cuda_on_a_cpu_machine_is_skipped_never_passed(smoke_project: SmokeProject) -> None:
    card = smoke_project.card("tiny-caduceus-ps")
    card["smoke_test"]["requires_cuda"] = True
    card["smoke_test"]["requires"] = ["flash-attn"]  # CUDA for a package with no reference kernels
    smoke_project.write(card)
    code, out, _ = smoke_project.kb("smoke", "tiny-caduceus-ps", "--device", "cpu")
    assert code == 0
    assert out.startswith("SKIPPED tiny-caduceus-ps: needs CUDA (")
    assert "; not counted as passed" in out
    report = smoke_project.report("tiny-caduceus-ps")
    assert report["status"] == "skipped" and report["checks"][0]["name"] == "device"


def test_missing_optional_dependency_names_the_extra(smoke_project: SmokeProject) -> None:
    pytest.importorskip("torch")
    try:
        import mamba_ssm  # noqa: F401

        pytest.skip("mamba-ssm is installed here")
    except ImportError:
        pass
    card = smoke_project.card("tiny-mamba")
    card["smoke_test"]["requires"] = ["mamba-ssm"]
    smoke_project.write(card)
    line = _fails(smoke_project, "tiny-mamba", "dependencies", "--kernels", "native")
    assert line.endswith(
        "needs the Python package 'mamba-ssm', which is not installed. Install it with: "
        'pip install -e ".[gpu]"'
    )


def test_unknown_card_is_a_usage_error(smoke_project: SmokeProject) -> None:
    code, _, err = smoke_project.kb("smoke", "no-such-card", "--device", "cpu")
    assert code == 2
    assert "no model card 'no-such-card' in kb/model_cards/" in err


def test_status_goes_stale_when_the_card_changes(smoke_project: SmokeProject) -> None:
    from generator.settings import Project
    from generator.smoke.status import card_status, project_status

    project = Project.load(smoke_project.root)
    assert project_status(project, _loaded(project, "tiny-mamba")).state == "not run"
    assert smoke_project.kb("smoke", "tiny-mamba", "--device", "cpu")[0] == 0
    status = project_status(project, _loaded(project, "tiny-mamba"))
    assert (status.state, status.device) == ("passed", "cpu") and status.date
    card = smoke_project.card("tiny-mamba")
    card["pooling"]["strategy"] = "max"
    smoke_project.write(card)
    assert project_status(project, _loaded(project, "tiny-mamba")).state == "stale"
    assert card_status(_loaded(project, "tiny-mamba").smoke).state == "passed"  # no hash given: as reported
    card["pooling"]["strategy"] = "mean"
    smoke_project.write(card)
    assert project_status(project, _loaded(project, "tiny-mamba")).state == "passed"
    config = smoke_project.checkpoint("tiny-mamba") / "config.json"
    config.write_text(config.read_text() + "\n")  # the checkpoint changed
    assert project_status(project, _loaded(project, "tiny-mamba")).state == "stale"


def _loaded(project, card_id):  # type: ignore[no-untyped-def]
    from generator.knowledge import load_knowledge_base

    kb, _ = load_knowledge_base(project.root, None, project.kb_dir)
    return kb.get("model", card_id)


ENTRY = '''"""Upstream's own loader (the stand-in of e.g. Brain-JEPA's `src.helper:init_model`)."""
from transformers import AutoModel, AutoTokenizer


def load(checkpoint):
    return (AutoModel.from_pretrained(checkpoint, local_files_only=True),
            AutoTokenizer.from_pretrained(checkpoint, local_files_only=True))
'''


def test_entry_point_in_the_upstream_repository(smoke_project: SmokeProject) -> None:
    smoke_project.entry_point("tiny-dnabert", ENTRY, "an entry point", trust=True)
    code, out, err = smoke_project.kb("smoke", "tiny-dnabert", "--device", "cpu")
    assert code == 0, err
    assert out.startswith("PASSED  tiny-dnabert")
    assert smoke_project.report("tiny-dnabert")["upstream"]["remote_code"] is True


def test_entry_point_needs_the_card_to_opt_in(smoke_project: SmokeProject) -> None:
    smoke_project.entry_point("tiny-dnabert", ENTRY, "an entry point", trust=False)
    line = _fails(smoke_project, "tiny-dnabert", "remote code")
    assert line == (
        "kb smoke: tiny-dnabert: remote code: refusing to run the upstream entry point "
        "upstream.loading:load: the card does not opt in (set smoke_test.trust_remote_code: true "
        "after reviewing the code)"
    )


def test_custom_code_without_opting_in(smoke_project: SmokeProject) -> None:
    card = smoke_project.card("tiny-hyena")
    card["smoke_test"]["trust_remote_code"] = False
    smoke_project.write(card)
    line = _fails(smoke_project, "tiny-hyena", "load")
    assert line == (
        "kb smoke: tiny-hyena: load: the checkpoint ships its own model code; set "
        "smoke_test.trust_remote_code: true after reviewing it at the pinned commit"
    )


def test_wrong_loader_class(smoke_project: SmokeProject) -> None:
    card = smoke_project.card("tiny-nt")
    card["smoke_test"].update(loader="causal-lm", base_model_attr=None)
    smoke_project.write(card)
    line = _fails(smoke_project, "tiny-nt", "load")
    assert "with AutoModelForCausalLM failed: Unrecognized configuration class" in line
    assert line.endswith("(smoke_test.loader: auto, masked-lm, causal-lm or entry-point)")


def test_weights_missing_from_the_checkpoint(smoke_project: SmokeProject) -> None:
    """A checkpoint saved with other weight names (e.g. a training wrapper's `backbone.` prefix) loads
    without error in transformers, at random: the smoke test says so."""
    from safetensors.torch import load_file, save_file

    weights = smoke_project.checkpoint("tiny-dnabert") / "model.safetensors"
    tensors = {f"backbone.{k}": v for k, v in load_file(str(weights)).items()}
    save_file(tensors, str(weights), metadata={"format": "pt"})
    line = _fails(smoke_project, "tiny-dnabert", "weights")
    assert line.startswith("kb smoke: tiny-dnabert: weights: ")
    assert "weight(s) are not in the checkpoint and were initialised at random (embeddings." in line
    assert line.endswith("wrong loader or class for this checkpoint (smoke_test.loader)")


def test_ps_pooling_without_the_rc_split(smoke_project: SmokeProject) -> None:
    """Mean-pooling all 2 x d_model channels of the PS model is not RC-invariant: caught."""
    card = smoke_project.card("tiny-caduceus-ps")
    card["pooling"]["reverse_complement"] = "none"
    card["smoke_test"]["rc_invariant"] = True
    smoke_project.write(card)
    line = _fails(smoke_project, "tiny-caduceus-ps", "reverse complement")
    assert line.startswith(
        "kb smoke: tiny-caduceus-ps: reverse complement: the card claims an RC-invariant "
        "embedding (smoke_test.rc_invariant: true), but a sequence and its reverse complement "
        "give embeddings that differ by up to "
    )
    assert "split (RC-equivariant models, e.g. Caduceus-PS)" in line


def test_kernels_native_refuses_the_reference_on_cpu(smoke_project: SmokeProject) -> None:
    code, out, _ = smoke_project.kb("smoke", "tiny-caduceus-ps", "--device", "cpu", "--kernels", "native")
    assert code == 0
    assert out.startswith(
        "SKIPPED tiny-caduceus-ps: needs CUDA (no CUDA device on this machine; --kernels native refuses "
        "the reference kernels that would run it on CPU); not counted as passed"
    )
    report = smoke_project.report("tiny-caduceus-ps")
    assert report["status"] == "skipped" and report["kernels"]["kind"] == "native"

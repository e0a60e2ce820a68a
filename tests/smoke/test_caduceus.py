"""Caduceus as upstream ships it: a tokenizer that appends [SEP], reverse projections tied by sharing
parameters and stored once in the weight file. The shipped cards' smoke sections pass on an
upstream-shaped stand-in; tied weights come back tied from every format; a checkpoint that truly lacks a
weight still fails, naming it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.factory import REPO_ROOT
from tests.smoke.conftest import SmokeProject
from tests.smoke.standins import WeightsFormat, build_caduceus, git_commit_all, without_weight

FWD = "backbone.layers.0.mixer.mamba_fwd.in_proj.weight"
REV = "backbone.layers.0.mixer.mamba_rev.in_proj.weight"


def _shipped(card_id: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO_ROOT / "kb" / "model_cards" / f"{card_id}.yaml").read_text())
    return data


def _rebuild(project: SmokeProject, card_id: str, name: str, **build: Any) -> dict[str, Any]:
    """A new Caduceus checkpoint `name` in the card's upstream repository (committed, the card pinned to
    it and pointed at it): the card, not yet written."""
    card = project.card(card_id)
    folder = project.repo(card_id) / "checkpoints" / name
    build_caduceus(folder, rcps="-ps" in card_id, **build)
    card["repo"]["commit"] = git_commit_all(project.repo(card_id), f"checkpoint {name}")
    card["smoke_test"]["checkpoint"] = name
    card["checkpoints"] = [{"name": name, "path": name}]
    return card


def _check(project: SmokeProject, card_id: str, name: str) -> dict[str, Any]:
    check: dict[str, Any] = next(c for c in project.report(card_id)["checks"] if c["name"] == name)
    return check


# --- inputs as the card says ------------------------------------------------------------------------


def test_the_standin_tokenizer_appends_sep_as_the_hub_tokenizer_does(smoke_project: SmokeProject) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(smoke_project.checkpoint("tiny-caduceus-ps")))
    assert tok.convert_ids_to_tokens(tok("ACGT")["input_ids"]) == ["A", "C", "G", "T", "[SEP]"]
    assert tok("ACGT", add_special_tokens=False)["input_ids"] == [7, 8, 9, 10]


@pytest.mark.parametrize("variant", ["ps", "ph"])
def test_the_shipped_cards_smoke_sections_pass_on_an_upstream_shaped_model(
    smoke_project: SmokeProject, variant: str
) -> None:
    """The shipped card's pooling and smoke_test sections as they are (1 kb input, add_special_tokens
    false as its walkthrough tokenizes), on the stand-in: every check passes, RC included, and the
    report says how the input was tokenized."""
    card_id = f"tiny-caduceus-{variant}"
    shipped = _shipped(f"caduceus-{variant}-131k")
    assert shipped["smoke_test"]["input"]["add_special_tokens"] is False
    card = smoke_project.card(card_id)
    card["pooling"] = {k: shipped["pooling"][k] for k in ("strategy", "layer", "reverse_complement")}
    card["smoke_test"] = {**shipped["smoke_test"], "checkpoint": card["smoke_test"]["checkpoint"]}
    smoke_project.write(card)
    code, out, err = smoke_project.kb("smoke", card_id, "--device", "cpu")
    assert code == 0, err
    assert out.startswith(f"PASSED  {card_id} (cpu/float32")
    rc = _check(smoke_project, card_id, "reverse complement")
    how = "one-pass split of 2 x d channels" if variant == "ps" else "forward and RC embeddings averaged"
    assert rc["message"].startswith(f"RC-invariant ({how}; no special tokens (add_special_tokens: false))")
    embedding = smoke_project.report(card_id)["embedding"]
    assert (
        embedding["tokenized"] == "add_special_tokens: false; 1024 tokens for 1024 bases, no special tokens"
    )


def test_ps_with_the_special_tokens_fails_and_names_the_fix(smoke_project: SmokeProject) -> None:
    """[SEP] at the end of both a sequence and its reverse complement: no split can be RC-invariant."""
    card = smoke_project.card("tiny-caduceus-ps")
    card["smoke_test"]["input"]["add_special_tokens"] = True
    smoke_project.write(card)
    code, _, err = smoke_project.kb("smoke", "tiny-caduceus-ps", "--device", "cpu")
    assert code == 1
    line = next(
        ln for ln in err.splitlines() if ln.startswith("kb smoke: tiny-caduceus-ps: reverse complement: ")
    )
    assert "(sequence " in line and "; with the [SEP] the tokenizer adds); " in line
    assert line.endswith(
        "the tokenizer adds [SEP] to each sequence, at the same place for a sequence and its reverse "
        "complement, so no strand symmetry holds for the token sequence; tokenize as the walkthrough does "
        "with smoke_test.input.add_special_tokens: false"
    )
    assert smoke_project.report("tiny-caduceus-ps")["embedding"]["tokenized"] == (
        "add_special_tokens: true; 49 tokens for 48 bases, the tokenizer adds [SEP]"
    )


def test_ph_averaging_is_invariant_with_the_special_tokens_too(smoke_project: SmokeProject) -> None:
    card = smoke_project.card("tiny-caduceus-ph")
    card["smoke_test"]["input"]["add_special_tokens"] = True
    smoke_project.write(card)
    code, _, err = smoke_project.kb("smoke", "tiny-caduceus-ph", "--device", "cpu")
    assert code == 0, err
    rc = _check(smoke_project, "tiny-caduceus-ph", "reverse complement")
    assert rc["message"].startswith(
        "RC-invariant (forward and RC embeddings averaged; with the [SEP] the tokenizer adds) (the model "
        "alone differs by up to "
    )
    assert smoke_project.report("tiny-caduceus-ph")["embedding"]["rc_tokens"] == "flipped character ids"


# --- checkpoints as upstream saved them -------------------------------------------------------------


def test_transformers_alone_leaves_the_hub_format_untied(smoke_project: SmokeProject) -> None:
    """The problem the loader solves: the weight file holds each tied tensor once, and transformers
    4.57 fills the other name at random. (The model's code is imported into the loader's throwaway
    modules cache, as `kb smoke` does: transformers' own would stay in this process, and a later load's
    relative imports would look for their package there.)"""
    from safetensors import safe_open
    from transformers import AutoModel

    from generator.smoke.loader import offline_hub
    from generator.smoke.reference import installed

    ckpt = smoke_project.checkpoint("tiny-caduceus-ph")
    with safe_open(str(ckpt / "model.safetensors"), "pt") as f:
        stored = set(f.keys())
    assert FWD in stored and REV not in stored
    with installed(), offline_hub():
        _, info = AutoModel.from_pretrained(
            str(ckpt), trust_remote_code=True, local_files_only=True, output_loading_info=True
        )
    assert REV in info["missing_keys"]


@pytest.mark.parametrize("variant", ["ps", "ph"])
def test_hub_format_tied_weights_load_tied(smoke_project: SmokeProject, variant: str) -> None:
    import torch

    from generator.knowledge import load_knowledge_base
    from generator.smoke.kernels import Kernels
    from generator.smoke.loader import load

    card_id = f"tiny-caduceus-{variant}"
    kb, _ = load_knowledge_base(smoke_project.root)
    card = next(c.card for c in kb.models if c.id == card_id)
    ckpt, repo = smoke_project.checkpoint(card_id), smoke_project.repo(card_id)
    reference = Kernels("reference", ("mamba-ssm",))
    model = load(card, ckpt, repo, torch.device("cpu"), torch.float32, True, reference)
    params = dict(model.full.named_parameters(remove_duplicate=False))
    prefix = "backbone.layers.1.mixer" + (".submodule" if variant == "ps" else "")
    for proj in ("in_proj", "out_proj"):
        assert params[f"{prefix}.mamba_rev.{proj}.weight"] is params[f"{prefix}.mamba_fwd.{proj}.weight"]
    assert model.missing_keys == []
    assert sum(p.numel() for p in model.full.parameters()) == card.architecture.parameters


@pytest.mark.parametrize("weights", ["bin", "safetensors-both"])
def test_every_name_stored_loads_tied_with_the_cards_parameter_count(
    smoke_project: SmokeProject, weights: WeightsFormat
) -> None:
    """pytorch_model.bin (and safetensors with a copy per name) store the tied tensors twice: loaded
    tied, the parameter count is the card's, not the sum of both copies."""
    card = _rebuild(smoke_project, "tiny-caduceus-ps", f"ps-{weights}", weights=weights)
    smoke_project.write(card)
    assert (smoke_project.checkpoint("tiny-caduceus-ps").parent / f"ps-{weights}").is_dir()
    code, _, err = smoke_project.kb("smoke", "tiny-caduceus-ps", "--device", "cpu")
    assert code == 0, err
    assert _check(smoke_project, "tiny-caduceus-ps", "parameters")["message"].startswith(
        f"checkpoint has with head {card['architecture']['parameters']:,}, encoder "
    )
    assert (
        "4 weight(s) the model's code shares with others were tied after loading"
        in (_check(smoke_project, "tiny-caduceus-ps", "weights")["message"])
    )


def _fails_with(project: SmokeProject, card_id: str, name: str, alter: Any, **build: Any) -> str:
    """A new checkpoint `name` whose files `alter(folder)` changes (committed, the card pinned to it):
    `kb smoke` fails; its stderr."""
    card = _rebuild(project, card_id, name, **build)
    alter(project.repo(card_id) / "checkpoints" / name)
    card["repo"]["commit"] = git_commit_all(project.repo(card_id), f"{name} altered")
    project.write(card)
    code, _, err = project.kb("smoke", card_id, "--device", "cpu")
    assert code == 1
    return err


def test_a_checkpoint_that_truly_lacks_a_tied_weight_fails_naming_it(smoke_project: SmokeProject) -> None:
    err = _fails_with(
        smoke_project, "tiny-caduceus-ph", "ph-lacking", lambda folder: without_weight(folder, FWD)
    )
    assert (
        f"kb smoke: tiny-caduceus-ph: weights: 2 weight(s) are not in the checkpoint and were initialised "
        f"at random ({FWD}, {REV}): wrong loader or class for this checkpoint (smoke_test.loader)"
    ) in err


def test_stored_copies_that_disagree_are_not_tied(smoke_project: SmokeProject) -> None:
    def disagree(folder: Path) -> None:
        from safetensors.torch import load_file, save_file

        state = load_file(str(folder / "model.safetensors"))
        state[REV] = state[REV] + 1.0
        save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})

    err = _fails_with(smoke_project, "tiny-caduceus-ph", "ph-disagree", disagree, weights="safetensors-both")
    assert (
        f"kb smoke: tiny-caduceus-ph: weights: the checkpoint stores {REV} and {FWD}, which the model's "
        "code ties (one weight), with different values: it was not saved from this model"
    ) in err

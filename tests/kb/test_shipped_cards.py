"""The shipped knowledge base in `kb/`: valid under --strict, complete, and faithful to the facts sheet."""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from generator.cli import main
from generator.knowledge import load_knowledge_base
from generator.layout import Layout
from tests.factory import REPO_ROOT, shipped_cards

EXPECTED_MODELS = {
    "caduceus-ph-131k",
    "caduceus-ps-131k",
    "hyenadna-medium-160k",
    "nucleotide-transformer-v2-500m",
    "nucleotide-transformer-2.5b-multi-species",
    "dnabert-2-117m",
    "evo-1-131k",
    "brainlm",
    "brain-jepa",
}
SEED_004_MODELS = {
    "caduceus-ph-131k",
    "caduceus-ps-131k",
    "hyenadna-medium-160k",
    "nucleotide-transformer-2.5b-multi-species",
    "evo-1-131k",
}
"""Models whose figures in the benchmark's model table (seed 004) differ from upstream: each must record
the difference."""


def test_the_tests_read_cards_not_the_lock_files_beside_them(tmp_path: Path) -> None:
    """`kb repos sync` writes `<id>.lock.yaml` beside every card it syncs: the tests that go over the
    shipped cards (export, PDFs, audit) must not take those for cards."""
    kb = tmp_path / "kb"
    shutil.copytree(REPO_ROOT / "kb", kb)
    for card in shipped_cards(kb=kb):
        Layout.lock_file(card).write_text("commit: 0123456\n", encoding="utf-8")
    cards = shipped_cards(kb=kb)
    assert cards and not [p for p in cards if Layout.is_lock_file(p)]
    assert [p.relative_to(kb) for p in cards] == [p.relative_to(REPO_ROOT / "kb") for p in shipped_cards()]


@pytest.fixture(scope="module")
def models() -> dict[str, Any]:
    kb, problems = load_knowledge_base(REPO_ROOT)
    assert not problems, "\n".join(str(p) for p in problems)
    return {c.id: c.card for c in kb.models}


def test_validate_strict_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["-C", str(REPO_ROOT), "validate", "--strict"])
    out = capsys.readouterr()
    text = out.out + out.err
    assert code == 0, text
    assert not re.search(r":\d+:\d+: (warning|error):", text), text
    assert "0 error(s), 0 warning(s)" in text


def test_every_expected_model_is_shipped(models: dict[str, Any]) -> None:
    assert set(models) >= EXPECTED_MODELS


@pytest.mark.parametrize("card_id", sorted(EXPECTED_MODELS))
def test_card_is_complete(models: dict[str, Any], card_id: str) -> None:
    card = models[card_id]
    assert card.smoke_test is not None
    assert card.integration.projector.out_dim == 512
    assert card.integration.strategy == "late-fusion-512"
    assert card.repo.commit and re.fullmatch(r"[0-9a-f]{40}", card.repo.commit)
    assert {"preprocess", "encode", "project", "persist"} <= {s.stage for s in card.walkthrough}
    assert any(s.cite for s in card.walkthrough), "walkthrough cites no upstream code"
    assert card.citations and all(c.doi or c.arxiv for c in card.citations)
    assert card.architecture.family and card.license
    if card.architecture.embedding_dim:
        assert card.integration.projector.in_dim == card.architecture.embedding_dim


def test_caduceus_reverse_complement_handling(models: dict[str, Any]) -> None:
    ph, ps = models["caduceus-ph-131k"], models["caduceus-ps-131k"]
    assert ph.pooling.reverse_complement == "average"
    assert ps.pooling.reverse_complement == "split"
    # PS returns 2 x d_model channels; the projector takes the width after the split.
    assert ps.integration.projector.in_dim == ps.architecture.hidden_size == 256
    for card in (ph, ps):
        assert card.architecture.family == "mamba"
        assert card.smoke_test.requires_cuda and card.smoke_test.trust_remote_code
        assert card.deployment.requires_cuda


@pytest.mark.parametrize("path", shipped_cards(), ids=lambda p: p.name)
def test_no_known_wrong_claims(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"~?\s*150\s*M", text), "Caduceus is ~7.7M parameters, not ~150M"
    if "caduceus" in path.name:
        assert not re.search(r"hyena[- ]based|based on hyena|family: hyena", text, re.IGNORECASE)


def test_loaders_follow_the_facts(models: dict[str, Any]) -> None:
    nt2 = models["nucleotide-transformer-v2-500m"].smoke_test
    assert (nt2.loader, nt2.base_model_attr, nt2.trust_remote_code) == ("masked-lm", "esm", True)
    nt1 = models["nucleotide-transformer-2.5b-multi-species"].smoke_test
    assert (nt1.loader, nt1.trust_remote_code) == ("auto", False)
    for card_id in ("dnabert-2-117m", "hyenadna-medium-160k", "evo-1-131k"):
        assert models[card_id].smoke_test.trust_remote_code
    assert models["evo-1-131k"].smoke_test.requires_cuda
    assert not models["hyenadna-medium-160k"].smoke_test.requires_cuda
    for card_id in ("dnabert-2-117m", "nucleotide-transformer-v2-500m"):
        assert models[card_id].pooling.strategy == "mean"


def test_fmri_cards(models: dict[str, Any]) -> None:
    brainlm, jepa = models["brainlm"], models["brain-jepa"]
    assert brainlm.pooling.strategy == "cls" and jepa.pooling.strategy == "mean"
    assert (brainlm.smoke_test.input.rois, brainlm.smoke_test.input.length) == (424, 200)
    assert (jepa.smoke_test.input.rois, jepa.smoke_test.input.length) == (450, 160)
    assert (brainlm.license, brainlm.weights_license) == ("Apache-2.0", "CC-BY-NC-ND-4.0")
    assert jepa.license.startswith("LicenseRef-") and jepa.license_notes
    assert "mask_ratio" in brainlm.pooling.notes


@pytest.mark.parametrize("card_id", sorted(SEED_004_MODELS))
def test_seed_004_differences_are_recorded(models: dict[str, Any], card_id: str) -> None:
    card = models[card_id]
    # Named as a reader can identify it (the guide's title, and that it is unpublished), not as "seed 004".
    assert any(
        "Genomic Foundation Models benchmark guide (unpublished)" in d.source for d in card.discrepancies
    )


FLOW_LIST = re.compile(r"^\s*(?:- )?[\w-]+: \[(?P<items>[^'\"\[\]]*)\]\s*$")


def test_no_flow_list_item_was_split_at_a_thousands_separator() -> None:
    """`[windows of up to 1,000 tokens]` is two items in YAML ('... up to 1' and '000 tokens'): a
    sentence with a comma in a flow list must be quoted."""
    split = []
    for path in shipped_cards():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = FLOW_LIST.match(line)
            if not m:
                continue
            items = [i.strip() for i in m["items"].split(",")]
            # "... up to 1" then "000 tokens" (a list of numbers such as `lines: [88, 128]` is fine).
            if any(
                re.search(r"\D\s*\d{1,3}$", a) and re.match(r"\d{3}\b", b)
                for a, b in itertools.pairwise(items)
            ):
                split.append(f"{path.relative_to(REPO_ROOT)}:{n}: {line.strip()}")
    assert split == []

"""`kb smoke --list`, `--fits` and `--changed-since`: the cards a smoke workflow runs on its runner, and
why each of the others is left out (the real `kb` command in a temporary project)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.factory import make_card, new_project, set_kb_options, write_card
from tests.gitrepo import commit_all
from tests.security.conftest import run

REVISION = "a" * 40
SMALL = {"cpus": 2, "memory_gb": 8, "time_minutes": 30}


def card(card_id: str, *, resources: dict[str, Any] | None = None, pinned: bool = True, **smoke: Any) -> dict:
    """A card whose smoke test loads checkpoint `ckpt`, pinned on the hub at `REVISION` (or not)."""
    checkpoint: dict[str, Any] = {"name": "ckpt", "path": "ckpt", "hub_id": f"example/{card_id}"}
    if pinned:
        checkpoint["revision"] = REVISION
    section = {"checkpoint": "ckpt", "input": {"kind": "dna", "length": 64}, **smoke}
    section["resources"] = resources or SMALL
    return make_card(
        id=card_id,
        alias=card_id,
        repo__name=card_id,
        repo__url=f"https://github.com/example/{card_id}",
        checkpoints=[checkpoint],
        smoke_test=section,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = new_project(tmp_path)
    write_card(root, card("cpu-small"))
    write_card(root, card("cpu-big", resources={"cpus": 8, "memory_gb": 64}))
    write_card(root, card("needs-cuda", requires_cuda=True))
    write_card(root, card("two-gpus", resources={"gpus": 2, "memory_gb": 8}))
    # mamba-ssm needs CUDA, but the product's reference kernels run it on CPU.
    write_card(root, card("mamba-cpu", requires_cuda=True, requires=["mamba-ssm"]))
    write_card(root, card("unpinned", pinned=False))
    write_card(root, unpulled("by-hand"))  # placed by hand: it runs where it is in place
    placed = root / "external_repos" / "by-hand" / "checkpoints" / "ckpt"
    placed.mkdir(parents=True)
    (placed / "config.json").write_text("{}")
    write_card(root, unpulled("nowhere"))
    return root


def unpulled(card_id: str, **smoke: Any) -> dict:
    """A card whose checkpoint names no hub id: it must be placed by hand."""
    return card(card_id, **smoke) | {"checkpoints": [{"name": "ckpt", "path": "ckpt"}]}


def listed(root: Path, *args: str) -> tuple[list[str], dict[str, str]]:
    """`kb smoke --list ARGS`: the ids on stdout, and each card left out with its reason (stderr)."""
    done = run(root, "smoke", "--list", *args)
    assert done.returncode == 0, done.stderr
    reasons = {}
    for line in done.stderr.splitlines():
        if line.startswith("kb smoke: left out "):
            card_id, _, why = line.removeprefix("kb smoke: left out ").partition(": ")
            reasons[card_id] = why
    return done.stdout.splitlines(), reasons


def test_a_cpu_runner_gets_the_cards_that_fit_it(project: Path) -> None:
    ids, left_out = listed(project, "--fits", "cpus=4,memory_gb=16")
    assert sorted(ids) == ["by-hand", "cpu-small", "mamba-cpu"]
    assert left_out == {
        "cpu-big": "asks for cpus=8 (smoke_test.resources), more than 4; asks for memory_gb=64 "
        "(smoke_test.resources), more than 16",
        "needs-cuda": "needs CUDA (smoke_test.requires_cuda), and this machine has no GPUs",
        "two-gpus": "asks for gpus=2, and this machine has no GPUs",
        "unpinned": "no hub revision pinned: kb checkpoints resolve unpinned",
        "nowhere": "the checkpoint is not in place and no checkpoints[] entry pulls it from the hub: place "
        "it under external_repos/nowhere/checkpoints/ckpt/",
    }


def test_without_fits_every_card_whose_checkpoint_can_be_had(project: Path) -> None:
    ids, left_out = listed(project)
    assert sorted(ids) == ["by-hand", "cpu-big", "cpu-small", "mamba-cpu", "needs-cuda", "two-gpus"]
    assert sorted(left_out) == ["nowhere", "unpinned"]
    ids, left_out = listed(project, "--fits", "gpus=1,cpus=16,memory_gb=64")
    assert "needs-cuda" in ids and left_out["two-gpus"] == "asks for gpus=2, and this machine has 1 GPU"


def test_named_cards_are_narrowed_the_same_way(project: Path) -> None:
    ids, left_out = listed(project, "--fits", "cpus=4,memory_gb=16", "--", "needs-cuda", "cpu-small")
    assert ids == ["cpu-small"] and list(left_out) == ["needs-cuda"]


def test_reference_kernels_count_only_where_the_site_accepts_them(project: Path) -> None:
    set_kb_options(project, smoke_accept_reference_kernels=False)
    _, left_out = listed(project, "--fits", "cpus=4,memory_gb=16")
    assert left_out["mamba-cpu"] == (
        "needs CUDA; the reference kernels would run it on CPU, but smoke_accept_reference_kernels is false"
    )


@pytest.mark.parametrize(
    ("fits", "message"),
    [
        ("cpus=four", "'cpus=four': cpus must be a whole number"),
        ("gpu_type=h100", "'gpu_type=h100': expected KEY=N with KEY one of gpus, cpus, memory_gb, time_"),
        (",", "give at least one of gpus, cpus, memory_gb, time_minutes (e.g. cpus=4,memory_gb=16)"),
    ],
)
def test_a_wrong_machine_is_a_usage_error(project: Path, fits: str, message: str) -> None:
    done = run(project, "smoke", "--list", "--fits", fits)
    assert done.returncode == 2 and f"kb smoke: error: argument --fits: {message}" in done.stderr


def test_changed_since_keeps_the_cards_whose_smoke_inputs_changed(project: Path) -> None:
    base = commit_all(project, "cards")
    smoke = card("cpu-small")
    smoke["smoke_test"]["input"]["length"] = 128  # the smoke section
    write_card(project, smoke)
    prose = card("mamba-cpu", requires_cuda=True, requires=["mamba-ssm"])
    prose["summary"] = "Reworded: nothing the smoke test reads."
    prose["smoke_test"]["resources"] = {"cpus": 1, "memory_gb": 4}  # where it runs, not what it checks
    write_card(project, prose)
    pin = card("cpu-big", resources={"cpus": 8, "memory_gb": 64})
    pin["checkpoints"][0]["revision"] = "b" * 40  # another checkpoint
    write_card(project, pin)
    write_card(project, card("brand-new"))
    golden = project / "kb" / "model_cards" / "two-gpus.smoke-golden.npz"
    golden.write_bytes(b"a golden reference recorded since")
    commit_all(project, "one smoke section, one summary, one pin, one new card, one golden reference")

    ids, left_out = listed(project, "--changed-since", base)
    assert sorted(ids) == ["brand-new", "cpu-big", "cpu-small", "two-gpus"]
    unchanged = f"its smoke inputs are unchanged since {base}"
    assert {k: v for k, v in left_out.items() if v == unchanged} == {
        "by-hand": unchanged,
        "mamba-cpu": unchanged,
        "needs-cuda": unchanged,
    }
    ids, _ = listed(project, "--changed-since", base, "--fits", "cpus=4,memory_gb=16")
    assert sorted(ids) == ["brand-new", "cpu-small"]
    # The working tree counts, committed or not.
    assert listed(project, "--changed-since", "HEAD")[0] == []
    write_card(project, unpulled("by-hand", dtype="bfloat16"))
    assert listed(project, "--changed-since", "HEAD")[0] == ["by-hand"]


def test_changed_since_an_unknown_revision_says_how_to_get_it(project: Path) -> None:
    done = run(project, "smoke", "--list", "--changed-since", "HEAD")
    assert done.returncode == 2
    assert "--changed-since HEAD: no such commit in the git repository of" in done.stderr
    commit_all(project, "cards")
    done = run(project, "smoke", "--list", "--changed-since", "0" * 40)
    assert done.returncode == 2 and "fetch it first, e.g. actions/checkout with fetch-depth: 0" in done.stderr


def test_stale_keeps_the_cards_the_published_reports_do_not_cover(project: Path, tmp_path: Path) -> None:
    """What the smoke workflow runs on a push: cards with no report, a stale one, or one no allowed
    signer signed; a current signed pass or fail is not run again."""
    from tests.security.test_gate import report
    from tests.signing import allow, new_key, sign_file

    maintainer, stranger = new_key(tmp_path / "m", "maintainer"), new_key(tmp_path / "s", "stranger")
    allow(project, ("maintainer", maintainer))
    report(project, "cpu-small", signed=maintainer)
    report(project, "cpu-big", "failed", signed=maintainer, summary="pooling: NaN in the output")
    report(project, "needs-cuda", signed=maintainer, inputs_hash="0" * 64)  # made for other inputs
    report(project, "two-gpus")  # unsigned
    sign_file(report(project, "by-hand"), stranger)  # signed by a key that is not allowed
    ids, why = listed(project, "--stale")
    assert ids == ["by-hand", "mamba-cpu", "needs-cuda", "two-gpus"]
    assert why["cpu-small"] == "its report is current and signed (passed on 2026-12-01T10:00:00+00:00)"
    assert why["cpu-big"] == "its report is current and signed (failed on 2026-12-01T10:00:00+00:00)"
    # With --fits, the same: only the cards the runner can take.
    ids, _ = listed(project, "--stale", "--fits", "cpus=4,memory_gb=16")
    assert ids == ["by-hand", "mamba-cpu"]

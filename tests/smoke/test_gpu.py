"""On CUDA the same checks run, in the dtype each card asks for, with the matching tolerances."""

from __future__ import annotations

import pytest

from tests.smoke.conftest import SmokeProject

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_every_standin_passes_on_cuda(smoke_project: SmokeProject, dtype: str) -> None:
    for card_id in smoke_project.standins:
        card = smoke_project.card(card_id)
        card["smoke_test"]["dtype"] = dtype
        smoke_project.write(card)
    code, out, err = smoke_project.kb("smoke", "--device", "cuda")
    assert code == 0, out + err
    for card_id in smoke_project.standins:
        report = smoke_project.report(card_id)
        assert (report["status"], report["device"], report["dtype"]) == ("passed", "cuda", dtype)
        assert report["memory"]["kind"] == "cuda_max_allocated" and report["memory"]["peak_mb"] > 0
        determinism = next(c for c in report["checks"] if c["name"] == "determinism")
        if dtype == "bfloat16":
            assert "rtol=0.02, atol=0.02" in determinism["message"]


def test_cpu_golden_reference_holds_on_cuda(smoke_project: SmokeProject) -> None:
    assert smoke_project.kb("smoke", "tiny-nt", "--device", "cpu", "--record")[0] == 0
    code, _, err = smoke_project.kb("smoke", "tiny-nt", "--device", "cuda")
    assert code == 0, err
    golden = next(c for c in smoke_project.report("tiny-nt")["checks"] if c["name"] == "golden reference")
    assert golden["status"] == "passed" and "(recorded on cpu in float32)" in golden["message"]


def test_card_needing_cuda_runs_there(smoke_project: SmokeProject) -> None:
    card = smoke_project.card("tiny-caduceus-ps")
    card["smoke_test"]["requires_cuda"] = True
    smoke_project.write(card)
    code, out, _ = smoke_project.kb("smoke", "tiny-caduceus-ps", "--device", "auto")
    assert code == 0
    assert out.startswith("PASSED  tiny-caduceus-ps (cuda/float32")

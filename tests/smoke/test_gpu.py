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


@pytest.mark.parametrize("card_id", ["tiny-caduceus-ps", "tiny-caduceus-ph-unfused"])
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_native_mamba_ssm_matches_the_reference_kernels(
    smoke_project: SmokeProject, card_id: str, dtype: str
) -> None:
    """The same Caduceus-shaped checkpoint on mamba-ssm's kernels and on the reference kernels agrees
    within the card's low-precision tolerances."""
    pytest.importorskip("mamba_ssm")
    import torch

    from generator.knowledge import load_knowledge_base
    from generator.smoke.kernels import NATIVE, Kernels
    from generator.smoke.loader import load

    kb, _ = load_knowledge_base(smoke_project.root)
    card = next(c.card for c in kb.models if c.id == card_id)
    ids = torch.randint(7, 11, (2, 512), generator=torch.Generator().manual_seed(0)).cuda()
    out = {}
    for kernels in (NATIVE, Kernels("reference", ("mamba-ssm",))):
        ckpt, repo = smoke_project.checkpoint(card_id), smoke_project.repo(card_id)
        model = load(card, ckpt, repo, torch.device("cuda"), getattr(torch, dtype), True, kernels)
        mixer = model.encoder.backbone.layers[0].mixer
        mamba = getattr(mixer, "submodule", mixer).mamba_fwd
        assert type(mamba).__module__.startswith("generator.smoke.reference") == (kernels.kind == "reference")
        with torch.inference_mode():
            out[kernels.kind] = model.encoder(input_ids=ids).last_hidden_state.float()
    smoke = card.smoke_test
    tol = {"rtol": smoke.low_precision_rtol, "atol": smoke.low_precision_atol}
    torch.testing.assert_close(out["native"], out["reference"], **tol)


def test_caduceus_on_native_kernels_passes_on_cuda(smoke_project: SmokeProject) -> None:
    pytest.importorskip("mamba_ssm")
    code, out, err = smoke_project.kb("smoke", "tiny-caduceus-ps", "--device", "cuda", "--kernels", "native")
    assert code == 0, out + err
    report = smoke_project.report("tiny-caduceus-ps")
    assert report["status"] == "passed" and report["kernels"]["kind"] == "native"
    assert "reference kernels" not in out


def test_a_job_runs_on_the_gpus_it_asked_for_and_sees_none_otherwise(smoke_project: SmokeProject) -> None:
    """Under `--device auto`, a card asking for a GPU runs on CUDA in its job; one asking for none runs on
    CPU with no GPU visible (submitit's local executor hands out the GPUs as SLURM would)."""
    pytest.importorskip("submitit")
    (smoke_project.root / "mkdocs.yml").write_text(
        "site_name: t\nplugins:\n  - kb:\n      smoke_poll_seconds: 0.2\n      smoke_max_jobs: 2\n"
    )
    card = smoke_project.card("tiny-nt")
    card["smoke_test"]["resources"] = {"gpus": 1}
    smoke_project.write(card)
    code, out, err = smoke_project.kb("smoke", "tiny-nt", "tiny-hyena", "--executor", "local")
    assert code == 0, out + err
    on_gpu, on_cpu = smoke_project.report("tiny-nt"), smoke_project.report("tiny-hyena")
    assert on_gpu["device"] == "cuda" and on_gpu["job"]["cuda_visible_devices"] != ""
    assert on_cpu["device"] == "cpu" and on_cpu["job"]["cuda_visible_devices"] == ""

"""Every way a SLURM job can end without its card's report is a failed report for that card naming the
job, SLURM's state or reason, the log and the fix that matches the cause, and the other cards go on (a
real single-node SLURM without accounting, started by `slurm_cluster`)."""

from __future__ import annotations

import threading

import pytest

from tests.smoke.conftest import SmokeProject
from tests.smoke.slurm_cluster import NODE, SlurmCluster
from tests.smoke.slurm_runs import (
    CANCELS_ITSELF,
    EATS_MEMORY,
    EXITS,
    FAILS_ITS_NODE,
    SLEEPS,
    job_check,
    log_of,
    resources,
    settings,
)

pytest.importorskip("submitit")
pytestmark = pytest.mark.slurm


def test_every_way_a_job_fails_is_a_report_for_its_card_and_the_others_go_on(
    on_slurm: SlurmCluster, smoke_project: SmokeProject
) -> None:
    p = smoke_project
    settings(p, gpu_type="h100")
    resources(p, "tiny-nt")  # passes
    resources(p, "tiny-dnabert", p.entry_point("tiny-dnabert", SLEEPS, "sleeps"), time_minutes=1)
    resources(p, "tiny-hyena", p.entry_point("tiny-hyena", EATS_MEMORY, "eats memory"), memory_gb=1)
    resources(p, "tiny-mamba", p.entry_point("tiny-mamba", CANCELS_ITSELF, "cancelled"))
    resources(p, "tiny-brainlm", gpus=1)  # of slurm.gpu_type: SLURM gives the fake GPU; torch finds none
    resources(p, "tiny-caduceus-ph", cpus=8)  # more than the partition's node: PENDING for ever
    resources(p, "tiny-caduceus-ps", time_minutes=10)  # more than the partition's MaxTime
    resources(p, "tiny-caduceus-ph-unfused", memory_gb=64)  # more than any node: sbatch refuses
    resources(p, "tiny-caduceus-ps-unfused", gpus=1, gpu_type="a100")  # a GPU the cluster lacks

    code, out, err = p.kb("smoke", "--executor", "slurm")
    assert code == 1
    assert "Traceback" not in err
    assert "9 card(s): 1 passed, 0 skipped, 8 failed" in err
    assert p.report("tiny-nt")["status"] == "passed"
    assert p.report("tiny-nt")["job"]["cuda_visible_devices"] == ""

    job, message = job_check(p, "tiny-dnabert")
    assert job["state"] == "TIMEOUT"
    assert message.startswith(
        f"SLURM job {job['id']} ended without a report (TIMEOUT, reason TimeLimit on {NODE}"
    )
    assert "in its stage 'load'" in message
    assert "it ran into its time limit of 1 min (smoke_test.resources.time_minutes)" in message
    assert "raise time_minutes" in message and "memory" not in message
    log = log_of(p, message).read_text()
    assert "DUE TO TIME LIMIT" in log
    # submitit's warning signal (USR2, 90 s before the limit: at once in a 1-minute job) is only a warning
    assert "kb smoke: SLURM warns that the job's time limit is near; the test goes on" in log

    job, message = job_check(p, "tiny-hyena")
    assert message.startswith(f"SLURM job {job['id']} ended without a report (")
    assert "it needed more than its 1 GB (smoke_test.resources.memory_gb): " in message
    assert "exceeded memory limit (" in message  # SLURM's own line, with the numbers
    assert "raise memory_gb" in message and "time_minutes" not in message
    log_of(p, message)

    job, message = job_check(p, "tiny-mamba")
    assert job["state"] == "CANCELLED"
    assert "it was cancelled before it finished (scancel, or an administrator)" in message
    assert "Nothing in the card needs changing: run `kb smoke tiny-mamba` again" in message
    assert "time_minutes" not in message and "memory_gb" not in message
    log_of(p, message)

    report = p.report("tiny-brainlm")
    assert report["job"]["cuda_visible_devices"] == "0"  # SLURM handed the job its GPU
    (check,) = report["checks"]
    assert check["message"].startswith(
        f"SLURM job {report['job']['id']} on {NODE}: the job asked for 1 GPU(s) (smoke_test.resources.gpus) "
        "but got 0: torch "
    )
    assert "(a CPU-only build) sees no usable CUDA device with CUDA_VISIBLE_DEVICES='0'" in check["message"]
    assert "It is not run on CPU instead" in check["message"]
    script = p.root / ".kb-cache" / "smoke-jobs"
    (script,) = script.glob(f"*/{report['job']['id']}_submission.sh")
    assert [line for line in script.read_text().splitlines() if "gpu" in line] == [
        "#SBATCH --gres=gpu:h100:1"
    ]

    job, message = job_check(p, "tiny-caduceus-ph")
    assert job["state"] == "PENDING"
    assert message.startswith(
        f"SLURM job {job['id']} can never start (PENDING, reason Partition"  # SLURM refines it later
    )
    assert (
        "kb cancelled it. Fix: the card asks for more than partition 'debug' allows: cpus 8 (its " in message
    )
    assert "nodes have at most 4). Lower that in smoke_test.resources, or choose another partition" in message

    job, message = job_check(p, "tiny-caduceus-ps")
    assert "allows: time_minutes 10 (its time limit is 5 min). Lower that in smoke_test.resources" in message

    job, message = job_check(p, "tiny-caduceus-ph-unfused")
    assert job == {"executor": "slurm", "id": "", "state": "REFUSED"}
    assert message.startswith(
        "sbatch refused the job (1 CPU(s), 64 GB, 5 min, on the cluster's default partition): "
    )
    assert "Memory specification can not be satisfied" in message
    assert "the card asks for 64 GB (smoke_test.resources.memory_gb), more than a node" in message
    script = p.root / message.rsplit("Batch script: ", 1)[1]
    assert "#SBATCH --mem=64GB" in script.read_text()

    job, message = job_check(p, "tiny-caduceus-ps-unfused")
    assert "Requested node configuration is not available" in message
    assert "GPU type (gpu_type)" in message
    script = (p.root / message.rsplit("Batch script: ", 1)[1]).read_text()
    assert [line for line in script.splitlines() if "gpu" in line] == ["#SBATCH --gres=gpu:a100:1"]

    assert not [j for j, (name, state) in on_slurm.jobs().items() if state in ("PENDING", "RUNNING")]
    assert "PASSED  tiny-nt (cpu/float32, " in out
    assert f"FAILED  tiny-dnabert (slurm job {p.report('tiny-dnabert')['job']['id']} on {NODE})" in out
    assert "FAILED  tiny-caduceus-ph-unfused (slurm job refused)" in out


def test_a_refusal_under_enforced_partition_limits(
    on_slurm: SlurmCluster, smoke_project: SmokeProject
) -> None:
    """With `EnforcePartLimits=ALL` sbatch refuses what it would otherwise leave pending for ever; beside
    it, a job whose process exits without a result."""
    settings(smoke_project)
    resources(smoke_project, "tiny-nt")
    resources(smoke_project, "tiny-hyena", cpus=8)
    resources(smoke_project, "tiny-dnabert", smoke_project.entry_point("tiny-dnabert", EXITS, "exits"))
    with on_slurm.configured(EnforcePartLimits="ALL"):
        code, _out, err = smoke_project.kb(
            "smoke", "tiny-hyena", "tiny-nt", "tiny-dnabert", "--executor", "slurm"
        )
    assert code == 1 and "Traceback" not in err
    _job, message = job_check(smoke_project, "tiny-hyena")
    assert "Batch job submission failed: More processors requested than permitted" in message
    assert "Fix: the card asks for 8 CPU(s) (smoke_test.resources.cpus), more than a node of" in message
    assert smoke_project.report("tiny-nt")["status"] == "passed"
    job, message = job_check(smoke_project, "tiny-dnabert")
    assert job["state"] == "FAILED"
    assert message.startswith(
        f"SLURM job {job['id']} ended without a report (FAILED, reason NonZeroExitCode on "
    )
    assert "in its stage 'load'): its process ended without a result: upstream: no config found" in message
    log_of(smoke_project, message)


def test_a_wait_that_could_clear_is_bounded_by_the_setting(
    on_slurm: SlurmCluster, smoke_project: SmokeProject
) -> None:
    settings(smoke_project, pending_minutes=0.05)
    resources(smoke_project, "tiny-nt")
    on_slurm.run("scontrol", "update", f"NodeName={NODE}", "State=DRAIN", "Reason=kb test")
    try:
        code, _out, err = smoke_project.kb("smoke", "tiny-nt", "--executor", "slurm")
    finally:
        on_slurm.resume_node()
    assert code == 1 and "Traceback" not in err
    job, message = job_check(smoke_project, "tiny-nt")
    assert job["state"] == "PENDING"
    assert message.startswith(f"SLURM job {job['id']} waited ")
    assert "min in the queue (PENDING, reason " in message
    assert "longer than slurm.pending_minutes (0.05); kb cancelled it" in message
    assert on_slurm.jobs()[job["id"]][1] == "CANCELLED"


def test_a_node_failure_is_reported_as_one(on_slurm: SlurmCluster, smoke_project: SmokeProject) -> None:
    settings(smoke_project)
    resources(smoke_project, "tiny-hyena", smoke_project.entry_point("tiny-hyena", FAILS_ITS_NODE, "node"))
    try:
        code, _out, err = smoke_project.kb("smoke", "tiny-hyena", "--executor", "slurm")
    finally:
        on_slurm.resume_node()
    assert code == 1 and "Traceback" not in err
    job, message = job_check(smoke_project, "tiny-hyena")
    assert job["state"] == "NODE_FAIL"
    assert (
        f"its node {NODE} failed; the card's test did not fail. Fix: run `kb smoke tiny-hyena` again"
        in message
    )
    log_of(smoke_project, message)


def test_a_job_the_controller_loses_is_reported_lost(
    on_slurm: SlurmCluster, smoke_project: SmokeProject
) -> None:
    """Without accounting nothing remembers a job the controller forgot: kb says so after lost_seconds."""
    settings(smoke_project, lost_seconds=5)
    resources(smoke_project, "tiny-hyena", smoke_project.entry_point("tiny-hyena", SLEEPS, "sleeps"))
    assert on_slurm.run("sacct", check=False).returncode == 1  # no accounting here

    before = set(on_slurm.jobs())  # an earlier test's job of the same name may still show

    def lose() -> None:
        on_slurm.wait_for_job("kb-smoke-tiny-hyena", "RUNNING", not_in=before)
        on_slurm.restart_controller(clear=True)

    thread = threading.Thread(target=lose)
    thread.start()
    try:
        code, _out, err = smoke_project.kb("smoke", "tiny-hyena", "--executor", "slurm")
    finally:
        thread.join()
        on_slurm.resume_node()
    assert code == 1 and "Traceback" not in err
    job, message = job_check(smoke_project, "tiny-hyena")
    assert job["state"] == "LOST"
    assert message.startswith(
        f"SLURM job {job['id']} was lost: SLURM no longer reports it (squeue) and it left no result"
    )
    assert "accounting is off, and the controller keeps an ended job only MinJobAge (300 s)" in message

"""`kb smoke --executor slurm` on a real single-node SLURM with accounting (slurmdbd on MariaDB, started by
`slurm_accounting`): the reports are those of an inline run, and a job the controller has forgotten is
read from accounting (`sacct`)."""

from __future__ import annotations

import threading

import pytest

from tests.smoke.conftest import SmokeProject
from tests.smoke.slurm_cluster import SlurmCluster
from tests.smoke.slurm_runs import SLEEPS, job_check, outcome, resources, settings

pytest.importorskip("submitit")
pytestmark = pytest.mark.slurm


@pytest.fixture
def on_slurm(slurm_accounting: SlurmCluster, monkeypatch: pytest.MonkeyPatch) -> SlurmCluster:
    """The cluster with accounting, with `sbatch`, `squeue`... of this process pointed at it."""
    monkeypatch.setenv("SLURM_CONF", str(slurm_accounting.conf))
    return slurm_accounting


def test_with_accounting_the_jobs_report_as_an_inline_run(
    on_slurm: SlurmCluster, smoke_project: SmokeProject
) -> None:
    cards = ["tiny-hyena", "tiny-nt"]
    for card_id in cards:
        resources(smoke_project, card_id)
    settings(smoke_project)
    code, _out, err = smoke_project.kb("smoke", *cards)
    assert code == 0, err
    inline = {c: smoke_project.report(c) for c in cards}
    code, _out, err = smoke_project.kb("smoke", *cards, "--executor", "slurm")
    assert code == 0, err
    assert "kb smoke: SLURM cluster 'kbtest': accounting is on (accounting_storage/slurmdbd)" in err
    for card_id in cards:
        report = smoke_project.report(card_id)
        assert outcome(report) == outcome(inline[card_id])
        assert report["inputs_hash"] == inline[card_id]["inputs_hash"]
        assert report["job"]["executor"] == "slurm"
        # accounting records the job too (its report may arrive before its state is final there)
        done = f"kb-smoke-{card_id}|COMPLETED"
        on_slurm.wait_until(
            lambda job=report["job"]["id"], done=done: accounted(on_slurm, job) == done, "sacct"
        )


def accounted(cluster: SlurmCluster, job_id: str) -> str:
    """`name|state` of the job as accounting has it."""
    command = [
        "sacct",
        "--noheader",
        "--parsable2",
        "--allocations",
        f"--jobs={job_id}",
        "--format=JobName,State",
    ]
    return cluster.run(*command).stdout.strip()


def test_a_job_the_controller_forgot_is_read_from_accounting(
    on_slurm: SlurmCluster, smoke_project: SmokeProject
) -> None:
    """Cancelled, then forgotten by the controller (restarted without its state) before kb asked again:
    accounting still knows how it ended, and who ended it. (Last in this file: a controller started
    without its state numbers jobs from 1 again.)"""
    settings(smoke_project, poll_seconds=12)
    resources(smoke_project, "tiny-hyena", smoke_project.entry_point("tiny-hyena", SLEEPS, "sleeps"))

    before = set(on_slurm.jobs())  # an earlier test's job of the same name may still show

    def cancel_and_forget() -> None:
        job_id = on_slurm.wait_for_job("kb-smoke-tiny-hyena", "RUNNING", not_in=before)
        on_slurm.run("scancel", job_id)
        on_slurm.wait_until(
            lambda: accounted(on_slurm, job_id).startswith("kb-smoke-tiny-hyena|CANCELLED"), "sacct"
        )
        on_slurm.restart_controller(clear=True)

    thread = threading.Thread(target=cancel_and_forget)
    thread.start()
    try:
        code, _out, err = smoke_project.kb("smoke", "tiny-hyena", "--executor", "slurm")
    finally:
        thread.join()
    assert code == 1 and "Traceback" not in err
    job, message = job_check(smoke_project, "tiny-hyena")
    assert job["state"] == "CANCELLED"
    assert message.startswith(f"SLURM job {job['id']} ended without a report (CANCELLED")
    assert "it was cancelled by user id 0 before it finished" in message  # only accounting knows who

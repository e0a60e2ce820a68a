"""`kb smoke --executor slurm` on a real single-node SLURM without accounting (Debian's slurm-wlm, started
by `slurm_cluster`): the stand-in suite gives the reports an inline run gives, and an interrupted run
(Ctrl-C or SIGTERM) cancels its jobs and keeps the reports of the cards that finished."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.smoke.conftest import SmokeProject, project_on_sys_path
from tests.smoke.slurm_cluster import NODE, SlurmCluster
from tests.smoke.slurm_runs import SLEEPS, outcome, resources, settings

pytest.importorskip("submitit")
pytestmark = pytest.mark.slurm


def test_the_stand_in_suite_gives_the_reports_of_an_inline_run(
    on_slurm: SlurmCluster, smoke_project: SmokeProject
) -> None:
    cards = sorted(smoke_project.standins)
    for card_id in cards:
        resources(smoke_project, card_id)
    settings(smoke_project, max_jobs=3)
    code, _out, err = smoke_project.kb("smoke")
    assert code == 0, err
    inline = {c: smoke_project.report(c) for c in cards}

    code, out, err = smoke_project.kb("smoke", "--executor", "slurm")
    assert code == 0, err
    assert "kb smoke: SLURM cluster 'kbtest': accounting is off" in err
    assert f"{len(cards)} card(s): " in err and " 0 failed" in err
    folders = list((smoke_project.root / ".kb-cache" / "smoke-jobs").iterdir())
    assert len(folders) == 1
    spans = []
    for card_id in cards:
        report = smoke_project.report(card_id)
        assert outcome(report) == outcome(inline[card_id]), card_id
        assert report["inputs_hash"] == inline[card_id]["inputs_hash"]
        job = report["job"]
        assert job["executor"] == "slurm" and job["node"] == NODE
        assert job["cuda_visible_devices"] == ""  # no GPU asked for, none seen
        script = (folders[0] / f"{job['id']}_submission.sh").read_text()
        assert "#SBATCH --cpus-per-task=1" in script and "#SBATCH --mem=2GB" in script
        assert "gpu" not in script.replace("CUDA_VISIBLE_DEVICES", "")  # no GPU line for gpus: 0
        submitted = (folders[0] / f"{job['id']}_submitted.pkl").stat().st_mtime
        ended = (folders[0] / f"{job['id']}_0_result.pkl").stat().st_mtime
        spans += [(submitted, 1), (max(ended, submitted), -1)]
        assert f"{report['status'].upper():7} {card_id}" in out
    # never more than slurm.max_jobs of the run's jobs in flight
    in_flight = 0
    for _, change in sorted(spans, key=lambda s: (s[0], s[1])):
        in_flight += change
        assert in_flight <= 3


@pytest.mark.parametrize(
    ("sig", "code", "said"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]
)
def test_an_interrupted_run_cancels_its_jobs_and_keeps_finished_reports(
    on_slurm: SlurmCluster, smoke_project: SmokeProject, sig: signal.Signals, code: int, said: str
) -> None:
    settings(smoke_project)
    resources(smoke_project, "tiny-nt")
    resources(smoke_project, "tiny-hyena", smoke_project.entry_point("tiny-hyena", SLEEPS, "sleeps"))
    kb = Path(sys.executable).parent / "kb"
    command = [
        str(kb),
        "-C",
        str(smoke_project.root),
        "smoke",
        "tiny-nt",
        "tiny-hyena",
        "--executor",
        "slurm",
    ]
    env = {**os.environ, "SLURM_CONF": str(on_slurm.conf)}
    with subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            job_id = on_slurm.wait_for_job("kb-smoke-tiny-hyena", "RUNNING")
            report = smoke_project.root / "artifacts" / "smoke" / "tiny-nt.json"
            deadline = time.monotonic() + 120
            while not report.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
    assert proc.returncode == code, err
    assert err.rstrip().endswith(said)
    assert f"kb smoke: cancelled the slurm job(s) still in flight: {job_id} (tiny-hyena)" in err
    assert "Traceback" not in err
    assert on_slurm.jobs()[job_id][1] in ("CANCELLED", "COMPLETING")
    assert json.loads(report.read_text())["status"] == "passed"
    assert "PASSED  tiny-nt (cpu/float32, " in out
    assert not (smoke_project.root / "artifacts" / "smoke" / "tiny-hyena.json").exists()


def test_no_job_imports_from_the_project_or_its_working_directory(
    on_slurm: SlurmCluster, smoke_project: SmokeProject, tmp_path: Path
) -> None:
    """`kb smoke` started in the project, as a user starts it: the job's Python has neither the project
    nor its own working directory on sys.path (`python -P`, its own folder), so packages a pull request
    adds to the tree are never imported in place of the installed ones."""
    marker = tmp_path / "PWNED"
    for package in ("submitit", "generator", "torch"):
        (smoke_project.root / package).mkdir()
        (smoke_project.root / package / "__init__.py").write_text(f"open({str(marker)!r}, 'w')\n")
    probe = tmp_path / "sys_path.json"
    settings(smoke_project)
    resources(smoke_project, "tiny-dnabert", smoke_project.probe_sys_path("tiny-dnabert", probe))
    done = subprocess.run(
        [str(Path(sys.executable).parent / "kb"), "smoke", "tiny-dnabert", "--executor", "slurm"],
        cwd=smoke_project.root,
        env={**os.environ, "SLURM_CONF": str(on_slurm.conf)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    assert project_on_sys_path(smoke_project.root, probe) == []

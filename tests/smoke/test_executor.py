"""`kb smoke --executor local`: one submitit job per card (real subprocesses), reports gathered into
artifacts/smoke/ exactly as an inline run writes them; a job that dies is a failed report for its card."""

from __future__ import annotations

from typing import Any

import pytest

from tests.smoke.conftest import SmokeProject

pytest.importorskip("submitit")

CARDS = ["tiny-nt", "tiny-hyena"]


def _settings(project: SmokeProject, **options: Any) -> None:
    lines = "".join(f"      {k}: {v}\n" for k, v in options.items())
    (project.root / "mkdocs.yml").write_text(f"site_name: t\ndocs_dir: site_src\nplugins:\n  - kb:\n{lines}")


def _outcome(report: dict[str, Any]) -> tuple[str, list[tuple[str, str, str]]]:
    return report["status"], [(c["name"], c["status"], c["message"]) for c in report["checks"]]


def test_local_jobs_write_the_same_reports_as_an_inline_run(smoke_project: SmokeProject) -> None:
    _settings(smoke_project, smoke_poll_seconds=0.2, smoke_max_jobs=2)
    code, _out, err = smoke_project.kb("smoke", *CARDS, "--device", "cpu")
    assert code == 0, err
    inline = {i: smoke_project.report(i) for i in CARDS}

    code, out, err = smoke_project.kb("smoke", *CARDS, "--device", "cpu", "--executor", "local")
    assert code == 0, err
    assert "2 card(s): 2 passed, 0 skipped, 0 failed" in err
    for card_id in CARDS:
        report = smoke_project.report(card_id)
        assert _outcome(report) == _outcome(inline[card_id])
        assert report["inputs_hash"] == inline[card_id]["inputs_hash"]
        assert report["job"]["executor"] == "local" and report["job"]["id"]
        assert f"PASSED  {card_id}" in out
    assert inline["tiny-nt"]["job"] == {}


DIES = '''"""An upstream loader whose process dies (as a segfault or the kernel's OOM killer ends one)."""
import os
import signal


def load(checkpoint):
    os.kill(os.getpid(), signal.SIGKILL)
'''


def test_a_job_that_dies_is_a_failed_report_and_the_others_go_on(smoke_project: SmokeProject) -> None:
    _settings(smoke_project, smoke_poll_seconds=0.2)
    smoke_project.entry_point("tiny-dnabert", DIES, "a loader that dies")

    code, _out, err = smoke_project.kb(
        "smoke", "tiny-dnabert", "tiny-nt", "--device", "cpu", "--executor", "local"
    )
    assert code == 1
    assert "2 card(s): 1 passed, 0 skipped, 1 failed" in err
    report = smoke_project.report("tiny-dnabert")
    assert report["status"] == "failed"
    (check,) = report["checks"]
    assert check["name"] == "job"
    assert check["message"].startswith(f"the local job {report['job']['id']} ended without a report")
    assert "its log: .kb-cache/smoke-jobs/" in check["message"]
    assert "kb smoke: tiny-dnabert: job: the local job" in err
    assert smoke_project.report("tiny-nt")["status"] == "passed"


def test_slurm_without_sbatch_says_where_to_run(smoke_project: SmokeProject, monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    code, _out, err = smoke_project.kb("smoke", "tiny-nt", "--executor", "slurm")
    assert code == 2
    assert "--executor slurm: sbatch is not on PATH" in err
    assert "Traceback" not in err

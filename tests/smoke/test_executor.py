"""`kb smoke --executor local`: one submitit job per card (real subprocesses), reports gathered into
artifacts/smoke/ exactly as an inline run writes them; a job that dies is a failed report for its card."""

from __future__ import annotations

from pathlib import Path
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


def test_a_gpu_request_in_slurm_extra_is_refused_before_anything_is_submitted(
    smoke_project: SmokeProject,
) -> None:
    """The README once showed `extra: {gres: ...}` beside a card's `gpus`: two GPU requests, which sbatch
    refuses ("Invalid GRES specification"). GPUs come from the card (and slurm.gpu_type) only."""
    extra = '{gres: "gpu:h100:1", mail-type: FAIL}'
    (smoke_project.root / "mkdocs.yml").write_text(
        f"site_name: t\nplugins:\n  - kb:\n      slurm:\n        extra: {extra}\n"
    )
    code, _out, err = smoke_project.kb("smoke", "tiny-nt", "--executor", "slurm")
    assert code == 1
    assert (
        "invalid kb settings: plugins.kb.slurm.extra: Value error, 'gres' is not set here: kb asks for it "
        "from smoke_test.resources.gpus and gpu_type (or the slurm.gpu_type setting); remove 'gres' from "
        "slurm.extra"
    ) in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        (
            {"gpus": 0, "gpu_type": "h100"},
            "smoke_test.resources: gpu_type 'h100' is given, but gpus is 0: set gpus to 1 or more",
        ),
        (
            {"gpus": 1, "gpu_type": "h100:2"},
            "smoke_test.resources: gpu_type 'h100:2' is not a GPU type as SLURM names them: letters, digits, "
            "'_', '.' and '-' (e.g. h100 or a100_80g)",
        ),
    ],
)
def test_a_gpu_type_is_checked_with_the_card(
    smoke_project: SmokeProject, resources: dict[str, Any], message: str
) -> None:
    card = smoke_project.card("tiny-nt")
    card["smoke_test"]["resources"] = resources
    smoke_project.write(card)
    code, out, err = smoke_project.kb("validate", "kb/model_cards/tiny-nt.yaml")
    assert code == 1
    assert f"error: {message}" in out + err


def test_the_readme_cluster_examples_are_valid_settings_and_resources() -> None:
    """The README's cluster section: its settings block and its card's resources validate as they stand
    (one GPU request: `gpu_type` and the card's `gpus`, nothing GPU-like in `extra`)."""
    import re

    import yaml

    from generator.schema.smoke import SmokeResources
    from generator.settings import settings_from_config
    from generator.smoke.slurm.request import Request

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Smoke tests on a cluster", 1)[1].split("\n## ", 1)[0]
    config, card = (yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", section, re.S))
    settings = settings_from_config(config)
    resources = SmokeResources.model_validate(card["smoke_test"]["resources"])
    params = Request.of(resources, settings.slurm).parameters("kb-smoke-x", Path("/jobs"), settings.slurm)
    assert params["gres"] == "gpu:a100:1" and params["partition"] == "gpu"
    assert not {"gpus_per_node", "gpus_per_task"} & set(params)
    assert params["additional_parameters"] == {"mail-type": "FAIL", "chdir": "/jobs"}

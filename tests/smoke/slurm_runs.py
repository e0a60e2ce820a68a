"""What the SLURM tests share: the jobs' resources, upstream loaders that fail their job in a given way,
the project's settings, and reading a card's failed report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.smoke.conftest import SmokeProject

SMALL = {"cpus": 1, "memory_gb": 2, "time_minutes": 5}
"""What every stand-in's job asks for: they fit the test node a few at once."""

SLEEPS = '''"""A loader that takes longer than any test waits."""
import time


def load(checkpoint):
    time.sleep(600)
'''
EATS_MEMORY = '''"""A loader that needs far more memory than its job asked for."""
import time


def load(checkpoint):
    ballast = b"x" * (3 * 2**30)
    time.sleep(60)
    return ballast
'''
CANCELS_ITSELF = '''"""A loader whose job is cancelled under it, as someone running scancel would."""
import os
import subprocess
import time


def load(checkpoint):
    subprocess.run(["scancel", os.environ["SLURM_JOB_ID"]], check=True)
    time.sleep(120)
'''
EXITS = '''"""A loader whose code ends the process at once, as a library calling os._exit does (a
`sys.exit` is caught: it fails the card's check like any exception of the model's code)."""
import os
import sys


def load(checkpoint):
    print("upstream: no config found, giving up", file=sys.stderr, flush=True)
    os._exit(3)
'''
FAILS_ITS_NODE = '''"""A loader during which its node fails (here: is set DOWN, which ends the jobs on it)."""
import os
import subprocess
import time


def load(checkpoint):
    node = os.environ["SLURMD_NODENAME"]
    subprocess.run(["scontrol", "update", f"NodeName={node}", "State=DOWN", "Reason=kb test"], check=True)
    time.sleep(120)
'''


def settings(project: SmokeProject, **slurm: Any) -> None:
    """mkdocs.yml with quick polling and these `slurm` settings."""
    options = {"smoke_poll_seconds": 0.2, "slurm": {"poll_seconds": 0.5, "lost_seconds": 10, **slurm}}
    config = {"site_name": "t", "docs_dir": "site_src", "plugins": [{"kb": options}]}
    (project.root / "mkdocs.yml").write_text(yaml.safe_dump(config))


def resources(project: SmokeProject, card_id: str, card: dict[str, Any] | None = None, **asked: Any) -> None:
    """The card (as given, or the stand-in's) asking for SMALL with `asked` over it."""
    card = card or project.card(card_id)
    card["smoke_test"]["resources"] = {**SMALL, **asked}
    project.write(card)


def outcome(report: dict[str, Any]) -> tuple[str, list[tuple[str, str, str]]]:
    return report["status"], [(c["name"], c["status"], c["message"]) for c in report["checks"]]


def job_check(project: SmokeProject, card_id: str) -> tuple[dict[str, str], str]:
    """The card's report must be failed on its one `job` check: (report's job, that check's message)."""
    report = project.report(card_id)
    assert report["status"] == "failed", report
    (check,) = report["checks"]
    assert check["name"] == "job" and check["status"] == "failed"
    return report["job"], check["message"]


def log_of(project: SmokeProject, message: str) -> Path:
    """The log a message names (`...; its log: <path>`), which must exist."""
    path = project.root / message.rsplit("its log: ", 1)[1]
    assert path.is_file(), message
    return path

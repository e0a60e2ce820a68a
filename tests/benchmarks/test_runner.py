"""The benchmark runner works end to end on a tiny knowledge base (no times are asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_runner_measures_each_stage_and_prints_the_table(tmp_path: Path) -> None:
    results = tmp_path / "results"
    run = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "run.py"), "--cards", "2", "--runs", "1",
         "--stages", "validate", "render", "mkdocs", "links", "--no-compare", "--results", str(results)],
        capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    data = json.loads((results / "pipeline-2.json").read_text())
    assert data["cards"] == 2
    assert set(data["stages"]) == {"validate", "pyyaml-load", "render", "mkdocs-kb-plugin", "mkdocs-plain",
                                   "check-links"}
    for stage in data["stages"].values():
        assert stage["runs"] == 1 and stage["wall_s"] > 0 and stage["tree_peak_rss_mb"] > 0
    assert "| kb validate |" in run.stdout
    assert "| kb validate vs PyYAML C loader (process) | <= 2.0 |" in run.stdout

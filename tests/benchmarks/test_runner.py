"""The benchmark runner works end to end on a tiny knowledge base (no times are asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def bench(tmp_path: Path, *stages: str, timeout: float) -> tuple[subprocess.CompletedProcess[str], Any]:
    """Run the benchmark on 2 cards, once, for `stages`: the run and its results file's data."""
    results = tmp_path / "results"
    command = [sys.executable, str(REPO_ROOT / "benchmarks" / "run.py"), "--cards", "2", "--runs", "1"]
    command += ["--stages", *stages, "--no-compare", "--results", str(results)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return run, json.loads((results / "pipeline-2.json").read_text())


@pytest.mark.slow
def test_runner_measures_each_stage_and_prints_the_table(tmp_path: Path) -> None:
    run, data = bench(tmp_path, "validate", "render", "mkdocs", "links", timeout=600)
    assert data["cards"] == 2
    assert set(data["stages"]) == {
        "validate",
        "pyyaml-load",
        "render",
        "mkdocs-kb-plugin",
        "mkdocs-plain",
        "check-links",
    }
    for stage in data["stages"].values():
        assert stage["runs"] == 1 and stage["wall_s"] > 0 and stage["tree_peak_rss_mb"] > 0
    assert "| kb validate |" in run.stdout
    assert "| kb validate vs PyYAML C loader (process) | <= 2.0 |" in run.stdout


@pytest.mark.slow
def test_runner_measures_the_pdf_floor_and_the_builds_beside_it(tmp_path: Path) -> None:
    """The PDF stage beside bare WeasyPrint on the same print HTML, and `kb build` cold, with nothing
    changed and with one card changed, in one run; their targets in the table."""
    run, data = bench(tmp_path, "pdf", "build", "mkdocs", timeout=900)
    assert data["skipped"] == {}
    stages = data["stages"]
    assert {
        "pdf-cold",
        "pdf-floor",
        "pdf-noop",
        "pdf-one-changed",
        "build-cold",
        "build-noop",
        "build-one-changed",
    } <= set(stages)
    # WeasyPrint alone printed the same documents: as many PDFs, as many pages.
    assert stages["pdf-floor"]["pdfs"] == stages["pdf-cold"]["pdfs"] == stages["build-cold"]["pdfs"] >= 2
    assert stages["pdf-floor"]["pdf_pages"] == stages["pdf-cold"]["pdf_pages"] > 0
    assert stages["build-one-changed"]["pdfs_rendered"] == 2
    assert stages["build-noop"]["pdfs_rendered"] == 0
    targets = {t["target"]: t for t in data["targets"]}
    assert targets["kb pdf cold vs WeasyPrint alone (same print HTML)"]["ratio"] > 0
    one_card = "kb build one card changed vs kb pdf + mkdocs build of it, one after the other"
    assert targets[one_card]["ratio"] > 0
    assert "| WeasyPrint alone on the same print HTML (one process per core) |" in run.stdout
    assert "| kb pdf cold vs WeasyPrint alone (same print HTML) | <= 1.3 |" in run.stdout
    assert "PDF pages produced" in run.stdout


@pytest.mark.slow
def test_runner_measures_serve_latency_and_the_engines_side_by_side(tmp_path: Path) -> None:
    """From saving a card to its page served by a real `mkdocs serve`, and MkDocs beside Zensical on
    the same pages; the goals table lists the serve latency."""
    run, data = bench(tmp_path, "serve", "engines", timeout=900)
    stages = data["stages"]
    assert {"serve-text", "serve-name", "serve-name-all"} <= set(stages)
    assert all(stages[s]["wall_s"] > 0 for s in ("serve-text", "serve-name", "serve-name-all"))
    if "engine-zensical" in stages:  # zensical is in the test extra
        assert {"engine-mkdocs", "build-mkdocs-force", "build-zensical-force"} <= set(stages)
    assert "| mkdocs serve: one card's text saved -> its page served | <= 3 s |" in run.stdout

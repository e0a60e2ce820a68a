"""Measuring one stage: a project of N cards (`Bench`) and the median of a few runs of a command as a
whole process (wall time, CPU time of the process tree, its peak memory: `benchmarks/procstat.py`)."""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.procstat import Sample, run_measured

PY = sys.executable


class StageFailed(Exception):
    """A measured command failed: its stage group is reported as skipped, the others still run."""


@dataclass
class Bench:
    """One project of N cards and what has been measured on it."""

    cards: int
    root: Path
    ids: list[str]
    runs: int
    budget_s: float
    log: Path
    results: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    pristine_docs: Path | None = None
    pdf_ok: bool = True
    """Whether the PDF stages run at this N (`--pdf-max-cards`)."""
    pdf_skip_reason: str = ""
    venv: Path | None = None
    """The comparison tools' venv (`.venv-bench`), None when not made."""
    smoke_root: Path | None = None
    """The smoke stand-ins' project, None when it could not be made."""
    smoke_skip_reason: str = ""
    route_timeout: float | None = None
    """Seconds after which a comparison tool's run is stopped (its time then is a lower bound)."""
    server: tuple[Any, str] | None = None
    """The `mkdocs serve` process of the serve stages and its URL (`benchmarks/serve_latency.py`)."""
    edits: int = 0
    """Edits made through the server so far (each run's edit is a new one)."""

    # -- commands -----------------------------------------------------------------------------------
    def kb(self, *args: str) -> list[str]:
        return [PY, "-m", "generator", "-C", str(self.root), *args]

    def mkdocs(self, config: str, venv: Path | None = None) -> list[str]:
        exe = (venv / "bin" / "mkdocs") if venv else Path(PY).with_name("mkdocs")
        return [str(exe), "build", "--quiet", "--config-file", str(self.root / config)]

    # -- state --------------------------------------------------------------------------------------
    def clean(self) -> None:
        """Back to a fresh checkout: no site, no PDFs or caches, only the hand-written pages."""
        for name in ("site", "site-plain", "site-topdf", "site-zensical", "artifacts", ".kb-cache", ".cache"):
            shutil.rmtree(self.root / name, ignore_errors=True)
        assert self.pristine_docs is not None
        shutil.rmtree(self.root / "site_src", ignore_errors=True)
        shutil.copytree(self.pristine_docs, self.root / "site_src")

    def ensure(self, cmd: list[str], what: str, cwd: Path | None = None) -> None:
        """Run a setup step (not measured); fail loudly if it fails."""
        run = subprocess.run(cmd, cwd=cwd or self.root, capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"{what} failed ({run.returncode}):\n{(run.stdout + run.stderr)[-3000:]}")

    # -- measuring ----------------------------------------------------------------------------------
    def measure(
        self,
        name: str,
        label: str,
        cmd: list[str],
        before: Callable[[int], None] | None = None,
        ok_codes: tuple[int, ...] = (0,),
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Median of up to `self.runs` runs; stops early once the stage has used its time budget."""
        samples: list[Sample] = []
        output = ""
        spent = 0.0
        for i in range(self.runs):
            if before:
                before(i)
            sample, output = self._run(cmd, timeout)
            samples.append(sample)
            if sample.timed_out:
                self._say(
                    f"{name}: stopped after {timeout:.0f} s (--route-timeout); its time is a lower bound"
                )
                break
            if sample.returncode not in ok_codes:
                print(output[-2500:], file=sys.stderr)
                raise StageFailed(f"`{Path(cmd[0]).name} ...` exited {sample.returncode} (see the log)")
            spent += sample.wall_s
            self._say(
                f"{name:<18} run {i + 1}: {sample.wall_s:7.2f} s wall, {sample.cpu_s:7.2f} s CPU, "
                f"{sample.tree_peak_rss_mb:6.0f} MB"
            )
            if spent > self.budget_s and i + 1 < self.runs:
                self._say(f"{name}: {spent:.0f} s spent, budget {self.budget_s:.0f} s: no more runs")
                break
        result = summary(label, cmd, samples, timeout)
        result.update(_pdf_counts(output))
        self.results[name] = result
        return result

    def _run(self, cmd: list[str], timeout: float | None) -> tuple[Sample, str]:
        """One run, and what it wrote to the log."""
        offset = self.log.stat().st_size if self.log.exists() else 0
        sample = run_measured(cmd, self.root, self.log, timeout=timeout)
        with self.log.open("rb") as fh:
            fh.seek(offset)
            return sample, fh.read().decode(errors="replace")

    def _say(self, message: str) -> None:
        print(f"  [{self.cards:>4} cards] {message}", flush=True)


def summary(label: str, cmd: list[str], samples: list[Sample], timeout: float | None) -> dict[str, Any]:
    """The medians of the runs, the peaks, and every run's figures."""
    result = {
        "label": label,
        "command": " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd)),
        "runs": len(samples),
        "wall_s": round(statistics.median(s.wall_s for s in samples), 3),
        "cpu_s": round(statistics.median(s.cpu_s for s in samples), 3),
        "max_rss_mb": round(max(s.max_rss_mb for s in samples), 1),
        "tree_peak_rss_mb": round(max(s.tree_peak_rss_mb for s in samples), 1),
        "samples": [s.as_dict() for s in samples],
    }
    if any(s.timed_out for s in samples):
        result["timed_out_after_s"] = timeout  # the median is a lower bound
    return result


PDF_SUMMARY = re.compile(r"(\d+) rendered, (\d+) unchanged")


def _pdf_counts(output: str) -> dict[str, int]:
    """What the last run of `kb pdf` / `kb build` did: PDFs rendered and unchanged."""
    found = PDF_SUMMARY.search(output)
    return {"pdfs_rendered": int(found.group(1)), "pdfs_unchanged": int(found.group(2))} if found else {}

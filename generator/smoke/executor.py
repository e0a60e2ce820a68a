"""Where the smoke tests run: in this process one after another (`inline`), or one job per card through
submitit (`local`: a subprocess per card, `local.py`; `slurm`: a SLURM job per card with the resources
the card's `smoke_test.resources` asks for and the `slurm` settings, `slurm/`).

Every executor runs the same function on a card (`job.run_card`) and hands back the same `Report`, so a
report gathered from a job is written exactly as an inline run writes it. A job that ends without its
report is a failed report for its card naming the job, how it ended and its log; the other cards go on.
The job loop (`jobs.py`) cancels every job still in flight however the run is left (Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from generator.settings import Project
from generator.smoke.job import SmokeOptions, job_main, run_card
from generator.smoke.jobs import Say, Step
from generator.smoke.report import Report

if TYPE_CHECKING:
    from generator.knowledge import LoadedCard
    from generator.schema.model_card import ModelCard

__all__ = ["EXECUTORS", "SmokeOptions", "job_main", "run_all", "run_card"]

EXECUTORS = ("inline", "local", "slurm")


def run_all(
    project: Project,
    cards: list[LoadedCard[ModelCard]],
    options: SmokeOptions,
    executor: str,
    step: Step,
    say: Say = lambda _line: None,
) -> Generator[tuple[LoadedCard[ModelCard], Report], None, None]:
    """Each card with its report, as the reports arrive. Close the iterator when leaving it early: that
    cancels the jobs still in flight."""
    if executor == "inline":
        for loaded in cards:
            yield loaded, run_card(project, loaded, options, _for_card(step, loaded.id))
        return
    from generator.smoke.jobs import run_jobs

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    folder = project.path(project.settings.smoke_jobs_dir) / f"{stamp}-{os.getpid()}"
    if executor == "slurm":
        from generator.smoke.slurm.backend import SlurmJobs

        yield from run_jobs(SlurmJobs(project, options, folder, say), cards, step, say)
    else:
        from generator.smoke.local import LocalJobs

        yield from run_jobs(LocalJobs(project, options, folder), cards, step, say)


def _for_card(step: Step, card_id: str) -> Callable[[str], None]:
    return lambda stage: step(card_id, stage)

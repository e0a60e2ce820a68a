"""Where the smoke tests run: in this process one after another (`inline`), or one job per card through
submitit (`local`: a subprocess per card; `slurm`: a SLURM job per card, with the resources the card's
`smoke_test.resources` asks for and the `slurm` settings).

Every executor runs the same function on a card (`run_card`) and hands back the same `Report`, so a
report gathered from a job is written exactly as an inline run writes it. A job that dies (killed,
out of memory, past its time limit, lost by the scheduler) becomes a failed report for its card; the
other cards go on.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from generator.exceptions import KBError, MissingDependency, UsageError
from generator.settings import DEFAULTS, Project
from generator.smoke.report import Report

if TYPE_CHECKING:
    from pathlib import Path

    from submitit import Job

    from generator.knowledge import LoadedCard
    from generator.schema.model_card import ModelCard

EXECUTORS = ("inline", "local", "slurm")

Step = Callable[[str, str], None]
"""Progress callback: (card id, what is happening now)."""


@dataclass(frozen=True)
class SmokeOptions:
    """What `kb smoke` was asked for, the same for every card and every executor."""

    device: str = DEFAULTS.smoke_device
    record: bool = False
    kernels: str = "auto"
    """`--kernels`: auto, native or reference (`generator.smoke.kernels`)."""


def run_card(
    project: Project,
    loaded: LoadedCard[ModelCard],
    options: SmokeOptions,
    step: Callable[[str], None] | None = None,
) -> Report:
    """One card's smoke test: what every executor runs."""
    from generator.smoke.runner import smoke_card

    return smoke_card(project, loaded, options.device, options.record, step, options.kernels)


def job_main(project: Project, loaded: LoadedCard[ModelCard], options: SmokeOptions) -> Report:
    """The body of a submitit job: import torch and transformers there, run the card, and turn a
    problem of that machine (torch missing, no CUDA) into the card's failed report, not a traceback."""
    from generator.smoke.loader import import_torch, import_transformers

    try:
        import_torch()
        import_transformers()
        return run_card(project, loaded, options)
    except KBError as exc:
        report = Report(id=loaded.id)
        report.add("job", False, f"{exc} (on {os.uname().nodename})")
        return report.finish("failed")


def run_all(
    project: Project, cards: list[LoadedCard[ModelCard]], options: SmokeOptions, executor: str, step: Step
) -> Iterator[tuple[LoadedCard[ModelCard], Report]]:
    """Each card with its report, as the reports arrive."""
    if executor == "inline":
        for loaded in cards:
            yield loaded, run_card(project, loaded, options, _for_card(step, loaded.id))
        return
    yield from _JobRun(project, options, executor, step).run(cards)


def _for_card(step: Step, card_id: str) -> Callable[[str], None]:
    return lambda stage: step(card_id, stage)


class _JobRun:
    """One submitit job per card, at most `smoke_max_jobs` at once for the local executor; the
    states of running jobs are polled and shown through `step`."""

    def __init__(self, project: Project, options: SmokeOptions, executor: str, step: Step) -> None:
        self.project = project
        self.options = options
        self.kind = executor
        self.step = step
        settings = project.settings
        self.limit = max(1, settings.smoke_max_jobs) if executor == "local" else 0
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        self.folder = project.path(settings.smoke_jobs_dir) / f"{stamp}-{os.getpid()}"
        self.executor = _executor(executor, self.folder)

    def run(self, cards: list[LoadedCard[ModelCard]]) -> Iterator[tuple[LoadedCard[ModelCard], Report]]:
        queued = deque(cards)
        running: dict[Job[Report], LoadedCard[ModelCard]] = {}
        try:
            while queued or running:
                while queued and (not self.limit or len(running) < self.limit):
                    loaded = queued.popleft()
                    running[self._submit(loaded)] = loaded
                for job in [j for j in running if j.done()]:
                    yield running[job], self._gather(job, running.pop(job))
                if running:
                    self.step(
                        ", ".join(sorted(c.id for c in running.values())),
                        f"{len(running)} job(s) running, {len(queued)} queued",
                    )
                    time.sleep(self.project.settings.smoke_poll_seconds)
        finally:
            for job in running:  # interrupted (Ctrl-C): leave no job behind
                job.cancel(check=False)

    def _submit(self, loaded: LoadedCard[ModelCard]) -> Job[Report]:
        resources = loaded.card.smoke_test.resources if loaded.card.smoke_test else None
        slurm = self.project.settings.slurm
        params: dict[str, Any] = {"name": f"kb-smoke-{loaded.id}"}
        if resources is not None:
            params.update(
                timeout_min=resources.time_minutes,
                gpus_per_node=resources.gpus,
                cpus_per_task=resources.cpus,
                mem_gb=resources.memory_gb,
            )
        if self.kind == "slurm":
            extra = {
                "slurm_partition": slurm.partition,
                "slurm_account": slurm.account,
                "slurm_qos": slurm.qos,
                "slurm_constraint": slurm.constraint,
            }
            params.update({k: v for k, v in extra.items() if v})
            if slurm.setup:
                params["slurm_setup"] = list(slurm.setup)
            if slurm.extra:
                params["slurm_additional_parameters"] = dict(slurm.extra)
        self.executor.update_parameters(**params)
        with _outside_the_project(self.folder):
            job = self.executor.submit(job_main, self.project, loaded, self.options)
        self.step(loaded.id, f"submitted as {self.kind} job {job.job_id}")
        return job

    def _gather(self, job: Job[Report], loaded: LoadedCard[ModelCard]) -> Report:
        """The job's report, or a failed one naming the job, what became of it and where its log is."""
        try:
            report: Report = job.result()
        except Exception as exc:  # submitit's FailedJobError / UncompletedJobError, or a lost job
            report = Report(id=loaded.id, device=self.options.device)
            report.add("job", False, _job_failure(job, exc, self.project))
            report.finish("failed")
        report.job = {"executor": self.kind, "id": str(job.job_id)}
        return report


@contextlib.contextmanager
def _outside_the_project(folder: Path) -> Iterator[None]:
    """Jobs start in their own folder, with `PYTHONSAFEPATH`: submitit starts them as `python -m ...`,
    which puts the working directory first on `sys.path`, and the project's tree (a pull request's) must
    never be importable in a job (`submitit/` or `generator/` there would be imported instead)."""
    previous, safe = os.getcwd(), os.environ.get("PYTHONSAFEPATH")
    os.chdir(folder)
    os.environ["PYTHONSAFEPATH"] = "1"  # Python 3.11+: the same for the job's own `python -m`
    try:
        yield
    finally:
        os.chdir(previous)
        if safe is None:
            os.environ.pop("PYTHONSAFEPATH", None)
        else:
            os.environ["PYTHONSAFEPATH"] = safe


def _executor(kind: str, folder: Path) -> Any:
    try:
        import submitit
    except ImportError as exc:
        raise MissingDependency("submitit", "smoke", f"kb smoke --executor {kind}") from exc
    if kind == "slurm" and shutil.which("sbatch") is None:
        raise UsageError(
            "--executor slurm: sbatch is not on PATH; run kb smoke on a machine that "
            "submits SLURM jobs (a login node), or use --executor local"
        )
    folder.mkdir(parents=True, exist_ok=True)
    return submitit.AutoExecutor(folder=folder, cluster=kind)


def _job_failure(job: Job[Report], exc: BaseException, project: Project) -> str:
    """Why a job gave no report: how it ended, the last line of its error log, where the logs are."""
    local = "Local" in type(job).__name__
    ended = ""
    if local:
        # submitit's local jobs keep their Popen; its return code tells a signal from an exit.
        code = getattr(getattr(job, "_process", None), "returncode", None)
        if isinstance(code, int) and code < 0:
            ended = f"killed by {signal.Signals(-code).name}"
        elif isinstance(code, int):
            ended = f"exit status {code}"
    else:
        with contextlib.suppress(Exception):  # a job the scheduler forgot has no state to ask for
            ended = f"state {job.state}"
    last = ""
    with contextlib.suppress(OSError):
        lines = [line.strip() for line in (job.stderr() or "").splitlines() if line.strip()]
        last = lines[-1] if lines else ""
    logs = project.rel(job.paths.stderr) if hasattr(job, "paths") else "its job folder"
    why = last[:300] or "it wrote no result (a crash, the out-of-memory killer, or its time limit)"
    return (
        f"the {'local' if local else 'SLURM'} job {job.job_id} ended without a report "
        f"({ended or type(exc).__name__}): {why}; its log: {logs}. A job is stopped when it runs "
        "past smoke_test.resources.time_minutes or needs more than memory_gb: raise them in the "
        "card if the model needs more"
    )

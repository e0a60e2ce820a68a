"""`kb smoke --executor local`: one submitit subprocess per card on this machine, at most
`smoke_max_jobs` at once; a card whose process dies (a crash, the out-of-memory killer, its time
limit) is a failed report naming the job and its log."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from generator.exceptions import MissingDependency
from generator.smoke.job import JobLog, SmokeOptions, job_main, outside_the_project, resources
from generator.smoke.report import Report

if TYPE_CHECKING:
    from pathlib import Path

    from submitit import Job

    from generator.knowledge import LoadedCard
    from generator.schema.model_card import ModelCard
    from generator.settings import Project


class LocalJobs:
    """The `Backend` of `generator.smoke.jobs` for submitit's local executor."""

    kind = "local"

    def __init__(self, project: Project, options: SmokeOptions, folder: Path) -> None:
        self.project = project
        self.options = options
        self.limit = max(1, project.settings.smoke_max_jobs)
        self.poll_seconds = project.settings.smoke_poll_seconds
        try:
            import submitit
        except ImportError as exc:
            raise MissingDependency("submitit", "smoke", "kb smoke --executor local") from exc
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.executor = submitit.AutoExecutor(folder=folder, cluster="local")

    def submit(self, loaded: LoadedCard[ModelCard], in_flight: int) -> Job[Report]:
        res = resources(loaded)
        self.executor.update_parameters(
            name=f"kb-smoke-{loaded.id}", timeout_min=res.time_minutes, gpus_per_node=res.gpus
        )
        with outside_the_project(self.folder):  # the job's `python -m` must not see the project's tree
            job: Job[Report] = self.executor.submit(job_main, self.project, loaded, self.options, res.gpus)
        return job

    def finished(
        self, running: dict[Job[Report], LoadedCard[ModelCard]]
    ) -> Iterator[tuple[Job[Report], Report]]:
        for job, loaded in running.items():
            if job.done():
                yield job, self._gather(job, loaded)

    def cancel(self, jobs: list[Job[Report]]) -> None:
        for job in jobs:
            job.cancel(check=False)

    def job_id(self, job: Job[Report]) -> str:
        return str(job.job_id)

    def _gather(self, job: Job[Report], loaded: LoadedCard[ModelCard]) -> Report:
        """The job's report, or a failed one naming the job, how it ended and where its log is."""
        try:
            report: Report = job.result()
        except Exception as exc:  # submitit's FailedJobError / UncompletedJobError
            report = Report(id=loaded.id, device=self.options.device)
            report.add("job", False, self._failure(job, loaded.id, exc))
            report.finish("failed")
        report.job = {"executor": self.kind, "id": str(job.job_id), **report.job}
        return report

    def _failure(self, job: Job[Report], card_id: str, exc: BaseException) -> str:
        """Why a job gave no report: how it ended, the last line of its error log, where the logs are."""
        # submitit's local jobs keep their Popen; its return code tells a signal from an exit.
        code: Any = getattr(getattr(job, "_process", None), "returncode", None)
        ended = type(exc).__name__
        if isinstance(code, int) and code < 0:
            ended = f"killed by {signal.Signals(-code).name}"
        elif isinstance(code, int):
            ended = f"exit status {code}"
        log = JobLog.read(job.paths.stderr, card_id)
        last = log.last
        if log.stage:
            ended += f" in its stage '{log.stage}'"
        why = last[:300] or "it wrote no result (a crash, the out-of-memory killer, or its time limit)"
        return (
            f"the local job {job.job_id} ended without a report ({ended}): {why}; its log: "
            f"{self.project.rel(job.paths.stderr)}. A job is stopped when it runs past "
            "smoke_test.resources.time_minutes or the machine runs out of memory: raise time_minutes in "
            "the card if the model needs longer, or lower smoke_max_jobs"
        )

"""`kb smoke --executor slurm`: one SLURM job per card (submitit writes the batch script and carries
the card's test there and its report back), at most `slurm.max_jobs` in flight.

Every way a job can end without its report becomes a failed report for its card naming the job, its
state or reason, its log and the fix (`verdict.py`): refused by sbatch, pending for a reason that cannot
clear (cancelled at once), pending past `slurm.pending_minutes` (cancelled), ended in a state that is
not success (cancelled, time limit, out of memory, node failure, ...), or lost (SLURM no longer reports
it and no result came within `slurm.lost_seconds`). States come from `queue.py`, never from submitit's
watcher, which asks only `sacct` and retries for ever where accounting is off.
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from generator.exceptions import MissingDependency
from generator.smoke.job import JobLog, SmokeOptions, job_main, outside_the_project, resources, safe_python
from generator.smoke.report import Report
from generator.smoke.slurm import verdict
from generator.smoke.slurm.queue import Cluster, JobState, Partition, Queue, SlurmUnanswered
from generator.smoke.slurm.request import Request

if TYPE_CHECKING:
    from collections.abc import Iterator

    from submitit import Job

    from generator.knowledge import LoadedCard
    from generator.schema.model_card import ModelCard
    from generator.settings import Project
    from generator.smoke.jobs import Say


@dataclass(eq=False)
class Tracked:
    """One submitted job and what has been seen of it."""

    job: Job[Report]
    request: Request
    submitted: float
    seen: float
    """When SLURM last reported it (or the submission)."""
    state: JobState | None = None
    waiting: float | None = None
    """When it was last seen to start waiting in the queue (a requeued job waits again)."""
    ended: float | None = None
    """When it was first seen in a final state."""

    @property
    def job_id(self) -> str:
        return str(self.job.job_id)


class SlurmJobs:
    """The `Backend` of `generator.smoke.jobs` for a SLURM cluster."""

    kind = "slurm"

    def __init__(self, project: Project, options: SmokeOptions, folder: Path, say: Say) -> None:
        try:
            import submitit  # noqa: F401  (the jobs are submitit's)
        except ImportError as exc:
            raise MissingDependency("submitit", "smoke", "kb smoke --executor slurm") from exc
        self.project = project
        self.options = options
        self.folder = folder
        self.slurm = project.settings.slurm
        self.limit = self.slurm.max_jobs
        self.poll_seconds = min(project.settings.smoke_poll_seconds, self.slurm.poll_seconds)
        self.cluster = Cluster.probe()
        self.queue = Queue(self.cluster)
        self.asked = float("-inf")
        self.partition: Partition | None = None
        self.unanswered = ""
        say(f"{self.cluster.describe()}; jobs and their logs in {project.rel(folder)}/")
        folder.mkdir(parents=True, exist_ok=True)

    # --- the Backend protocol ---------------------------------------------------------------------

    def submit(self, loaded: LoadedCard[ModelCard], in_flight: int) -> Tracked | Report | None:
        from submitit import SlurmExecutor
        from submitit.core.utils import FailedJobError, FailedSubmissionError

        request = Request.of(resources(loaded), self.slurm)
        # `python -P` and the job's own folder (request.py's chdir): the project's tree is never on the
        # job's sys.path
        executor = SlurmExecutor(folder=self.folder, python=safe_python())
        executor.update_parameters(**request.parameters(f"kb-smoke-{loaded.id}", self.folder, self.slurm))
        before = set(self.folder.iterdir())
        captured = io.StringIO()
        try:  # submitit echoes sbatch's error on stderr: it goes in the report instead
            with contextlib.redirect_stderr(captured), outside_the_project(self.folder):
                gpus = request.resources.gpus
                job: Job[Report] = executor.submit(job_main, self.project, loaded, self.options, gpus)
        except (FailedJobError, FailedSubmissionError, OSError) as exc:
            error = str(exc) or type(exc).__name__
            script = self._keep_script(before, loaded.id)
            if verdict.SUBMIT_LIMIT.search(error) and in_flight:
                return None  # the cluster's per-user limit: this card waits for one of ours to leave
            return self._failed(loaded, verdict.refused(request, self.slurm, error, script), "", "REFUSED")
        now = time.monotonic()
        return Tracked(job, request, now, now, waiting=now)

    def finished(self, running: dict[Tracked, LoadedCard[ModelCard]]) -> Iterator[tuple[Tracked, Report]]:
        now = time.monotonic()
        asking = now - self.asked >= self.slurm.poll_seconds
        states = self._ask([t.job_id for t in running]) if asking else {}
        for tracked, loaded in running.items():
            report = self._result(tracked, loaded)
            if report is None and asking:
                report = self._judge(tracked, loaded, states.get(tracked.job_id), now)
            if report is not None:
                yield tracked, report

    def cancel(self, jobs: list[Tracked]) -> None:
        self.queue.cancel([t.job_id for t in jobs])

    def job_id(self, job: Tracked) -> str:
        return job.job_id

    # --- reading the jobs ---------------------------------------------------------------------------

    def _ask(self, job_ids: list[str]) -> dict[str, JobState]:
        self.asked = time.monotonic()
        try:
            states = self.queue.states(job_ids)
        except SlurmUnanswered as exc:
            self.unanswered = str(exc)
            return {}
        self.unanswered = ""
        return states

    def _result(self, tracked: Tracked, loaded: LoadedCard[ModelCard]) -> Report | None:
        """The report the job wrote, or a failed one where its Python raised; None while there is none."""
        from submitit.core.utils import pickle_load

        path = tracked.job.paths.result_pickle
        if not path.exists():
            return None
        try:
            outcome, value = pickle_load(path)
        except (EOFError, OSError):  # still being written (a shared filesystem): read it next time
            return None
        if outcome == "success" and isinstance(value, Report):
            value.job = {"executor": self.kind, "id": tracked.job_id, **value.job}
            return value
        message = verdict.raised(tracked.job_id, str(value), self._log(tracked))
        return self._failed(loaded, message, tracked.job_id, "")

    def _judge(
        self, tracked: Tracked, loaded: LoadedCard[ModelCard], state: JobState | None, now: float
    ) -> Report | None:
        """A failed report when the job is over without a result, or must be given up; None to wait."""
        job_id = tracked.job_id
        if state is None:
            waited = now - tracked.seen
            if tracked.state is not None and tracked.state.ended:
                state = tracked.state  # ended, then forgotten by the controller: judge its last state
            elif waited >= self.slurm.lost_seconds:
                self.queue.cancel([job_id])
                message = verdict.lost(job_id, self.cluster, waited, self.unanswered, loaded.id)
                return self._failed(loaded, message, job_id, "LOST")
            else:
                return None
        tracked.seen = now
        if state.ended:
            tracked.state, tracked.waiting = state, None
            tracked.ended = now if tracked.ended is None else tracked.ended
            # the result may trail the state on a shared filesystem; a successful end waits longest. A
            # state from accounting is of a job the controller has long forgotten: nothing more will come.
            grace = self.slurm.lost_seconds if state.state == "COMPLETED" else 3 * self.poll_seconds
            if state.source != "sacct" and now - tracked.ended < grace:
                return None
            log = JobLog.read(tracked.job.paths.stderr, loaded.id, verdict.MEMORY_LINE.search)
            message = verdict.ended(
                job_id, state, tracked.request, log, self._log(tracked), loaded.id, self._python()
            )
            return self._failed(loaded, message, job_id, state.state, state.node)
        tracked.state, tracked.ended = state, None
        if not state.waiting:
            tracked.waiting = None
            return None
        tracked.waiting = now if tracked.waiting is None else tracked.waiting
        fix = verdict.never_starts(state, tracked.request, self.slurm, self._partition())
        if fix is not None:
            self.queue.cancel([job_id])
            return self._failed(loaded, verdict.cannot_start(job_id, state, fix), job_id, state.state)
        minutes = (now - tracked.waiting) / 60
        if minutes >= self.slurm.pending_minutes:
            self.queue.cancel([job_id])
            message = verdict.waited_too_long(job_id, state, minutes, tracked.request, self.slurm)
            return self._failed(loaded, message, job_id, state.state)
        return None

    # --- helpers ------------------------------------------------------------------------------------

    def _failed(
        self, loaded: LoadedCard[ModelCard], message: str, job_id: str, state: str, node: str = ""
    ) -> Report:
        report = Report(id=loaded.id, device=self.options.device)
        report.add("job", False, message)
        report.finish("failed")
        details = {"state": state, "node": node}
        report.job = {"executor": self.kind, "id": job_id, **{k: v for k, v in details.items() if v}}
        return report

    def _partition(self) -> Partition | None:
        if self.partition is None:
            self.partition = Partition.read(self.slurm.partition)
        return self.partition

    def _log(self, tracked: Tracked) -> str:
        return self.project.rel(tracked.job.paths.stderr)

    def _python(self) -> str:
        return self.project.rel(Path(sys.executable))

    def _keep_script(self, before: set[Path], card_id: str) -> str:
        """The batch script sbatch refused, kept as `refused-<id>.sh` beside the jobs (submitit leaves
        it under a random name); the pickled call it would have run is removed."""
        new = set(self.folder.iterdir()) - before
        for pickled in (p for p in new if p.suffix == ".pkl"):
            pickled.unlink(missing_ok=True)
        scripts = [p for p in new if p.name.startswith(".submission_file_")]
        if not scripts:
            return self.project.rel(self.folder)
        kept = self.folder / f"refused-{card_id}.sh"
        scripts[0].replace(kept)
        return self.project.rel(kept)

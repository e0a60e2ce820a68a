"""The loop that runs cards as jobs (`kb smoke --executor local|slurm`): submit up to a limit, gather each
report as its job ends, and on the way out, however it is left (the last report, Ctrl-C, SIGTERM, an
error), cancel every job still in flight. Where the jobs run is a `Backend` (`local.py`, `slurm/`).
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from types import FrameType
from typing import TYPE_CHECKING, Protocol, TypeVar

from generator.exceptions import Terminated
from generator.smoke.report import Report

if TYPE_CHECKING:
    from generator.knowledge import LoadedCard
    from generator.schema.model_card import ModelCard

Step = Callable[[str, str], None]
"""Progress callback: (card id, what is happening now)."""
Say = Callable[[str], None]
"""A line for the user (what the run needs, what it cancelled)."""

J = TypeVar("J", bound=Hashable)


class Backend(Protocol[J]):
    """Where jobs run: submits a card, says which jobs ended (with their reports), cancels."""

    kind: str
    limit: int
    """Jobs in flight at once."""
    poll_seconds: float

    def submit(self, loaded: LoadedCard[ModelCard], in_flight: int) -> J | Report | None:
        """The job; or the card's failed report when the job was refused; or None to try again once a
        job in flight has ended (only when `in_flight` > 0)."""

    def finished(self, running: dict[J, LoadedCard[ModelCard]]) -> Iterable[tuple[J, Report]]:
        """The jobs of `running` that are over, each with its card's report."""

    def cancel(self, jobs: list[J]) -> None:
        """Cancel these jobs (quickly: this runs on Ctrl-C)."""

    def job_id(self, job: J) -> str: ...


def run_jobs(
    backend: Backend[J], cards: list[LoadedCard[ModelCard]], step: Step, say: Say
) -> Iterator[tuple[LoadedCard[ModelCard], Report]]:
    """Each card with its report, as the jobs end; at most `backend.limit` jobs in flight."""
    queued = deque(cards)
    running: dict[J, LoadedCard[ModelCard]] = {}
    with sigterm_as_interrupt():
        try:
            while queued or running:
                while queued and len(running) < backend.limit:
                    submitted = backend.submit(queued[0], len(running))
                    if submitted is None:
                        break  # the cluster takes no more jobs of ours now: wait for one to end
                    loaded = queued.popleft()
                    if isinstance(submitted, Report):
                        yield loaded, submitted
                        continue
                    running[submitted] = loaded
                    step(loaded.id, f"submitted as {backend.kind} job {backend.job_id(submitted)}")
                for job, report in list(backend.finished(running)):
                    yield running.pop(job), report
                if running:
                    step(
                        ", ".join(sorted(c.id for c in running.values())),
                        f"{len(running)} job(s) in flight, {len(queued)} waiting to be submitted",
                    )
                    time.sleep(backend.poll_seconds)
        finally:
            if running:  # interrupted, terminated or failed: leave no job behind
                backend.cancel(list(running))
                jobs = ", ".join(f"{backend.job_id(j)} ({c.id})" for j, c in running.items())
                say(f"cancelled the {backend.kind} job(s) still in flight: {jobs}")


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises `Terminated` (a KeyboardInterrupt) as Ctrl-C does, so the same
    way out cancels the jobs. Signal handlers belong to the main thread: elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)

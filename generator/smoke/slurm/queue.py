"""What SLURM says about our jobs, through its own commands: `scontrol show config` once (is accounting
on, how long the controller remembers an ended job), `squeue` for every job it still holds, `sacct` for
the ones it has forgotten where accounting is on, `scancel` to stop them.

Without accounting `sacct` exits 1 and says so: it is never asked then. `squeue` answers without
accounting, but only while the controller keeps the job (`MinJobAge`, 300 s by default, after it ended).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from generator.exceptions import UsageError

COMMAND_TIMEOUT_S = 60
"""A SLURM command that does not answer in this time counts as no answer (the controller is busy or
down); the caller's `lost_seconds` decides how long that may last."""

TERMINAL = frozenset(
    {
        "BOOT_FAIL",
        "CANCELLED",
        "COMPLETED",
        "DEADLINE",
        "FAILED",
        "NODE_FAIL",
        "OUT_OF_MEMORY",
        "PREEMPTED",
        "REVOKED",
        "TIMEOUT",
    }
)
"""Job states after which the job does not run again (a requeued job goes back to PENDING)."""
WAITING = frozenset({"PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "SPECIAL_EXIT"})
"""Job states of a job that waits for resources or a decision, not yet running."""


@dataclass(frozen=True)
class JobState:
    """One job as SLURM reports it."""

    state: str
    """PENDING, RUNNING, COMPLETED, TIMEOUT, ... (`CANCELLED by 1000` is state CANCELLED, by 1000)."""
    reason: str = ""
    """Why it waits or ended (squeue's REASON; empty for None)."""
    node: str = ""
    by: str = ""
    """Who cancelled it (a user id, from sacct), where known."""
    source: str = "squeue"

    @property
    def ended(self) -> bool:
        return self.state in TERMINAL

    @property
    def waiting(self) -> bool:
        return self.state in WAITING

    def describe(self) -> str:
        reason = f", reason {self.reason}" if self.reason else ""
        node = f" on {self.node}" if self.node and not self.waiting else ""
        return f"{self.state}{reason}{node}"


@dataclass(frozen=True)
class Cluster:
    """What `scontrol show config` says, read once at the start of a run."""

    name: str
    accounting: bool
    """Accounting storage is on (`sacct` answers); off: `AccountingStorageType=accounting_storage/none`."""
    storage: str
    min_job_age_s: int
    """How long the controller keeps an ended job (`MinJobAge`; 0: for ever)."""

    @classmethod
    def probe(cls) -> Cluster:
        """The cluster `sbatch` submits to; a usage error saying what is missing when there is none."""
        for command in ("sbatch", "srun", "squeue", "scontrol", "scancel"):  # submitit's jobs use srun
            if shutil.which(command) is None:
                raise UsageError(
                    f"--executor slurm: {command} is not on PATH; run kb smoke on a machine that "
                    "submits SLURM jobs (a login node), or use --executor local"
                )
        try:
            out = _run(["scontrol", "show", "config"])
        except SlurmUnanswered as exc:
            raise UsageError(f"--executor slurm: the SLURM controller does not answer: {exc}") from exc
        config = dict(re.findall(r"^(\w+)\s*=\s*(.*?)\s*$", out, re.MULTILINE))
        storage = config.get("AccountingStorageType", "accounting_storage/none")
        age = re.match(r"\d+", config.get("MinJobAge", "300"))
        return cls(
            name=config.get("ClusterName", "?"),
            accounting=storage != "accounting_storage/none",
            storage=storage,
            min_job_age_s=int(age.group()) if age else 300,
        )

    def describe(self) -> str:
        kept = f"{self.min_job_age_s} s" if self.min_job_age_s else "for ever"
        if self.accounting:
            how = f"accounting is on ({self.storage}): job states come from squeue, then sacct"
        else:
            how = (
                f"accounting is off ({self.storage}): job states come from squeue and scontrol, which "
                f"keep an ended job for MinJobAge ({kept}); a job forgotten before kb saw it end is "
                "reported lost"
            )
        return f"SLURM cluster '{self.name}': {how}"


@dataclass(frozen=True)
class Partition:
    """What a partition's largest node has, and its time limit (`sinfo`)."""

    name: str
    cpus: int
    memory_mb: int
    max_minutes: float | None
    """None: no limit."""

    @classmethod
    def read(cls, name: str | None) -> Partition | None:
        """The partition `name` (None: the cluster's default one), or None where sinfo cannot say."""
        try:
            out = _run(["sinfo", "--noheader", "--format=%P|%c|%m|%l"])
        except SlurmUnanswered:
            return None
        rows = [line.split("|") for line in out.splitlines() if line.count("|") == 3]
        mine = [r for r in rows if (r[0].rstrip("*") == name if name else r[0].endswith("*"))]
        if not mine:
            return None
        try:  # sinfo prints one row per kind of node: the partition allows what its largest has
            cpus = max(int(r[1].rstrip("+")) for r in mine)
            memory = max(int(r[2].rstrip("+")) for r in mine)
        except ValueError:
            return None
        return cls(mine[0][0].rstrip("*"), cpus, memory, minutes(mine[0][3]))


def minutes(limit: str) -> float | None:
    """SLURM's time limit (`5:00`, `1-12:00:00`, `infinite`) in minutes; None for no limit."""
    limit = limit.strip()
    if not limit or limit.lower() in ("infinite", "unlimited", "n/a"):
        return None
    days, _, clock = limit.rpartition("-")
    parts = [int(x) for x in clock.split(":") if x.isdigit()]
    if len(parts) == 3:
        hours, mins, secs = parts
    elif len(parts) == 2:
        hours, (mins, secs) = 0, parts
    elif len(parts) == 1:
        hours, mins, secs = 0, parts[0], 0
    else:
        return None
    return (int(days) if days.isdigit() else 0) * 1440 + hours * 60 + mins + secs / 60


class SlurmUnanswered(Exception):
    """A SLURM command failed or timed out (not: it answered that it knows no such job)."""


class Queue:
    """The states of a run's jobs, in one `squeue` call (and one `sacct` call for those it forgot)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def states(self, job_ids: list[str]) -> dict[str, JobState]:
        """The state of each job SLURM knows; a job it does not know is absent. Raises
        `SlurmUnanswered` when SLURM did not answer."""
        if not job_ids:
            return {}
        found = self._squeue(job_ids)
        forgotten = [j for j in job_ids if j not in found]
        if forgotten and self.cluster.accounting:
            found.update(self._sacct(forgotten))
        return found

    def cancel(self, job_ids: list[str]) -> None:
        """`scancel` them all in one call; a job that has ended meanwhile is no error."""
        if job_ids:
            subprocess.run(
                ["scancel", *job_ids],
                capture_output=True,
                check=False,
                timeout=COMMAND_TIMEOUT_S,
                env=_c_locale(),
            )

    def _squeue(self, job_ids: list[str]) -> dict[str, JobState]:
        command = [
            "squeue",
            "--noheader",
            "--states=all",
            f"--jobs={','.join(job_ids)}",
            "--format=%i|%T|%r|%N",
        ]
        try:
            out = _run(command)
        except SlurmUnanswered as exc:
            if "Invalid job id" in str(exc):  # every one of them has left the controller
                return {}
            raise
        states = {}
        for line in out.splitlines():
            fields = line.split("|")
            if len(fields) == 4:
                job, state, reason, node = (f.strip() for f in fields)
                states[job] = JobState(state, "" if reason in ("None", "(null)") else reason, node)
        return states

    def _sacct(self, job_ids: list[str]) -> dict[str, JobState]:
        command = [
            "sacct",
            "--noheader",
            "--parsable2",
            "--allocations",
            f"--jobs={','.join(job_ids)}",
            "--format=JobID,State,Reason,NodeList",
        ]
        states = {}
        for line in _run(command).splitlines():
            fields = line.split("|")
            if len(fields) == 4:
                job, state, reason, node = (f.strip() for f in fields)
                name, _, by = state.partition(" by ")
                states[job] = JobState(
                    name.rstrip("+"),
                    "" if reason in ("None", "(null)") else reason,
                    "" if node == "None assigned" else node,
                    by,
                    "sacct",
                )
        return states


def _run(command: list[str]) -> str:
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False, env=_c_locale()
        )
    except subprocess.TimeoutExpired as exc:
        raise SlurmUnanswered(f"{command[0]} gave no answer in {COMMAND_TIMEOUT_S} s") from exc
    except OSError as exc:
        raise SlurmUnanswered(f"{command[0]}: {exc}") from exc
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        raise SlurmUnanswered(
            f"{command[0]} failed: {lines[-1] if lines else f'exit status {done.returncode}'}"
        )
    return done.stdout


def _c_locale() -> dict[str, str]:
    """SLURM's commands in plain C locale and without a user's format variables (SQUEUE_FORMAT...)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SQUEUE_", "SACCT_", "SLURM_TIME_FORMAT"))
    }
    return {**env, "LC_ALL": "C"}

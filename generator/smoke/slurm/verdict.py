"""Why a SLURM job gave its card no report, in words: the job, SLURM's state or reason, the log, and the
fix that matches the cause (a time limit is not a memory problem, a `scancel` is not the card's fault).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.settings import SlurmSettings
    from generator.smoke.job import JobLog
    from generator.smoke.slurm.queue import Cluster, JobState, Partition
    from generator.smoke.slurm.request import Request

SINFO = "`sinfo -o '%P %c %m %G %l'` lists what each partition's nodes have"

MEMORY_LINE = re.compile(r"memory limit|out.of.memory|oom[-_ ]kill|MemoryError|Cannot allocate memory", re.I)
"""A log line that says the job ran out of memory (SLURM's memory enforcement or the kernel's killer)."""

Fix = Callable[["Request", "SlurmSettings"], str]


def _cpus(r: Request, s: SlurmSettings) -> str:
    return (
        f"the card asks for {r.resources.cpus} CPU(s) (smoke_test.resources.cpus), more than a node of "
        f"{r.where} has: lower it, or choose a partition with larger nodes (slurm.partition); {SINFO}"
    )


def _memory(r: Request, s: SlurmSettings) -> str:
    return (
        f"the card asks for {r.resources.memory_gb} GB (smoke_test.resources.memory_gb), more than a node "
        f"of {r.where} has: lower it, or choose another partition (slurm.partition); {SINFO}"
    )


def _gres(r: Request, s: SlurmSettings) -> str:
    return (
        f"the GPU request --gres={r.gres} names GPUs this cluster does not have: set "
        "smoke_test.resources.gpu_type (or slurm.gpu_type) to a type that `sinfo -o %G` lists, or none"
    )


def _nodes(r: Request, s: SlurmSettings) -> str:
    return (
        f"no node of {r.where} has all the card asks for ({r.describe()}): lower smoke_test.resources, "
        f"or choose another partition (slurm.partition) or GPU type (gpu_type); {SINFO}"
    )


def _partition(r: Request, s: SlurmSettings) -> str:
    return f"slurm.partition '{s.partition}' is not a partition of this cluster: `sinfo -s` lists them"


def _account(r: Request, s: SlurmSettings) -> str:
    return (
        f"slurm.account '{s.account}' is not an account you may charge: "
        "`sacctmgr show associations user=$USER format=account,qos` lists yours"
    )


def _qos(r: Request, s: SlurmSettings) -> str:
    return (
        f"slurm.qos '{s.qos}' is not a QOS you may use: "
        "`sacctmgr show associations user=$USER format=account,qos` lists yours"
    )


def _time(r: Request, s: SlurmSettings) -> str:
    return (
        f"time_minutes ({r.resources.time_minutes}) is more than {r.where} allows: lower "
        f"smoke_test.resources.time_minutes, or choose another partition; {SINFO}"
    )


def _constraint(r: Request, s: SlurmSettings) -> str:
    return (
        f"no node of {r.where} has the features slurm.constraint asks for ({s.constraint}) together "
        f"with {r.describe()}: change slurm.constraint or smoke_test.resources (`sinfo -o '%P %f'`)"
    )


def _submit_limit(r: Request, s: SlurmSettings) -> str:
    return (
        f"your user has as many jobs in the queue as the cluster allows: lower slurm.max_jobs (now "
        f"{s.max_jobs}) under that limit (`sacctmgr show qos format=name,maxsubmitjobsperuser`)"
    )


def _per_job_limit(r: Request, s: SlurmSettings) -> str:
    where = f"QOS '{s.qos}'" if s.qos else f"account '{s.account}'" if s.account else "your QOS or account"
    return (
        f"the card asks for more than one job may have under {where} ({r.describe()}): lower "
        "smoke_test.resources, or use another slurm.qos or slurm.account"
    )


REFUSALS: list[tuple[re.Pattern[str], Fix]] = [
    (re.compile(r"processors requested than permitted|CPU count per node can not be satisfied", re.I), _cpus),
    (re.compile(r"Memory specification can not be satisfied", re.I), _memory),
    (re.compile(r"Invalid (GRES|generic resource)|gres", re.I), _gres),
    (re.compile(r"invalid partition", re.I), _partition),
    (re.compile(r"Invalid account", re.I), _account),
    (re.compile(r"Invalid qos", re.I), _qos),
    (re.compile(r"time limit", re.I), _time),
    (re.compile(r"job submit limit|MaxSubmit", re.I), _submit_limit),
    (re.compile(r"node configuration is not available", re.I), _nodes),
    (re.compile(r"policy", re.I), _per_job_limit),
]
"""sbatch's refusals, most specific first (one refusal can print several lines)."""

SUBMIT_LIMIT = REFUSALS[7][0]
"""A refusal that clears when one of our jobs leaves the queue."""

NEVER: dict[str, Fix] = {
    "PartitionConfig": _nodes,
    "PartitionNodeLimit": _nodes,
    "PartitionTimeLimit": _time,
    "BadConstraints": _constraint,
    "InvalidAccount": _account,
    "InvalidQOS": _qos,
}
"""Pending reasons that waiting cannot clear (SLURM accepts such a job under `EnforcePartLimits=NO`
and keeps it PENDING for ever)."""
PER_JOB = re.compile(r"^(QOS|Assoc)(Max\w*PerJob\w*|Min\w*)$")
"""Pending reasons of a per-job limit of the QOS or association, which no amount of waiting clears."""


def refused(request: Request, slurm: SlurmSettings, error: str, script: str) -> str:
    """sbatch did not take the job."""
    lines = [line.removeprefix("sbatch: error: ").strip() for line in error.splitlines() if line.strip()]
    said = "; ".join(lines) or "no reason given"
    fix = next((f(request, slurm) for pattern, f in REFUSALS if pattern.search(error)), "")
    fix = fix or "the batch script shows every option kb asked for"
    asked = f"{request.describe()}, on {request.where}"
    return f"sbatch refused the job ({asked}): {said}. Fix: {fix}. Batch script: {script}"


def never_starts(
    state: JobState, request: Request, slurm: SlurmSettings, partition: Partition | None
) -> str | None:
    """The fix for a job pending for a reason that cannot clear, or None where waiting can help."""
    reason = re.split(r"[,\s]", state.reason, maxsplit=1)[0]
    if reason.startswith("Partition") and partition is not None and (over := _over(request, partition)):
        return (
            f"the card asks for more than partition '{partition.name}' allows: {'; '.join(over)}. Lower "
            f"{'that' if len(over) == 1 else 'those'} in smoke_test.resources, or choose another partition "
            f"(slurm.partition); {SINFO}"
        )
    fix = NEVER.get(reason) or (_per_job_limit if PER_JOB.match(reason) else None)
    return fix(request, slurm) if fix else None


def _over(request: Request, partition: Partition) -> list[str]:
    """What of the request is beyond the partition's largest node or its time limit."""
    r = request.resources
    over = []
    if r.cpus > partition.cpus:
        over.append(f"cpus {r.cpus} (its nodes have at most {partition.cpus})")
    if r.memory_gb * 1024 > partition.memory_mb:
        over.append(f"memory_gb {r.memory_gb} (its nodes have at most {partition.memory_mb} MB)")
    if partition.max_minutes is not None and r.time_minutes > partition.max_minutes:
        over.append(f"time_minutes {r.time_minutes} (its time limit is {partition.max_minutes:g} min)")
    return over


def ended(
    job_id: str, state: JobState, request: Request, log: JobLog, log_path: str, card_id: str, python: str
) -> str:
    """A job that ended (in a state SLURM reports) without writing its result."""
    res = request.resources
    where = f", in its stage '{log.stage}'" if log.stage else ""
    again = f"run `kb smoke {card_id}` again"
    memory_line = log.last if MEMORY_LINE.search(log.last) else ""
    if state.state == "TIMEOUT":
        why = (
            f"it ran into its time limit of {res.time_minutes} min (smoke_test.resources.time_minutes). Fix: "
            "raise time_minutes in the card if the model needs longer"
        )
    elif state.state == "OUT_OF_MEMORY" or memory_line:
        why = (
            f"it needed more than its {res.memory_gb} GB (smoke_test.resources.memory_gb)"
            f"{': ' + memory_line if memory_line else ''}. Fix: raise memory_gb in the card"
        )
    elif state.state == "CANCELLED":
        by = f" by user id {state.by}" if state.by else ""
        why = (
            f"it was cancelled{by} before it finished (scancel, or an administrator). Nothing in the card "
            f"needs changing: {again}"
        )
    elif state.state in ("NODE_FAIL", "BOOT_FAIL"):
        why = (
            f"its node{' ' + state.node if state.node else ''} failed; the card's test did not fail. "
            f"Fix: {again} (`sinfo -R` shows why nodes are down)"
        )
    elif state.state == "PREEMPTED":
        why = (
            f"a job of higher priority took its place. Fix: {again}, or use a partition or QOS without "
            "preemption (slurm.partition, slurm.qos)"
        )
    elif state.state == "COMPLETED":
        why = (
            "it ended, but its result never appeared in its folder: that folder (smoke_jobs_dir) must be on "
            "a filesystem the compute nodes share with this machine"
        )
    else:
        said = f": {log.last}" if log.last else ""
        why = (
            f"its process ended without a result{said}. The smoke test turns an error of the model's code "
            "(`sys.exit` too) into a failed check, so the process itself was stopped: by code that ends "
            f"it at once (os._exit), a crash, or the job's environment (the job runs {python} after "
            "slurm.setup; the project and its virtualenv must be on a filesystem the compute nodes share)"
        )
    return (
        f"SLURM job {job_id} ended without a report ({state.describe()}{where}): {why}; its log: {log_path}"
    )


def lost(job_id: str, cluster: Cluster, waited_s: float, unanswered: str, card_id: str) -> str:
    """A job SLURM no longer reports (or SLURM does not answer), and no result came."""
    again = f"run `kb smoke {card_id}` again"
    if unanswered:
        return (
            f"SLURM did not answer about job {job_id} for {waited_s:.0f} s ({unanswered}); kb stopped "
            f"waiting (slurm.lost_seconds) and asked SLURM to cancel it. Fix: {again} once the controller "
            "answers"
        )
    if cluster.accounting:
        why = "the controller lost it (restarted without its saved state), and accounting has no record of it"
    else:
        why = (
            "the controller lost it, or forgot it after it ended: accounting is off, and the controller "
            f"keeps an ended job only MinJobAge ({cluster.min_job_age_s} s). Turn accounting on, or ask "
            "SLURM more often than that (slurm.poll_seconds)"
        )
    asked = "squeue, sacct" if cluster.accounting else "squeue"
    return (
        f"SLURM job {job_id} was lost: SLURM no longer reports it ({asked}) and it left no result within "
        f"{waited_s:.0f} s: {why}. Fix: {again}"
    )


def waited_too_long(
    job_id: str, state: JobState, minutes: float, request: Request, slurm: SlurmSettings
) -> str:
    return (
        f"SLURM job {job_id} waited {minutes:.1f} min in the queue ({state.describe()}), longer than "
        f"slurm.pending_minutes ({slurm.pending_minutes:g}); kb cancelled it. Fix: run it when the cluster "
        f"is less busy, ask for less ({request.describe()}), or raise slurm.pending_minutes"
    )


def cannot_start(job_id: str, state: JobState, fix: str) -> str:
    return f"SLURM job {job_id} can never start ({state.describe()}); kb cancelled it. Fix: {fix}"


def raised(job_id: str, trace: str, log_path: str) -> str:
    """The job's Python raised (submitit's `error` outcome): its last line."""
    lines = [line.strip() for line in trace.splitlines() if line.strip()]
    return f"SLURM job {job_id} raised {lines[-1] if lines else 'an error'}; its log: {log_path}"

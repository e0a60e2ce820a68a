"""What one smoke-test job runs, whichever executor started it: the card's test (`run_card`), and for a
job in its own process (`job_main`) the checks of that process first: torch importable, the GPUs the
job asked for really there, SLURM's time-limit warning read as a warning.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shlex
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING

from generator.exceptions import JobError, KBError
from generator.settings import DEFAULTS, Project
from generator.smoke.report import Report

if TYPE_CHECKING:
    from pathlib import Path

    from generator.knowledge import LoadedCard
    from generator.schema.model_card import ModelCard
    from generator.schema.smoke import SmokeResources


STAGE_PREFIX = "kb smoke: "
"""A job logs each stage of its test as `kb smoke: <id>: <stage>` to its error log."""


@dataclass(frozen=True)
class SmokeOptions:
    """What `kb smoke` was asked for, the same for every card and every executor."""

    device: str = DEFAULTS.smoke_device
    record: bool = False
    kernels: str = "auto"
    """`--kernels`: auto, native or reference (`generator.smoke.kernels`)."""


def resources(loaded: LoadedCard[ModelCard]) -> SmokeResources:
    """What the card's job asks for (`smoke_test.resources`, or its defaults)."""
    from generator.schema.smoke import SmokeResources

    smoke = loaded.card.smoke_test
    return smoke.resources if smoke is not None else SmokeResources()


def run_card(
    project: Project,
    loaded: LoadedCard[ModelCard],
    options: SmokeOptions,
    step: Callable[[str], None] | None = None,
) -> Report:
    """One card's smoke test: what every executor runs."""
    from generator.smoke.runner import smoke_card

    return smoke_card(project, loaded, options.device, options.record, step, options.kernels)


def job_main(project: Project, loaded: LoadedCard[ModelCard], options: SmokeOptions, gpus: int = 0) -> Report:
    """The body of a submitit job asking for `gpus` GPUs: import torch and transformers there, make sure
    the GPUs arrived, run the card, and turn a problem of that machine (torch missing, no GPU) into the
    card's failed report, not a traceback. Each stage is logged to the job's error log, so that a job
    stopped by its scheduler shows how far it got."""
    from generator.smoke.loader import import_torch, import_transformers

    if os.environ.get("SUBMITIT_EXECUTOR") == "slurm":
        # submitit asks SLURM for SIGUSR2 shortly before the time limit and raises in the job when it
        # comes (in a short job: at once). Our jobs do not checkpoint: let the test run on, and let SLURM
        # stop it at the limit, which its state then says (TIMEOUT).
        signal.signal(signal.SIGUSR2, _time_limit_near)
    node = os.environ.get("SLURMD_NODENAME") or os.uname().nodename  # SLURM's name for it, where it has one
    given = os.environ.get("CUDA_VISIBLE_DEVICES")
    if gpus == 0:
        # A job given no GPU must not use one: a scheduler may leave CUDA_VISIBLE_DEVICES unset for a job
        # without GPUs (every GPU of the node visible) or set it anyway. CUDA reads it when first used.
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
    _log(
        f"{STAGE_PREFIX}{loaded.id}: on {node}, asked for {gpus} GPU(s), given CUDA_VISIBLE_DEVICES={given!r}"
    )
    try:
        import_torch()
        import_transformers()
        device = job_device(options.device, gpus)
        report = run_card(project, loaded, dataclasses.replace(options, device=device), _stage(loaded.id))
    except KBError as exc:
        report = Report(id=loaded.id, device=options.device)
        slurm = os.environ.get("SLURM_JOB_ID")
        job = f"SLURM job {slurm}" if slurm else f"local job {os.getpid()}"
        report.add("job", False, f"{job} on {node}: {exc}")
        report.finish("failed")
    report.job = {"node": node, "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES", "")}
    return report


@contextlib.contextmanager
def outside_the_project(folder: Path) -> Iterator[None]:
    """While a job is submitted, the working directory is the job's own folder and `PYTHONSAFEPATH` is
    set; the job inherits both. submitit starts a job as `python -m ...` (the local controller and its
    task; SLURM's `srun python -m submitit.core._submit`), which puts the working directory first on
    `sys.path`, and the project's tree (a pull request's) must never be importable in a job: a
    `submitit/`, `generator/` or `torch/` folder there would be imported instead of the installed one."""
    previous, safe = os.getcwd(), os.environ.get("PYTHONSAFEPATH")
    os.chdir(folder)
    os.environ["PYTHONSAFEPATH"] = "1"  # Python 3.11+; before, the job's folder is all it has on sys.path
    try:
        yield
    finally:
        os.chdir(previous)
        if safe is None:
            os.environ.pop("PYTHONSAFEPATH", None)
        else:
            os.environ["PYTHONSAFEPATH"] = safe


def safe_python() -> str:
    """The command a SLURM job starts Python with: this interpreter with `-P` (Python 3.11+), so that its
    working directory is not on `sys.path` whatever environment the site's sbatch passes on."""
    python = shlex.quote(sys.executable)
    return f"{python} -P" if sys.version_info >= (3, 11) else python


def job_device(choice: str, gpus: int) -> str:
    """The device a job runs its card on: CUDA when the card asked for GPUs (under `--device auto`
    too), and only if they are there; the job of a card asking for none sees none."""
    import torch

    if gpus == 0:
        if choice == "cuda":
            raise JobError(
                "--device cuda, but the card asks for no GPU (smoke_test.resources.gpus: 0), so its job "
                "has none: set smoke_test.resources.gpus to 1 or more"
            )
        return choice
    if choice == "cpu":
        return "cpu"
    found = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if found >= gpus:
        return "cuda"
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
    if not torch.version.cuda:
        fix = "install a CUDA build of torch in the environment the job runs (slurm.setup, the virtualenv)"
    elif not visible:
        fix = "the scheduler gave the job no GPU: check the cluster's GPU resources (sinfo -o %G)"
    else:
        fix = "the node's GPU driver does not answer (run nvidia-smi on the node)"
    raise JobError(
        f"the job asked for {gpus} GPU(s) (smoke_test.resources.gpus) but got {found}: torch "
        f"{torch.__version__} ({build}) sees no usable CUDA device with CUDA_VISIBLE_DEVICES={visible!r}; "
        f"{fix}. It is not run on CPU instead"
    )


@dataclass(frozen=True)
class JobLog:
    """What a job's error log tells: the last stage its test reached, and its last line of its own
    (neither a stage line nor submitit's bookkeeping)."""

    stage: str
    last: str

    @classmethod
    def read(cls, path: Path, card_id: str, matching: Callable[[str], object] | None = None) -> JobLog:
        """`matching`: prefer the first line for which it is true (e.g. the memory killer's first line,
        which has the numbers)."""
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return cls("", "")
        stage, last, chosen = "", "", ""
        prefix = f"{STAGE_PREFIX}{card_id}: "
        for raw in text.splitlines():
            line = raw.strip()
            if line.startswith(prefix):
                stage = line.removeprefix(prefix) if not line.startswith(f"{prefix}on ") else stage
            elif line and not line.startswith(("submitit ", "srun: ")):  # the launchers' own bookkeeping
                last = line
                chosen = chosen or (line if matching is not None and matching(line) else "")
        return cls(stage, (chosen or last)[:300])


def _stage(card_id: str) -> Callable[[str], None]:
    return lambda stage: _log(f"{STAGE_PREFIX}{card_id}: {stage}")


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _time_limit_near(signum: int, frame: FrameType | None) -> None:
    _log("kb smoke: SLURM warns that the job's time limit is near; the test goes on until SLURM stops it")

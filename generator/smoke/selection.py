"""Which cards `kb smoke` runs on a given machine, and which changed: `kb smoke --list`, `--fits`,
`--changed-since`, `--stale`.

A smoke workflow on a CPU runner asks for the cards it can finish there (`--fits cpus=4,memory_gb=16`:
no GPU, and each card's `smoke_test.resources` within the runner's), whose checkpoint it can get (in
place, or pinned at a hub revision for `kb checkpoints pull`), and only those the published reports do
not cover (`--stale`: no report, a stale one, or one no allowed signer signed; the workflow fetches the
reports branch first). A maintainer can also ask for the cards whose smoke inputs changed since a
revision (`--changed-since REV`); the workflow does not, since a cancelled or failed run, or a change
outside the cards (a new version of the checks), would leave cards never run again. Every card left
out says why.

What counts as a change is what a report's inputs hash covers (`fingerprint.card_content`, the
golden reference beside the card), read from git at `REV`: a reworded paragraph runs nothing, a new
pooling strategy or checkpoint revision runs the card again.

Light (no torch): `--list` answers before anything heavy is imported.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from generator.exceptions import UsageError
from generator.layout import Layout
from generator.smoke.fingerprint import card_content
from generator.smoke.kernels import covers_cuda, needs_cuda
from generator.yamlio import MAX_BYTES, Document, parse_text

if TYPE_CHECKING:
    from generator.knowledge import LoadedCard
    from generator.schema.model_card import ModelCard
    from generator.schema.smoke import SmokeResources
    from generator.settings import Project
    from generator.signing import AllowedSigners


@dataclass(frozen=True)
class Machine:
    """What a machine offers one smoke job, as `--fits` gives it: `cpus=4,memory_gb=16` (GPUs: none
    unless given; a limit not given is not checked). The keys are those of `smoke_test.resources`."""

    gpus: int = 0
    cpus: int | None = None
    memory_gb: int | None = None
    time_minutes: int | None = None

    @classmethod
    def parse(cls, text: str) -> Machine:
        """`cpus=4,memory_gb=16` -> Machine; ValueError saying what is wrong and what is allowed."""
        keys = [f.name for f in fields(cls)]
        values: dict[str, int] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            key, eq, value = (s.strip() for s in item.partition("="))
            if key not in keys or not eq:
                raise ValueError(f"'{item}': expected KEY=N with KEY one of {', '.join(keys)}")
            if not value.isdigit():
                raise ValueError(f"'{item}': {key} must be a whole number")
            values[key] = int(value)
        if not values:
            raise ValueError(f"give at least one of {', '.join(keys)} (e.g. cpus=4,memory_gb=16)")
        return cls(**values)


@dataclass
class Selection:
    """The cards chosen, in order, and each card left out with the reason."""

    chosen: list[LoadedCard[ModelCard]]
    left_out: list[tuple[str, str]]


def select(
    project: Project,
    cards: list[LoadedCard[ModelCard]],
    *,
    fits: Machine | None = None,
    changed_since: str | None = None,
    obtainable: bool = False,
    stale: bool = False,
) -> Selection:
    """The cards of `cards` that fit `fits`, changed since the git revision `changed_since`, (with
    `stale`) whose report is not current and verified, and (with `obtainable`) whose checkpoint is in
    place or can be pulled at a pinned hub revision."""
    since = _commit(project, changed_since) if changed_since else None
    signers = _signers(project) if stale else None
    out = Selection([], [])
    for loaded in cards:
        why = _why_not(project, loaded, fits, obtainable)
        if why is None and since is not None and not changed(project, loaded, since):
            why = f"its smoke inputs are unchanged since {changed_since}"
        if why is None and signers is not None:
            why = up_to_date(project, loaded, signers)
        if why is None:
            out.chosen.append(loaded)
        else:
            out.left_out.append((loaded.id, why))
    return out


def up_to_date(project: Project, loaded: LoadedCard[ModelCard], signers: AllowedSigners) -> str | None:
    """Why the card needs no run for `--stale` (None: it does): its report is current (its inputs hash
    is the card's now, as a build without the checkpoint works it out) and an allowed signer signed it.
    A current, verified fail is not run again: the same inputs fail the same way."""
    from generator.smoke.status import project_status

    status = project_status(project, loaded, signers)
    if status.state in ("not run", "stale") or not status.verified:
        return None
    return f"its report is current and signed ({status.state} on {status.date})"


def _signers(project: Project) -> AllowedSigners:
    from generator.trusted import trusted

    return trusted(project).signers


def _why_not(
    project: Project, loaded: LoadedCard[ModelCard], fits: Machine | None, obtainable: bool
) -> str | None:
    card = loaded.card
    if card.smoke_test is None:
        return "the card has no smoke_test section"
    if fits is not None and (misfits := misfit(project, card, fits)):
        return "; ".join(misfits)
    return unobtainable(project, card) if obtainable else None


def misfit(project: Project, card: ModelCard, machine: Machine) -> list[str]:
    """Why one job of `card` cannot run on `machine` (empty: it fits)."""
    assert card.smoke_test is not None
    res: SmokeResources = card.smoke_test.resources
    cuda = needs_cuda(card)
    on_reference = cuda and covers_cuda(card) and machine.gpus == 0
    gpus = max(res.gpus, 1 if cuda and not covers_cuda(card) else 0)
    out = []
    if gpus > machine.gpus:
        field = "smoke_test" if card.smoke_test.requires_cuda else "deployment"
        asks = f"needs CUDA ({field}.requires_cuda)" if res.gpus == 0 else f"asks for gpus={gpus}"
        out.append(f"{asks}, and this machine has {machine.gpus or 'no'} GPU{'s' * (machine.gpus != 1)}")
    elif on_reference and not project.settings.smoke_accept_reference_kernels:
        out.append(
            "needs CUDA; the reference kernels would run it on CPU, but smoke_accept_reference_kernels "
            "is false"
        )
    for key in ("cpus", "memory_gb", "time_minutes"):
        offered = getattr(machine, key)
        if offered is not None and getattr(res, key) > offered:
            out.append(f"asks for {key}={getattr(res, key)} (smoke_test.resources), more than {offered}")
    return out


def unobtainable(project: Project, card: ModelCard) -> str | None:
    """Why the card's smoke checkpoint cannot be had here (None: it is in place, or pinned at a hub
    revision that `kb checkpoints pull` downloads)."""
    assert card.smoke_test is not None
    folder, refused = project.layout.checked_checkpoint_dir(card.repo.name, card.smoke_test.checkpoint)
    if refused:
        return f"the checkpoint folder {project.rel(folder)} is refused: {refused}"
    if folder.is_dir() and any(folder.iterdir()):
        return None
    entry = next((c for c in card.checkpoints if c.path == card.smoke_test.checkpoint), None)
    if entry is not None and entry.hub_id and entry.revision:
        return None
    if entry is not None and entry.hub_id:
        return f"no hub revision pinned: kb checkpoints resolve {card.id}"
    return (
        f"the checkpoint is not in place and no checkpoints[] entry pulls it from the hub: place it "
        f"under {project.rel(folder)}/"
    )


def changed(project: Project, loaded: LoadedCard[ModelCard], commit: str) -> bool:
    """Whether the card's smoke inputs differ from the card at `commit`: what its report's inputs hash
    covers of the card (`fingerprint.card_content`) and its golden reference. A card that is new since
    then, or that did not validate then, has changed."""
    then = _git_show(project, commit, loaded.rel)
    if then is None or len(then) > MAX_BYTES:
        return True
    golden = Layout.golden_file(loaded.path, loaded.id)
    now_golden = golden.read_bytes() if golden.is_file() else None
    if _git_show(project, commit, Layout.golden_file(Path(loaded.rel), loaded.id).as_posix()) != now_golden:
        return True
    doc = parse_text(then.decode("utf-8-sig", errors="replace"), Document(f"{commit}:{loaded.rel}"))
    try:
        before = loaded.kind.model.model_validate(doc.data)
    except (ValueError, TypeError):  # pydantic's ValidationError is a ValueError
        return True
    from generator.schema.model_card import ModelCard

    return not isinstance(before, ModelCard) or card_content(before) != card_content(loaded.card)


def _commit(project: Project, rev: str) -> str:
    """The commit `rev` names in the project's git repository; UsageError saying how to get it."""
    if rev.startswith("-") or any(c.isspace() for c in rev):
        raise UsageError(f"--changed-since {rev}: not a git revision")
    done = _git(project, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if done is None or done.returncode != 0:
        raise UsageError(
            f"--changed-since {rev}: no such commit in the git repository of {project.root} (fetch it "
            "first, e.g. actions/checkout with fetch-depth: 0)"
        )
    return done.stdout.decode().strip()


def _git_show(project: Project, commit: str, rel: str) -> bytes | None:
    """The file `rel` (relative to the project root) at `commit` (None when it did not exist then)."""
    done = _git(project, "show", f"{commit}:./{rel}")
    return done.stdout if done is not None and done.returncode == 0 else None


def _git(project: Project, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    try:
        return subprocess.run(
            ["git", "-C", str(project.root), *args], capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None

"""Reports fetched from the reports branch, taken one per card: `kb smoke --take-newest FOLDER`, which
`scripts/smoke-reports.sh fetch` runs on every version of each `<id>.json` in the branch's history.

The branch is written by the smoke workflow and by maintainers, but whoever can push to it can also
commit an older signed report back (a plain commit: a replay), a file that is no report, or one too big
for a build to read. So nothing is copied on the branch's word: among the versions of a card's report
found there, and the report already in the reports folder (one committed on the default branch), the
one taken is the newest by its finish time (`finished_at`, which the signature covers: `smoke.signed`)
of those that an allowed signer signed for that card. A version that is too big, not JSON, not a
report, unsigned, signed by a key that is not allowed, changed since signing, or made for another card
is skipped with the reason; a card with no version left keeps what the folder had.

Light (no torch): the Pages build runs it before building.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from generator.exceptions import UsageError
from generator.io import atomic_write_bytes
from generator.layout import Layout
from generator.paths import outside
from generator.schema.common import SLUG
from generator.signing import AllowedSigners
from generator.smoke.report import Report
from generator.smoke.signed import verify_report
from generator.yamlio import MAX_BYTES

if TYPE_CHECKING:
    from generator.settings import Project


@dataclass(frozen=True)
class Candidate:
    """One version of a card's report: where it was found, its bytes, and when its run finished."""

    where: str
    data: bytes
    finished: datetime
    signed_at: str


def take_newest(project: Project, folder: Path, say: Callable[[str], None]) -> int:
    """For every `folder/<card id>/` (one file per version found on the branch, named for where it was
    found), write the newest verified version into the reports folder when it is newer than what is
    there. Returns how many reports were written."""
    from generator.trusted import trusted

    if not folder.is_dir():
        raise UsageError(f"--take-newest {folder}: no such folder")
    smoke_dir = project.smoke_dir
    if why := outside(smoke_dir, project.root, project.root):
        raise UsageError(f"the reports folder {why}: refusing to write reports through it")
    signers = trusted(project).signers
    written = 0
    for card_dir in sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()):
        card_id = card_dir.name
        if not re.fullmatch(SLUG, card_id):
            say(f"skipped {card_id}: not a card id")
            continue
        found = [_candidate(p, card_id, p.stem, signers, say) for p in sorted(card_dir.glob("*.json"))]
        newest = _newest([c for c in found if c is not None])
        here = Layout.smoke_report_in(smoke_dir, card_id)
        present = None
        if here.is_file() and not here.is_symlink():
            present = _candidate(here, card_id, project.rel(here), signers, say)
        if newest is None or (present is not None and _newest([present, newest]) is present):
            continue  # what the folder has is as new (the same report, fetched before) or newer
        if here.is_symlink():
            here.unlink()  # replaced, never written through
        atomic_write_bytes(here, newest.data)
        say(f"{card_id}: the report of {newest.where} (finished {newest.finished.isoformat()})")
        written += 1
    return written


def _newest(found: list[Candidate]) -> Candidate | None:
    """The latest run; between two of the same second, the later signature; else the first given."""
    best: Candidate | None = None
    for c in found:
        if best is None or (c.finished, c.signed_at) > (best.finished, best.signed_at):
            best = c
    return best


def _candidate(
    path: Path, card_id: str, where: str, signers: AllowedSigners, say: Callable[[str], None]
) -> Candidate | None:
    """The version at `path` when an allowed signer signed it for `card_id`; None, said why, otherwise."""
    shown = f"{card_id}.json of {where}"
    size = path.stat().st_size
    if size > MAX_BYTES:
        say(f"skipped {shown}: {size} bytes, more than a report may have ({MAX_BYTES})")
        return None
    report, problems = Report.read(path, card_id, shown)
    if report is None:
        say(f"skipped {shown}: {problems[0].message if problems else 'not a smoke report'}")
        return None
    check = verify_report(report, card_id, signers)
    if check.problem:
        say(f"skipped {shown}: not verified: {check.problem}")
        return None
    finished = _when(report.finished_at)
    if finished is None:
        say(f"skipped {shown}: it says no time its run finished (finished_at)")
        return None
    return Candidate(where, path.read_bytes(), finished, check.signed_at or "")


def _when(stamp: str | None) -> datetime | None:
    """An ISO 8601 time, as UTC (a time without a zone is taken as UTC); None when it is not one."""
    try:
        when = datetime.fromisoformat(stamp or "")
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)

"""When each file was last committed, from git: one `git log` over the folders asked about.

Model pages show the day their card was last changed ("last updated"), PDFs print it. Outside a git
checkout, without git, or for a file not committed yet there is no date: a page then says nothing
rather than guess, and a PDF falls back to the file's modification time (`pdf.inputs.card_dates`).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path


def last_commits(root: Path, folders: Iterable[Path]) -> dict[Path, int]:
    """Resolved path -> Unix time of the newest commit that touched it, for every committed file under
    `folders`, in the git checkout holding `root` (empty outside one, or when git fails)."""
    git = shutil.which("git")
    wanted = sorted({str(f.resolve()) for f in folders if f.is_dir()})
    if git is None or not wanted:
        return {}
    try:
        top = _git(git, "-C", str(root), "rev-parse", "--show-toplevel", timeout=30).strip()
        out = _git(git, "-C", top, "log", "--format=%x00%ct", "--name-only", "--", *wanted, timeout=60)
    except (OSError, subprocess.SubprocessError, ValueError):
        return {}
    dates: dict[Path, int] = {}
    stamp = 0
    for line in out.splitlines():
        if line.startswith("\0"):
            stamp = int(line[1:])
        elif line.strip():
            dates.setdefault((Path(top) / line).resolve(), stamp)  # newest commit first: keep the first
    return dates


def day(stamp: int) -> str:
    """`YYYY-MM-DD` of a Unix time, in UTC (the same day on every machine that builds the site)."""
    return datetime.fromtimestamp(stamp, tz=timezone.utc).date().isoformat()


def _git(git: str, *args: str, timeout: float) -> str:
    return subprocess.run([git, *args], capture_output=True, text=True, timeout=timeout, check=True).stdout

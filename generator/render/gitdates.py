"""When each card was last changed, from git: one `git log` over the cards folder per render.

A page shows the date of the last commit that touched its card. Outside a git checkout, without git,
or for a card not committed yet, there is no date (the page says nothing rather than guess).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def last_changed(root: Path, folder: Path) -> dict[str, str]:
    """Path relative to `root` (POSIX) -> `YYYY-MM-DD` of the last commit touching it, for files under
    `folder`."""
    git = shutil.which("git")
    if git is None or not folder.is_dir():
        return {}
    try:
        out = subprocess.run(
            [
                git,
                "-C",
                str(root),
                "log",
                "--format=%x00%cs",
                "--name-only",
                "--relative",
                "--",
                str(folder.resolve()),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    dates: dict[str, str] = {}
    date = ""
    for line in out.splitlines():
        if line.startswith("\x00"):
            date = line[1:].strip()
        elif line.strip() and date:
            dates.setdefault(line.strip(), date)  # newest commit first: keep the first date seen
    return dates

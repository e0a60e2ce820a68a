"""When each file was last committed, from git: one `git log` over the folders asked about.

Model pages show the day their card was last changed ("last updated"), PDFs print it. Outside a git
checkout, without git, or for a file not committed yet there is no date: a page then says nothing
rather than guess, and a PDF falls back to the file's modification time (`pdf.inputs.card_dates`).
"""

from __future__ import annotations

import codecs
import shutil
import subprocess
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path


def last_commits(root: Path, folders: Iterable[Path]) -> dict[Path, int]:
    """Resolved path -> Unix time of the newest commit that touched it, for every committed file under
    `folders` (those inside the git checkout holding `root`; empty outside one, or when git fails)."""
    git = shutil.which("git")
    if git is None:
        return {}
    try:
        top = Path(_git(git, "-C", str(root), "rev-parse", "--show-toplevel", timeout=30).strip()).resolve()
        resolved = {f.resolve() for f in folders if f.is_dir()}
        inside = sorted(str(f) for f in resolved if f.is_relative_to(top))
        if not inside:
            return {}
        log = ["log", "--no-show-signature", "--format=%x00%ct", "--name-only", "--", *inside]
        out = _git(git, "-c", "core.quotePath=false", "-C", str(top), *log, timeout=60)
    except (OSError, subprocess.SubprocessError, ValueError):
        return {}
    newest: dict[str, int] = {}
    stamp = 0
    for line in out.splitlines():
        if line.startswith("\0"):
            stamp = int(line[1:])
        elif line.strip():
            newest.setdefault(line, stamp)  # newest commit first: keep the first date seen
    return {(top / _unquote(name)).resolve(): when for name, when in newest.items()}


def day(stamp: int) -> str:
    """`YYYY-MM-DD` of a Unix time, in UTC (the same day on every machine that builds the site)."""
    return datetime.fromtimestamp(stamp, tz=timezone.utc).date().isoformat()


def _git(git: str, *args: str, timeout: float) -> str:
    done = subprocess.run([git, *args], capture_output=True, timeout=timeout, check=True)
    return done.stdout.decode("utf-8", errors="surrogateescape")


def _unquote(name: str) -> str:
    """A path as `git log --name-only` prints it: quoted C-style when it holds `"`, `\\` or a control
    character (`"a\\"b.yaml"`, octal escapes for bytes), as it is otherwise (with core.quotePath off)."""
    if not (len(name) > 1 and name.startswith('"') and name.endswith('"')):
        return name
    raw = codecs.escape_decode(name[1:-1].encode("utf-8", errors="surrogateescape"))[0]
    return bytes(raw).decode("utf-8", errors="surrogateescape")

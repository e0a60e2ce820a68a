"""Helpers for the process pools (PDF rendering, the link check's page parsing)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path


def exit_with_parent(parent: int, interval: float = 0.5) -> None:
    """Pool initializer: end this worker once the process that started the pool is gone.

    A pool's workers outlive a parent that is killed (SIGTERM, the OOM killer): they hold their own
    ends of the task pipes, and a forkserver worker is not even the parent's child. Without this they
    wait, or keep rendering, for ever. Use as `initializer=exit_with_parent, initargs=(os.getpid(),)`.
    The worker exits when its own parent changes (it was re-parented: the pool's process, or the
    forkserver, is gone) or when `parent` no longer runs (gone, or a zombie).
    """

    started_under = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != started_under or not _alive(parent):
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _alive(pid: int) -> bool:
    """Whether `pid` runs: exists, and is not a zombie waiting to be reaped (Linux: /proc)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # gone (or the pid reused by another user)
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: existence is all we can tell
    return stat[stat.rfind(")") + 2 :][:1] not in ("Z", "X")

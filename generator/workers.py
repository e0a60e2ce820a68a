"""Helpers for the process pools (PDF rendering, the link check's page parsing)."""

from __future__ import annotations

import os
import threading
import time


def exit_with_parent(parent: int, interval: float = 0.5) -> None:
    """Pool initializer: end this worker once the process that started the pool is gone.

    A pool's workers outlive a parent that is killed (SIGTERM, the OOM killer): they hold their own
    ends of the task pipes, and a forkserver worker is not even the parent's child. Without this they
    wait, or keep rendering, for ever. Use as `initializer=exit_with_parent, initargs=(os.getpid(),)`.
    """

    def watch() -> None:
        while True:
            time.sleep(interval)
            try:
                os.kill(parent, 0)
            except (ProcessLookupError, PermissionError):  # gone (or the pid reused by another user)
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()

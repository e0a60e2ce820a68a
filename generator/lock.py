"""One build at a time per project: `kb build` and the MkDocs plugin's build take the project lock.

The lock is an OS file lock (`filelock`: `flock` on POSIX, `msvcrt` on Windows) on
`.kb-cache/build.lock`. The kernel releases it when its process ends, however it ends, so the lock
of a dead process is simply taken over. Beside it, `.kb-cache/build.lock.pid` names the process that
holds it (pid, command, start time), so a second build can say whom it waits for.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from generator.exceptions import BuildLocked
from generator.layout import Layout

LOCK_FILE = f"{Layout.CACHE_FOLDER}/build.lock"

POLL_SECONDS = 0.2


def lock_path(root: Path) -> Path:
    return root / LOCK_FILE


def holder(root: Path) -> dict[str, Any] | None:
    """What the side file says about the process holding the lock (None when unknown)."""
    try:
        data = json.loads((root / (LOCK_FILE + ".pid")).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def describe(info: dict[str, Any] | None) -> str:
    if not info:
        return "another process"
    since = time.strftime("%H:%M:%S", time.localtime(float(info.get("since", 0))))
    return f"process {info.get('pid')} ({info.get('command', 'a build')}, since {since})"


class ProjectLock:
    """The project's build lock; `acquire` waits (saying so once) or, with `wait=False`, refuses."""

    def __init__(self, root: Path, command: str = "kb build"):
        from filelock import FileLock

        self.root = root
        self.command = command
        path = lock_path(root)
        path.parent.mkdir(parents=True, exist_ok=True)
        # thread_local=False: `mkdocs serve` builds in a thread other than the one that starts it.
        self._lock = FileLock(str(path), thread_local=False)

    def acquire(self, *, wait: bool = True, say: Callable[[str], None] | None = None) -> None:
        from filelock import Timeout

        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            info = holder(self.root)
            where = os.path.relpath(lock_path(self.root), self.root)
            if not wait:
                raise BuildLocked(
                    f"{describe(info)} is building this project (it holds {where}); "
                    "wait for it to finish, or build without --no-wait to wait for it"
                ) from None
            (say or _stderr)(
                f"kb: waiting for {describe(info)}, which is building this project (it holds {where}) ..."
            )
            self._lock.acquire(poll_interval=POLL_SECONDS)
        self._write_holder()

    def release(self) -> None:
        if self._lock.is_locked:
            if self._lock.lock_counter == 1:
                (self.root / (LOCK_FILE + ".pid")).unlink(missing_ok=True)
            self._lock.release()

    @property
    def is_locked(self) -> bool:
        return bool(self._lock.is_locked)

    def _write_holder(self) -> None:
        info = {"pid": os.getpid(), "command": self.command, "since": time.time()}
        side = self.root / (LOCK_FILE + ".pid")
        tmp = side.with_name(f"{side.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(info), encoding="utf-8")
        os.replace(tmp, side)


@contextmanager
def project_lock(
    root: Path, *, wait: bool = True, command: str = "kb build", say: Callable[[str], None] | None = None
) -> Iterator[ProjectLock]:
    """Hold the project's build lock for the block."""
    lock = ProjectLock(root, command)
    lock.acquire(wait=wait, say=say)
    try:
        yield lock
    finally:
        lock.release()


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)

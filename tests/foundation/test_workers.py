"""Pool workers end when the process that started them is killed (they used to wait for ever)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.factory import REPO_ROOT

PARENT = textwrap.dedent("""
    import multiprocessing, os, sys, time
    from concurrent.futures import ProcessPoolExecutor
    from generator.workers import exit_with_parent

    def work(path):
        with open(path, "a") as fh:
            fh.write(f"{os.getpid()}\\n")
        time.sleep(600)

    if __name__ == "__main__":
        context = multiprocessing.get_context(sys.argv[2])
        with ProcessPoolExecutor(2, mp_context=context, initializer=exit_with_parent,
                                 initargs=(os.getpid(),)) as pool:
            for _ in range(2):
                pool.submit(work, sys.argv[1])
            time.sleep(600)
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # it may end between the two looks: gone is not alive
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and forkserver: Linux")
@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_workers_exit_when_their_parent_is_killed(tmp_path: Path, method: str) -> None:
    script, pids_file = tmp_path / "parent.py", tmp_path / "pids"
    script.write_text(PARENT)
    parent = subprocess.Popen(
        [sys.executable, str(script), str(pids_file), method],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        deadline = time.monotonic() + 60
        while (
            time.monotonic() < deadline
            and len(pids_file.read_text().split() if pids_file.exists() else []) < 2
        ):
            time.sleep(0.1)
        workers = [int(p) for p in pids_file.read_text().split()]
        assert len(workers) == 2 and all(_alive(p) for p in workers)
        parent.send_signal(signal.SIGTERM)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.1)
        assert not [p for p in workers if _alive(p)]
    finally:
        parent.kill()
        for p in [int(p) for p in (pids_file.read_text().split() if pids_file.exists() else [])]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)

"""Builds that never collide: one build at a time per project, each in its own staging folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from generator.lock import LOCK_FILE, ProjectLock
from tests.site.conftest import SITE_PAGES, mkdocs_cli

KB = [sys.executable, "-m", "generator"]


def kb(root: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [*KB, "-C", str(root), *args],
        cwd=root,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def assert_site_complete(root: Path) -> None:
    for rel in SITE_PAGES:
        assert (root / "site" / rel).is_file(), rel
    assert not list(root.glob(".site.building*")), "a staging folder was left behind"


def test_two_builds_started_together_both_end_well_and_the_site_is_complete(project: Path) -> None:
    first, second = kb(project, "build", "--no-pdf"), kb(project, "build", "--no-pdf", "--force")
    outputs = [p.communicate(timeout=300) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    waited = [err for _, err in outputs if "kb: waiting for process " in err]
    assert len(waited) == 1, outputs  # one of them waited, saying for whom
    assert "broken link" not in "".join(err for _, err in outputs)
    assert_site_complete(project)


def test_no_wait_exits_1_naming_the_process_that_holds_the_lock(project: Path) -> None:
    lock = ProjectLock(project, "kb build")
    lock.acquire()
    try:
        proc = kb(project, "build", "--no-pdf", "--no-wait")
        _out, err = proc.communicate(timeout=120)
    finally:
        lock.release()
    assert proc.returncode == 1, err
    assert f"process {os.getpid()} (kb build, since " in err
    assert LOCK_FILE in err and "Traceback" not in err
    assert not (project / "site").exists()


def test_plain_mkdocs_build_waits_for_a_running_build(project: Path) -> None:
    lock = ProjectLock(project, "kb build")
    lock.acquire()
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "build"],
        cwd=project,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    lines: list[str] = []
    stderr = proc.stderr
    assert stderr is not None
    reader = threading.Thread(target=lambda: lines.extend(iter(stderr.readline, "")), daemon=True)
    reader.start()
    try:
        # Until it says it waits (MkDocs may take a while to start on a busy machine), nothing is built.
        deadline = time.monotonic() + 240
        while not any(f"waiting for process {os.getpid()}" in line for line in lines):
            assert proc.poll() is None and time.monotonic() < deadline, "".join(lines)
            time.sleep(0.1)
        time.sleep(1)
        assert proc.poll() is None, "".join(lines)  # still waiting for the lock
        assert not (project / "site").exists()
    finally:
        lock.release()
    proc.wait(timeout=300)
    reader.join(timeout=30)
    assert proc.returncode == 0, "".join(lines)
    assert (project / "site" / "index.html").is_file()


def test_the_lock_of_a_dead_process_is_taken_over(project: Path) -> None:
    # A build killed with SIGKILL: its side file says who held the lock, the kernel released the lock,
    # and its staging folder is still there.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    side = project / (LOCK_FILE + ".pid")
    side.parent.mkdir(parents=True, exist_ok=True)
    side.write_text(json.dumps({"pid": dead.pid, "command": "kb build", "since": time.time()}))
    (project / f".site.building-{dead.pid}").mkdir()
    proc = kb(project, "build", "--no-pdf", "--no-wait")
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "waiting" not in err
    assert_site_complete(project)
    assert not side.exists()


def test_mkdocs_cli_still_builds(project: Path) -> None:
    result = mkdocs_cli(project, "build")
    assert result.returncode == 0, result.stderr
    assert not (project / (LOCK_FILE + ".pid")).exists()  # the side file goes with the lock

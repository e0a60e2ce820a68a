"""Run one command as a whole process and measure it: wall time, CPU time and peak memory.

CPU and memory come from two places, because neither alone sees everything:

- `os.wait4` gives the rusage of the child and of every descendant it waited for (exact, but a
  process pool whose workers are never reaped by their parent, e.g. a forkserver's, is missed);
- a sampler reads `/proc` every `interval` seconds for every live descendant, so it sees pool
  workers too (their CPU up to the last sample; the peak of the summed resident memory of the tree).

The reported CPU time is the larger of the two; both peak-memory figures are kept: the largest single
process (`ru_maxrss`) and the whole process tree at its peak (what the machine must have free).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Sample:
    """One run of one command."""

    wall_s: float
    cpu_s: float
    max_rss_mb: float
    """Largest single process (ru_maxrss of the process and its reaped descendants)."""
    tree_peak_rss_mb: float
    """Largest sum of resident memory over the whole process tree at one sample."""
    returncode: int
    timed_out: bool = False
    """Killed after the time limit: the wall time is then a lower bound."""

    def as_dict(self) -> dict[str, float | int]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


def _children_map() -> dict[int, list[int]]:
    """Parent pid -> child pids, read from /proc/<pid>/stat."""
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
        fields = stat[stat.rfind(b")") + 2 :].split()
        kids.setdefault(int(fields[1]), []).append(int(entry.name))
    return kids


def _tree(root: int) -> list[int]:
    kids = _children_map()
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(kids.get(pid, []))
    return pids


class _Sampler(threading.Thread):
    """Polls the process tree under `pid`: CPU seconds per pid (last seen) and the summed RSS peak."""

    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.cpu: dict[int, float] = {}
        self.peak_rss = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            rss = 0
            for pid in _tree(self.pid):
                try:
                    with open(f"/proc/{pid}/stat", "rb") as fh:
                        stat = fh.read()
                except OSError:
                    continue
                fields = stat[stat.rfind(b")") + 2 :].split()
                # fields[11], [12]: utime, stime (ticks); [21]: rss (pages). A zombie has rss 0.
                self.cpu[pid] = (int(fields[11]) + int(fields[12])) / TICK
                rss += int(fields[21]) * PAGE
            self.peak_rss = max(self.peak_rss, rss)
            self.done.wait(self.interval)


def run_measured(
    cmd: list[str],
    cwd: Path,
    log: Path,
    env: dict[str, str] | None = None,
    interval: float = 0.1,
    timeout: float | None = None,
) -> Sample:
    """Run `cmd` to completion (output to `log`) and measure it; past `timeout` seconds its whole
    process group is killed and the sample says so."""
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        sampler = _Sampler(proc.pid, interval)
        sampler.start()
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        if timer:
            timer.cancel()
        sampler.done.set()
        sampler.join()
        if killed.is_set():  # the group's other processes die with the session leader's group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: keep Popen from waiting
    cpu = max(usage.ru_utime + usage.ru_stime, sum(sampler.cpu.values()))
    # A step that ends before the sampler's first look (a loaded machine delays the thread) still had
    # a peak: the tree's is never below the command's own, which the kernel reports (ru_maxrss, KiB).
    tree_peak = max(sampler.peak_rss / 2**20, usage.ru_maxrss / 1024)
    return Sample(wall, cpu, usage.ru_maxrss / 1024, tree_peak, proc.returncode, killed.is_set())

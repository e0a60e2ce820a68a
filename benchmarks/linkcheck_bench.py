"""Time `kb check links` beside LinkChecker on the same synthetic MkDocs-Material site.

    python benchmarks/linkcheck_bench.py [--pages 500] [--repeat 3] [--linkchecker PATH]

LinkChecker is not a dependency of the project: install it in a separate virtual environment, e.g.
`python -m venv /tmp/lc && /tmp/lc/bin/pip install linkchecker`, and pass `--linkchecker
/tmp/lc/bin/linkchecker` (default: `linkchecker` on PATH). Both tools check internal links only
(no network); LinkChecker runs with its AnchorCheck plugin on, so both also check `#fragments`.
Results are written to `benchmarks/results/linkcheck_<pages>.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from linkcheck_site import make_site  # noqa: E402  (a sibling script, not a package)


def timed(cmd: list[str], cwd: Path, limit: float | None = None) -> tuple[float, int, str]:
    """Seconds, exit code and output tail of a command; exit code -1 when it ran past `limit`."""
    started = time.perf_counter()
    try:
        run = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - started, -1, ""
    return time.perf_counter() - started, run.returncode, (run.stdout + run.stderr)[-2000:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--linkchecker", default=shutil.which("linkchecker"))
    parser.add_argument("--linkchecker-repeat", type=int, default=1, help="LinkChecker is slow: runs")
    parser.add_argument(
        "--linkchecker-limit",
        type=float,
        default=900.0,
        help="stop LinkChecker after this many seconds and record a lower bound",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        # LinkChecker run as root drops to user `nobody`, which must be able to read the site.
        os.chmod(tmp, 0o755)
        site = make_site(Path(tmp) / "site", args.pages)
        size = sum(p.stat().st_size for p in site.rglob("*.html"))
        kb = [sys.executable, "-m", "generator", "-C", tmp, "check", "links", "--site", str(site)]
        results: dict[str, object] = {
            "pages": args.pages,
            "html_bytes": size,
            "machine": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
            },
        }
        kb_times: dict[str, float] = {}
        for name, extra in (("kb_check_links", []), ("kb_check_links_1_job", ["--jobs", "1"])):
            times = []
            for _ in range(args.repeat):
                seconds, code, out = timed(kb + extra, HERE.parent)
                if code != 0:
                    print(out, file=sys.stderr)
                    return 1
                times.append(seconds)
            results[name] = {
                "median_s": round(statistics.median(times), 3),
                "runs_s": [round(t, 3) for t in times],
            }
            kb_times[name] = statistics.median(times)
            print(f"{name}: {results[name]}")
        if args.linkchecker:
            config = Path(tmp) / "linkcheckerrc"
            config.write_text("[AnchorCheck]\n")
            cmd = [
                args.linkchecker,
                "--config",
                str(config),
                "--no-warnings",
                "--no-status",
                f"file://{site}/index.html",
            ]
            times = []
            for _ in range(args.linkchecker_repeat):
                seconds, code, out = timed(cmd, Path(tmp), args.linkchecker_limit)
                times.append(seconds)
            version = subprocess.run([args.linkchecker, "--version"], capture_output=True, text=True)
            finished = code != -1
            lc: dict[str, Any] = {
                "median_s": round(statistics.median(times), 3),
                "runs_s": [round(t, 3) for t in times],
                "exit_code": code,
                "finished": finished,
                "version": version.stdout.splitlines()[0],
                "summary": [ln for ln in out.splitlines() if "checked" in ln][-1:],
                "installed_in": "a separate virtual environment (--linkchecker)",
            }
            if not finished:
                lc["note"] = f"stopped after {args.linkchecker_limit:g} s: the time is a lower bound"
            results["linkchecker"] = lc
            print(f"linkchecker: {lc}")
            ratio = round(lc["median_s"] / kb_times["kb_check_links"], 1)
            # A LinkChecker run that was stopped gives a lower bound on the speed-up.
            results["speedup" if finished else "speedup_at_least"] = ratio
            print(f"speed-up: {'' if finished else 'at least '}{ratio}x")
        else:
            print(
                "linkchecker not found: pass --linkchecker PATH (see the module docstring)", file=sys.stderr
            )
    out = HERE / "results" / f"linkcheck_{args.pages}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

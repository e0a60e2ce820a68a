"""The whole pipeline, measured stage by stage beside the routes a user would otherwise take.

    .venv/bin/python benchmarks/run.py --cards 10 100 500 [--runs 3] [--stages validate build links ...]

For each N it makes a throwaway project (the repository's mkdocs.yml, templates and hand-written pages,
and a synthetic kb/ of N model cards varied from the shipped ones) and runs every stage as a whole
process, as a user would: wall time, CPU time and peak memory, median of `--runs` runs. Beside it, on
the same pages in the same run, the usual route: a plain `mkdocs build` (the `kb` plugin removed),
MkDocs with the `mkdocs-to-pdf` plugin (one combined PDF) and LinkChecker on the built site; those
tools live in a separate virtual environment (`.venv-bench/`, made on first use from PyPI).

The parts: `benchmarks/stages.py` (one object per stage: its command, label, setup), `measure.py`
(running a stage and taking its figures), `report.py` (targets, the table, the README); this file
runs them for each N.

Results go to `benchmarks/results/pipeline-<N>.json`; the table of every result file is printed and
written into `benchmarks/README.md`. Nothing here asserts a time: targets are reported, met or not.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as a script: the `benchmarks` package sits in the repository
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.measure import PY, Bench, StageFailed  # noqa: E402  (after the path is set)
from benchmarks.project import new_project  # noqa: E402
from benchmarks.report import RESULTS, load_results, machine, merged, ratios, table, update_readme, versions  # noqa: E402
from benchmarks.stages import GROUPS, STAGES  # noqa: E402
from benchmarks.synthetic import make_kb  # noqa: E402

BENCH_VENV = REPO_ROOT / ".venv-bench"
# The comparison tools, pinned to the versions of MkDocs, Material and WeasyPrint the product uses so
# that both routes build the same pages with the same engines.
SAME_AS_PRODUCT = ("mkdocs", "mkdocs-material", "pymdown-extensions", "weasyprint", "markdown")
ROUTE_TOOLS = ("mkdocs-to-pdf", "linkchecker", "pyinstrument")

PDF_CPU_S = 1.5
"""CPU seconds per PDF of a synthetic card, measured at 100 cards (used only to explain a skip)."""


def run_group(b: Bench, group: str, only: set[str] | None = None) -> None:
    """The stages of one group (see `stages.GROUPS`), in order (with `only`, those named in it); a failing
    one skips the rest."""
    try:
        for stage in STAGES:
            if stage.group == group and (only is None or stage.name in only):
                stage.run(b)
    except (StageFailed, SystemExit) as exc:
        for name in GROUPS[group]:
            if name not in b.results and name not in b.skipped:
                b.skipped[name] = f"failed: {exc}"


def run_for(
    n: int, args: argparse.Namespace, venv: Path | None, smoke: tuple[Path | None, str], work: Path
) -> dict[str, Any]:
    only = set(args.only) if args.only else None
    wanted = [s for g in args.stages for s in GROUPS[g] if only is None or s in only]
    for old in (work / f"n{n}", work / f"n{n}-site_src"):  # a kept folder from an earlier run
        shutil.rmtree(old, ignore_errors=True)
    (work / f"n{n}").mkdir()
    project = new_project(work / f"n{n}")
    ids = make_kb(project / "kb", n)
    log = work / f"n{n}.log"
    log.unlink(missing_ok=True)
    b = Bench(n, project, ids, args.runs, args.budget, log, route_timeout=args.route_timeout)
    b.pristine_docs = work / f"n{n}-site_src"
    shutil.copytree(project / "site_src", b.pristine_docs)
    b.pdf_ok = n <= args.pdf_max_cards
    b.pdf_skip_reason = (
        f"PDFs of {n} cards take about {n * PDF_CPU_S / 60:.0f} min of CPU, "
        f"{n * PDF_CPU_S / (os.cpu_count() or 1) / 60:.0f} min on {os.cpu_count()} "
        f"cores, per run ({PDF_CPU_S} s CPU per PDF): above "
        f"--pdf-max-cards {args.pdf_max_cards}"
    )
    b.venv = venv
    b.smoke_root, b.smoke_skip_reason = smoke
    load_before = os.getloadavg()
    started = time.perf_counter()
    try:
        for group in args.stages:
            run_group(b, group, only)
    finally:
        if b.server is not None:  # a serve stage failed before the last one stopped it
            b.server[0].kill()
            b.server[0].wait()
    return {
        "cards": n,
        "files": sum(1 for _ in (project / "kb").rglob("*.yaml")),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "runs_asked": args.runs,
        "stage_budget_s": args.budget,
        "elapsed_s": round(time.perf_counter() - started, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "machine": machine(),
        "versions": versions(venv),
        "stages": {name: b.results[name] for name in wanted if name in b.results},
        "skipped": {name: b.skipped[name] for name in wanted if name in b.skipped},
        "targets": ratios(b.results),
    }


def smoke_project(work: Path) -> tuple[Path | None, str]:
    """The smoke suite's CPU stand-ins in a project of their own, made by the tests' own program
    (`python -m tests.smoke.standins PROJECT`, run from the repository)."""
    shutil.rmtree(work / "smoke", ignore_errors=True)
    (work / "smoke").mkdir()
    root = new_project(work / "smoke")
    made = subprocess.run(
        [PY, "-m", "tests.smoke.standins", str(root)], cwd=REPO_ROOT, capture_output=True, text=True
    )
    if made.returncode != 0:
        return (
            None,
            f"the smoke stand-ins could not be made ({(made.stderr.strip().splitlines() or ['?'])[-1]})",
        )
    return root, ""


# -- the comparison venv ------------------------------------------------------------------------------


def bench_venv(path: Path = BENCH_VENV) -> Path | None:
    """The separate venv with the usual route's tools, made from PyPI on first use."""
    if (path / "bin" / "linkchecker").exists() and (path / "bin" / "mkdocs").exists():
        return path
    from importlib.metadata import PackageNotFoundError, version

    pins = []
    for name in SAME_AS_PRODUCT:
        try:
            pins.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            pins.append(name)
    print(f"making {path} with {' '.join(pins + list(ROUTE_TOOLS))} ...", flush=True)
    try:
        subprocess.run([PY, "-m", "venv", str(path)], check=True)
        subprocess.run([str(path / "bin" / "pip"), "install", "--quiet", *pins, *ROUTE_TOOLS], check=True)
    except subprocess.CalledProcessError as exc:
        print(f"could not make {path}: {exc}; the usual route's stages are skipped", file=sys.stderr)
        return None
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "--cards", type=int, nargs="+", default=[10], help="N: model cards (several: 10 100 500)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per stage; the median is reported")
    parser.add_argument(
        "--stages",
        nargs="+",
        choices=list(GROUPS),
        default=list(GROUPS),
        help="stage groups to run (default: all)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=120.0,
        help="seconds of wall time per stage after which no further run starts",
    )
    parser.add_argument(
        "--pdf-max-cards",
        type=int,
        default=100,
        help="skip the PDF stages above this many cards (too slow on a small machine)",
    )
    parser.add_argument(
        "--route-timeout",
        type=float,
        default=600.0,
        help="stop a run of mkdocs-to-pdf or linkchecker after this many seconds "
        "(its time is then reported as a lower bound, '>')",
    )
    parser.add_argument("--no-compare", action="store_true", help="skip the usual route's tools (no venv)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where pipeline-<N>.json go")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="measure only --stages again and replace them in an existing pipeline-<N>.json",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=[s.name for s in STAGES],
        default=None,
        help="of the --stages groups, only these stages (e.g. engine-mkdocs engine-zensical)",
    )
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite benchmarks/README.md")
    parser.add_argument("--keep", type=Path, help="keep the projects here (default: a temporary folder)")
    args = parser.parse_args(argv)

    venv = None if args.no_compare else bench_venv()
    if args.no_compare:
        args.stages = [g for g in args.stages if g != "pdf-route"]
    work = args.keep or Path(tempfile.mkdtemp(prefix="kb-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o755)  # LinkChecker run as root drops to `nobody`, who must read the site
    try:
        smoke = smoke_project(work) if "smoke" in args.stages else (None, "")
        written = []
        for n in args.cards:
            result = run_for(n, args, venv, smoke, work)
            args.results.mkdir(parents=True, exist_ok=True)
            out = args.results / f"pipeline-{n}.json"
            if args.merge and out.exists():
                result = merged(json.loads(out.read_text(encoding="utf-8")), result)
            out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
            written.append(result)
            print(f"wrote {out}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    everything = load_results() if args.results == RESULTS else written
    text = table(everything)
    print("\n" + text)
    if not args.no_readme and args.results == RESULTS:
        update_readme(text, everything)
    return 0


if __name__ == "__main__":
    sys.exit(main())

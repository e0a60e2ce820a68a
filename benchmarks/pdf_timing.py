"""Time `kb pdf`: cold, no-op and one-card-changed runs, for the shipped cards and a synthetic set.

    python benchmarks/pdf_timing.py [--synthetic 100] [--jobs 0]

Each scenario runs the real command (`python -m generator pdf`) in a fresh process on a throwaway
copy of the project, so the times include start-up, loading and validating the cards, hashing and
the manifest: what a user waits for. "s/PDF" divides the wall time by the PDFs rendered.
Also checks that WeasyPrint subsets fonts with HarfBuzz, not with the slower fontTools fallback.
Results go to `benchmarks/results/pdf_timing.json` and a Markdown table to `pdf_timing.md`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))

from synthetic import make_kb  # noqa: E402  (a sibling script, not a package)

SUMMARY = re.compile(r"(\d+) rendered, (\d+) unchanged, (\d+) failed")
CPU_PER_PDF = re.compile(r"\(([\d.]+) s CPU\)")
FONTTOOLS = "Using fontTools instead of HarfBuzz-Subset"


def project_copy(dest: Path, synthetic: int | None) -> tuple[Path, list[str]]:
    """A throwaway project: mkdocs.yml, templates and either the shipped kb/ or a synthetic one."""
    dest.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "mkdocs.yml", dest / "mkdocs.yml")
    shutil.copytree(REPO_ROOT / "templates", dest / "templates")
    if synthetic:
        ids = make_kb(dest / "kb", synthetic)
    else:
        shutil.copytree(REPO_ROOT / "kb", dest / "kb")
        ids = sorted(p.stem for p in (dest / "kb/model_cards").glob("*.yaml") if ".lock" not in p.name)
    return dest, ids


def kb_pdf(root: Path, jobs: int, *extra: str) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "generator",
        "-C",
        str(root),
        "pdf",
        "--no-progress",
        "--jobs",
        str(jobs),
        *extra,
    ]
    started = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": "0"})
    wall = time.perf_counter() - started
    m = SUMMARY.search(run.stderr)
    if run.returncode != 0 or not m:
        raise SystemExit(f"kb pdf failed ({run.returncode}):\n{run.stderr[-3000:]}")
    rendered, unchanged, _ = (int(g) for g in m.groups())
    # CPU seconds the workers spent per PDF: steadier than wall time on a shared machine.
    cpu = CPU_PER_PDF.search(run.stderr)
    return {
        "wall_s": round(wall, 2),
        "rendered": rendered,
        "unchanged": unchanged,
        "s_per_pdf": round(wall / rendered, 3) if rendered else None,
        "render_cpu_s_per_pdf": float(cpu.group(1)) if cpu else None,
        "fonttools_fallback": FONTTOOLS in run.stderr,
    }


def scenarios(label: str, root: Path, ids: list[str], jobs: int) -> list[dict[str, Any]]:
    """Cold (clean artifacts/), no-op (nothing changed), one card changed."""
    shutil.rmtree(root / "artifacts", ignore_errors=True)
    rows = [{"set": label, "cards": len(ids), "run": "cold", "jobs": jobs, **kb_pdf(root, jobs)}]
    rows.append({"set": label, "cards": len(ids), "run": "no-op", "jobs": jobs, **kb_pdf(root, jobs)})
    card = root / "kb/model_cards" / f"{ids[0]}.yaml"
    card.write_text(card.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    rows.append(
        {"set": label, "cards": len(ids), "run": "one card changed", "jobs": jobs, **kb_pdf(root, jobs)}
    )
    for row in rows:
        print(
            f"  {row['set']:>10} {row['run']:>17}: {row['wall_s']:7.2f} s wall, {row['rendered']} rendered"
            + (
                f", {row['s_per_pdf']:.3f} s/PDF, {row['render_cpu_s_per_pdf']:.3f} s CPU/PDF"
                if row["s_per_pdf"]
                else ""
            ),
            flush=True,
        )
    return rows


def harfbuzz_subsetting() -> bool:
    """True when WeasyPrint found libharfbuzz-subset (otherwise it subsets fonts with fontTools)."""
    from weasyprint.text import ffi

    return getattr(ffi, "harfbuzz_subset", None) is not None


def markdown_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| card set | run | jobs | PDFs rendered | wall (s) | wall s per PDF | render CPU s per PDF |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        per = f"{r['s_per_pdf']:.2f}" if r["s_per_pdf"] else "—"
        cpu_per = f"{r['render_cpu_s_per_pdf']:.2f}" if r["render_cpu_s_per_pdf"] else "—"
        lines.append(
            f"| {r['set']} ({r['cards']} cards) | {r['run']} | {r['jobs'] or 'cores'} | "
            f"{r['rendered']} | {r['wall_s']:.2f} | {per} | {cpu_per} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--synthetic", type=int, default=100, help="cards in the synthetic set (0: skip)")
    parser.add_argument("--jobs", type=int, default=0, help="kb pdf --jobs (0 = one per core)")
    parser.add_argument(
        "--serial", action="store_true", help="also time a cold run of the shipped cards with --jobs 1"
    )
    args = parser.parse_args()

    load_at_start = os.getloadavg()
    harfbuzz = harfbuzz_subsetting()
    if not harfbuzz:
        print(
            f"WARNING: WeasyPrint cannot load libharfbuzz-subset: '{FONTTOOLS}' (about half of a "
            "simple page's time). Install Debian's libharfbuzz-subset0.",
            file=sys.stderr,
        )
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root, ids = project_copy(Path(tmp) / "shipped", None)
        rows += scenarios("shipped", root, ids, args.jobs)
        if args.serial:
            shutil.rmtree(root / "artifacts")
            rows.append({"set": "shipped", "cards": len(ids), "run": "cold", "jobs": 1, **kb_pdf(root, 1)})
        if args.synthetic:
            root, ids = project_copy(Path(tmp) / "synthetic", args.synthetic)
            rows += scenarios("synthetic", root, ids, args.jobs)
    if any(r["fonttools_fallback"] for r in rows):
        print(f"WARNING: WeasyPrint printed '{FONTTOOLS}' during the runs.", file=sys.stderr)

    from importlib.metadata import version

    result = {
        "benchmark": "kb pdf",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": load_at_start,
            "load_average_at_end": os.getloadavg(),
        },
        "weasyprint": version("weasyprint"),
        "harfbuzz_subset": harfbuzz,
        "fonttools_fallback_seen": any(r["fonttools_fallback"] for r in rows),
        "rows": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "pdf_timing.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    m = result["machine"]
    table = markdown_table(rows) + (
        f"\nMeasured {m['cpus']} CPUs shared with other work (load average {load_at_start[0]:.1f} at start, "
        f"{m['load_average_at_end'][0]:.1f} at end), WeasyPrint {result['weasyprint']}, HarfBuzz subsetting: "
        f"{'yes' if harfbuzz else 'NO (fontTools fallback)'}. Render CPU s per PDF is the steadier "
        "figure; wall times include start-up, validation and hashing.\n"
    )
    (RESULTS / "pdf_timing.md").write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

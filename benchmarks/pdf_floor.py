"""The floor of the PDF stage: bare WeasyPrint on the print HTML the product gives it, nothing else.

    python benchmarks/pdf_floor.py dump PROJECT HTML_DIR     # not timed: the print HTML of every card
    python benchmarks/pdf_floor.py render HTML_DIR OUT_DIR [--jobs N]
    python benchmarks/pdf_floor.py compare BEFORE_DIR AFTER_DIR [--rounds 3] [--json OUT]

`dump` writes, for each printable card, exactly the HTML `kb pdf` hands WeasyPrint
(`generator.pdf.document.render_html`: template, table of contents, sanitized body) as `<id>.html`,
with a `<id>.base` file holding the base URL the product gives it (the card's `kb/assets/`).
`render` is what is timed: `weasyprint.HTML(string=..., base_url=...).write_pdf()` for each file, in
one process per core as the product's pool does (forked workers, WeasyPrint imported in each: the
product's workers import it too), WeasyPrint's default URL fetcher, no manifest, no hashing, no
cards. The ratio `kb pdf` (cold) / this is what the product adds around WeasyPrint.

`compare` measures the floor of two dumps of the same cards (the print HTML before and after a change
to the templates, print.css or the code highlighting) in one run, in one process, the two alternating
file by file for `--rounds` rounds: CPU and wall time of bare WeasyPrint per dump, and the Python
function calls it makes (counted once, under cProfile: independent of the machine's load).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def dump(project_root: Path, html_dir: Path) -> int:
    sys.path.insert(0, str(REPO_ROOT))
    from generator.knowledge import load_knowledge_base
    from generator.pdf.build import print_jobs
    from generator.pdf.document import render_html
    from generator.settings import Project

    project = Project.load(project_root)
    kb, _ = load_knowledge_base(project.root, None, project.kb_dir)
    html_dir.mkdir(parents=True, exist_ok=True)
    jobs = print_jobs(project, kb)
    for job in jobs:
        html, _warnings = render_html(job)
        (html_dir / f"{job.card_id}.html").write_text(html, encoding="utf-8")
        (html_dir / f"{job.card_id}.base").write_text(
            job.assets_dir.resolve().as_uri() + "/", encoding="utf-8"
        )
    print(f"wrote the print HTML of {len(jobs)} card(s) into {html_dir}")
    return 0


def _one(html_path: str, out_dir: str) -> int:
    from weasyprint import HTML

    path = Path(html_path)
    base = path.with_suffix(".base").read_text(encoding="utf-8")
    data = HTML(string=path.read_text(encoding="utf-8"), base_url=base).write_pdf()
    (Path(out_dir) / f"{path.stem}.pdf").write_bytes(data)
    return len(data)


def render(html_dir: Path, out_dir: Path, jobs: int) -> int:
    files = sorted(str(p) for p in html_dir.glob("*.html"))
    out_dir.mkdir(parents=True, exist_ok=True)
    workers = min(jobs or len(os.sched_getaffinity(0)), len(files)) or 1
    context = multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        sizes = list(pool.map(_one, files, [str(out_dir)] * len(files)))
    print(f"{len(files)} PDF(s), {sum(sizes)} bytes, {workers} process(es)")
    return 0


def compare(before: Path, after: Path, rounds: int, json_out: Path | None) -> int:
    import cProfile
    import json
    import pstats
    import time

    from weasyprint import HTML

    def one(path: Path) -> bytes:
        base = path.with_suffix(".base").read_text(encoding="utf-8")
        return bytes(HTML(string=path.read_text(encoding="utf-8"), base_url=base).write_pdf())

    names = sorted(p.name for p in before.glob("*.html"))
    if names != sorted(p.name for p in after.glob("*.html")):
        raise SystemExit("the two folders do not hold the print HTML of the same cards")
    one(before / names[0])  # fonts and caches loaded before anything is timed
    load_before = os.getloadavg()[0]
    cpu = {"before": 0.0, "after": 0.0}
    wall = {"before": 0.0, "after": 0.0}
    for _ in range(rounds):
        for name in names:
            for label, folder in (("before", before), ("after", after)):
                c, w = time.process_time(), time.perf_counter()
                one(folder / name)
                cpu[label] += time.process_time() - c
                wall[label] += time.perf_counter() - w
    calls = {}
    for label, folder in (("before", before), ("after", after)):
        profile = cProfile.Profile()
        profile.enable()
        for name in names:
            one(folder / name)
        profile.disable()
        calls[label] = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
    result = {
        "pdfs": len(names),
        "rounds": rounds,
        "cpu_s_per_round": {k: round(v / rounds, 3) for k, v in cpu.items()},
        "wall_s_per_round": {k: round(v / rounds, 3) for k, v in wall.items()},
        "python_calls": calls,
        "load_average": {"before": load_before, "after": os.getloadavg()[0]},
        "cores": len(os.sched_getaffinity(0)),
    }
    print(json.dumps(result, indent=2))
    if json_out is not None:
        json_out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="write the print HTML of every card (not timed)")
    d.add_argument("project", type=Path)
    d.add_argument("html_dir", type=Path)
    r = sub.add_parser("render", help="WeasyPrint alone on every HTML file, one process per core")
    r.add_argument("html_dir", type=Path)
    r.add_argument("out_dir", type=Path)
    r.add_argument("--jobs", type=int, default=0, help="processes (0: one per core)")
    c = sub.add_parser("compare", help="the floor of two dumps of the same cards, in one run")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    c.add_argument("--rounds", type=int, default=3)
    c.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.command == "compare":
        return compare(args.before, args.after, args.rounds, args.json)
    if args.command == "dump":
        return dump(args.project, args.html_dir)
    return render(args.html_dir, args.out_dir, args.jobs)


if __name__ == "__main__":
    sys.exit(main())

"""The floor of the PDF stage: bare WeasyPrint on the print HTML the product gives it, nothing else.

    python benchmarks/pdf_floor.py dump PROJECT HTML_DIR     # not timed: the print HTML of every card
    python benchmarks/pdf_floor.py render HTML_DIR OUT_DIR [--jobs N]

`dump` writes, for each printable card, exactly the HTML `kb pdf` hands WeasyPrint
(`generator.pdf.document.render_html`: template, table of contents, sanitized body) as `<id>.html`,
with a `<id>.base` file holding the base URL the product gives it (the card's `kb/assets/`).
`render` is what is timed: `weasyprint.HTML(string=..., base_url=...).write_pdf()` for each file, in
one process per core as the product's pool does (forked workers, WeasyPrint imported in each: the
product's workers import it too), WeasyPrint's default URL fetcher, no manifest, no hashing, no
cards. The ratio `kb pdf` (cold) / this is what the product adds around WeasyPrint.
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
    args = parser.parse_args(argv)
    if args.command == "dump":
        return dump(args.project, args.html_dir)
    return render(args.html_dir, args.out_dir, args.jobs)


if __name__ == "__main__":
    sys.exit(main())

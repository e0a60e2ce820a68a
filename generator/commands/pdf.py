"""`kb pdf [ID...] [--jobs N] [--force]`: PDF code walkthroughs into artifacts/pdf/code_walkthroughs/."""

from __future__ import annotations

import argparse
import sys

from generator.settings import Project

HELP = "render PDF code walkthroughs into artifacts/pdf/code_walkthroughs/ (only cards that changed)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="*", metavar="ID", help="card ids (default: every card)")
    parser.add_argument("-j", "--jobs", type=int, default=None,
                        help="parallel processes (default: the pdf_jobs setting; 0 = one per core)")
    parser.add_argument("--force", action="store_true", help="render every PDF, changed or not")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show a progress bar (default: when stderr is a terminal)")


def run(args: argparse.Namespace) -> int:
    from generator.pdf import build_pdfs

    project = Project.load(args.project)
    jobs = project.settings.pdf_jobs if args.jobs is None else args.jobs
    if jobs < 0:
        print("kb pdf: error: --jobs must be 0 (one per core) or a positive number", file=sys.stderr)
        return 2
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    result = build_pdfs(project, None, args.ids or None, jobs=jobs, force=args.force, progress=progress)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for card_id in result.rendered:
        print(f"wrote {project.rel(result.paths[card_id])}")
    for card_id in result.removed:
        print(f"removed the PDF of {card_id} (the card no longer exists)")
    for _card_id, reason in sorted(result.failed.items()):
        print(f"error: {reason}", file=sys.stderr)
    count = len(result.rendered)
    per_pdf = (f", {result.seconds / count:.2f} s per PDF ({result.render_cpu_seconds / count:.2f} s CPU)"
               if count else "")
    print(f"{len(result.rendered)} rendered, {len(result.skipped)} unchanged, {len(result.failed)} failed "
          f"in {result.seconds:.1f} s{per_pdf}", file=sys.stderr)
    return 0 if result.ok else 1

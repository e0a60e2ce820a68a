"""`kb pdf [ID...] [--jobs N] [--force]`: PDF code walkthroughs into artifacts/pdf/code_walkthroughs/."""

from __future__ import annotations

import argparse
import sys

from generator.knowledge import load_knowledge_base
from generator.settings import Project

HELP = "render PDF code walkthroughs into artifacts/pdf/code_walkthroughs/ (only cards that changed)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="*", metavar="ID", help="card ids (default: every card)")
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=None,
        help="parallel processes (default: the pdf_jobs setting; 0 = one per core)",
    )
    parser.add_argument("--force", action="store_true", help="render every PDF, changed or not")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: when stderr is a terminal)",
    )


def run(args: argparse.Namespace) -> int:
    from generator.pdf import build_pdfs

    project = Project.load(args.project)
    jobs = project.settings.pdf_jobs if args.jobs is None else args.jobs
    if jobs < 0:
        print("kb pdf: error: --jobs must be 0 (one per core) or a positive number", file=sys.stderr)
        return 2
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    kb, _problems = load_knowledge_base(project.root, None, project.kb_dir, project.smoke_dir)
    result = build_pdfs(project, kb, args.ids or None, jobs=jobs, force=args.force, progress=progress)
    for line in result.report_lines(project.rel):
        is_stdout = line.startswith(("wrote ", "removed "))
        print(line, file=sys.stdout if is_stdout else sys.stderr)
    return 0 if result.ok else 1

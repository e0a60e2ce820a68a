"""`kb build`: validate, render, PDFs, `mkdocs build` (and the link check): the command that publishes."""

from __future__ import annotations

import argparse
import sys

from generator.build import build
from generator.engines import ENGINES
from generator.knowledge import load_knowledge_base
from generator.settings import Project

HELP = "validate, render PDFs and pages, and build the site with MkDocs"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--strict",
        action="store_true",
        help="card warnings and MkDocs warnings (broken links, anchors) are errors",
    )
    parser.add_argument("--no-pdf", action="store_true", help="skip rendering the PDF walkthroughs")
    parser.add_argument(
        "--force",
        action="store_true",
        help="build every page and check every link, even when nothing changed (what CI and Pages run); "
        "without it only what changed since the last build is built again",
    )
    parser.add_argument(
        "--require-smoke",
        action="store_true",
        help="refuse to publish while a model card's smoke test failed, is stale or not run",
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="mkdocs",
        help="what builds the site from the pages: MkDocs with the kb plugin (default), or Zensical "
        "(the same navigation, PDFs, cards' YAML and link check; pip install zensical)",
    )
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="when another build of this project is running, exit 1 instead of waiting",
    )


def run(args: argparse.Namespace) -> int:
    project = Project.load(args.project)
    kb, _problems = load_knowledge_base(project.root, None, project.kb_dir, project.smoke_dir)
    build(
        project,
        kb,
        strict=args.strict,
        pdf=not args.no_pdf,
        require_smoke=args.require_smoke,
        force=args.force,
        wait=not args.no_wait,
        engine=args.engine,
    )
    print(f"kb build: the site is in {project.rel(project.site_dir)}/", file=sys.stderr)
    return 0

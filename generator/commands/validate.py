"""`kb validate`: load and validate cards, print every problem, fail once."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator.knowledge import load_knowledge_base
from generator.problems import escalate, render, summary
from generator.settings import Project

HELP = "load and validate cards; print every problem as FILE:LINE:COL: severity: field: message"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", type=Path, help="card files (default: the whole kb/)")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument("--format", choices=("text", "json", "github"), default="text")


def run(args: argparse.Namespace) -> int:
    project = Project.load(args.project)
    kb, problems = load_knowledge_base(project.root, args.paths or None, project.kb_dir, project.smoke_dir)
    problems = escalate(problems, args.strict or project.settings.strict)
    sys.stdout.write(render(problems, args.format))
    if args.format == "text":
        print(f"{kb.files_checked} card(s) checked: {summary(problems)}", file=sys.stderr)
    return 1 if any(p.is_error for p in problems) else 0

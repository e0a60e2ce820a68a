"""`kb render`: validate the cards and write the generated Markdown pages into docs_dir (`site_src/`)."""

from __future__ import annotations

import argparse
import sys

from generator.build import prepare
from generator.knowledge import load_knowledge_base
from generator.settings import Project

HELP = "write the generated Markdown pages into site_src/ (only pages whose content changed)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strict", action="store_true", help="treat card warnings as errors")


def run(args: argparse.Namespace) -> int:
    project = Project.load(args.project)
    kb, _problems = load_knowledge_base(project.root, None, project.kb_dir, project.smoke_dir)
    result = prepare(project, kb, pdf=False, strict=args.strict)
    report = result.render
    assert report is not None
    for path in report.written:
        print(f"wrote {project.rel(project.docs_dir / path)}")
    for path in report.removed:
        print(f"removed {project.rel(project.docs_dir / path)}")
    print(f"kb render: {report.summary()}", file=sys.stderr)
    return 0

"""`kb new ID`: start a model card from the template."""

from __future__ import annotations

import argparse
import sys

from generator.exceptions import OutputConflict, UsageError
from generator.io import atomic_write_bytes
from generator.render.jinja import Renderer
from generator.schema.common import slug
from generator.settings import Project

HELP = "write a new model card from the template (it validates once its placeholders are filled)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", help="card id: lower-case letters, digits, '.', '_', '-'")


def run(args: argparse.Namespace) -> int:
    try:
        card_id = slug(args.id)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    project = Project.load(args.project)
    path = project.kb_dir / "model_cards" / f"{card_id}.yaml"
    if path.exists():
        raise OutputConflict(f"{project.rel(path)} already exists; edit it, or choose another id")
    renderer = Renderer(project.templates_dir, project.template_overrides)
    atomic_write_bytes(path, renderer.render("cards/model_card.yaml.j2", id=card_id).encode())
    print(f"wrote {project.rel(path)}: replace its <placeholders>, then run "
          f"kb validate --strict {project.rel(path)}", file=sys.stderr)
    return 0

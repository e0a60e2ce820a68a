"""`kb export hf ID [-o DIR]`: a card as a Hugging Face model repository README.md."""

from __future__ import annotations

import argparse
from pathlib import Path

from generator.io import write_if_changed
from generator.knowledge import load_knowledge_base
from generator.render.jinja import Renderer
from generator.schema import CARD_KINDS, FineTunedCard, ModelCard, SAECard
from generator.settings import Project

HELP = "write a card as another format: `hf` = a Hugging Face README.md with Hub metadata"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("format", choices=("hf",), help="hf: Hugging Face README.md")
    parser.add_argument("card_id", metavar="ID", help="id of a model, SAE or fine-tuned card")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help="folder to write README.md into (default: artifacts/hf/<ID>/)",
    )


def run(args: argparse.Namespace) -> int:
    from generator.facts import build_facts
    from generator.interop.hf import export_readme
    from generator.render.filters import FILTERS

    project = Project.load(args.project)
    kb, _problems = load_knowledge_base(project.root, None, project.kb_dir, project.smoke_dir)
    # The kinds declared `exported`, searched in their declared order for the id.
    kinds = [k.name for k in CARD_KINDS.values() if k.exported]
    (loaded,) = kb.select(
        kinds,
        [args.card_id],
        missing="no model, SAE or fine-tuned card with id '{id}' in {kb}/ (known: {known})",
    )
    card = loaded.card
    assert isinstance(card, (ModelCard, SAECard, FineTunedCard))  # the kinds selected
    renderer = Renderer(project.templates_dir, project.template_overrides)
    renderer.env.filters.update(FILTERS)  # `fence`, `code` and `url`, as on the site
    folder = args.output or project.artifacts_dir / "hf" / loaded.id
    target = folder / "README.md"
    write_if_changed(target, export_readme(card, build_facts(project, kb, [loaded]).of(loaded), renderer))
    print(f"wrote {project.rel(target)}")
    return 0

"""`kb export hf ID [-o DIR]`: a card as a Hugging Face model repository README.md."""

from __future__ import annotations

import argparse
from pathlib import Path

from generator.exceptions import UsageError, ValidationFailed
from generator.io import write_if_changed
from generator.knowledge import load_knowledge_base
from generator.render.jinja import Renderer
from generator.settings import Project

HELP = "write a card as another format: `hf` = a Hugging Face README.md with Hub metadata"
KINDS = ("model", "sae", "finetuned")
"""Card kinds that can be exported, searched in this order for the id."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("format", choices=("hf",), help="hf: Hugging Face README.md")
    parser.add_argument("card_id", metavar="ID", help="id of a model, SAE or fine-tuned card")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="folder to write README.md into (default: artifacts/hf/<ID>/)")


def run(args: argparse.Namespace) -> int:
    from generator.interop.hf import export_readme

    project = Project.load(args.project)
    kb, problems = load_knowledge_base(project.root, None, project.kb_dir)
    loaded = next((kb.get(k, args.card_id) for k in KINDS if kb.get(k, args.card_id)), None)
    if loaded is None:
        bad = [p for p in problems if p.is_error and Path(p.file).stem == args.card_id]
        if bad:
            raise ValidationFailed(bad)
        known = sorted(c.id for k in KINDS for c in kb.of_kind(k))
        raise UsageError(f"no model, SAE or fine-tuned card with id '{args.card_id}' in "
                         f"{project.rel(project.kb_dir)}/ (known: {', '.join(known) or 'none'})")
    renderer = Renderer(project.templates_dir, project.template_overrides)
    folder = args.output or project.artifacts_dir / "hf" / loaded.id
    target = folder / "README.md"
    write_if_changed(target, export_readme(loaded.card, renderer))
    print(f"wrote {project.rel(target)}")
    return 0

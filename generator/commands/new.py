"""`kb new [--kind KIND] ID`: start a card of any kind from its template."""

from __future__ import annotations

import argparse
import posixpath
import sys

from generator.exceptions import OutputConflict, UsageError
from generator.io import atomic_write_bytes
from generator.knowledge import RELATED_KINDS, card_files
from generator.render.jinja import Renderer
from generator.schema import CARD_KINDS
from generator.schema.common import slug
from generator.settings import Project

HELP = "write a new card from its kind's template (it validates once its placeholders are filled)"

DERIVED_EXAMPLES = {"sae": "gpt2-small_mlp0_exp2_1m", "finetuned": "gpt2-small_biomed_500k"}
"""An id that follows each seed-003 name (`generator.schema.derived.NAME_PATTERNS`)."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", help="card id: lower-case letters, digits, '.', '_', '-'")
    parser.add_argument(
        "--kind",
        choices=list(CARD_KINDS),
        default="model",
        help="kind of card (default: model); each has its folder under kb/",
    )


def run(args: argparse.Namespace) -> int:
    try:
        card_id = slug(args.id)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    kind = CARD_KINDS[args.kind]
    project = Project.load(args.project)
    layout = project.layout
    path = layout.card_file(kind, card_id)
    if path.exists():
        raise OutputConflict(f"{project.rel(path)} already exists; edit it, or choose another id")
    known: dict[str, list[str]] = {}
    for k, p in card_files(project.kb_dir):
        known.setdefault(k.name, []).append(p.stem)
    related = [
        (key, sorted(known.get(k, [])), project.rel(layout.kind_dir(CARD_KINDS[k])))
        for key, k in RELATED_KINDS.items()
        if key != "models"
    ]
    context: dict[str, object] = {
        "id": card_id,
        "related": related,
        "integrations": sorted(known.get("integration", [])),
        # Where things are, from the layout: the card, its schema (for editors), its clone.
        "card_file": project.rel(path),
        "kb_dir": project.rel(project.kb_dir),
        "schema": posixpath.relpath(kind.schema_file, posixpath.dirname(project.rel(path))),
        "repo_dir": project.rel(layout.repo_dir(card_id)),
        "checkpoints_dir": project.rel(layout.checkpoints_dir(card_id)),
    }
    if kind.name in DERIVED_EXAMPLES:
        context.update(_derived_parts(kind.name, card_id))
    renderer = Renderer(project.templates_dir, project.template_overrides)
    text = renderer.render(kind.skeleton_template, **context)
    atomic_write_bytes(path, text.encode())
    print(
        f"wrote {project.rel(path)}: replace its <placeholders>, then run "
        f"kb validate --strict {project.rel(path)}",
        file=sys.stderr,
    )
    return 0


def _derived_parts(kind: str, card_id: str) -> dict[str, object]:
    """The fields an SAE or fine-tuned card's name encodes, so the new card agrees with its name."""
    from generator.schema.derived import NAME_PATTERNS, parse_token_count, split_name

    usage = UsageError(
        f"a {CARD_KINDS[kind].singular} card's id follows {NAME_PATTERNS[kind]}, e.g. "
        f"{DERIVED_EXAMPLES[kind]}; '{card_id}' does not"
    )
    parts = split_name(kind, card_id)
    if parts is None:
        raise usage
    try:
        tokens = parse_token_count(parts.tokens)
    except ValueError as exc:
        raise usage from exc
    out: dict[str, object] = {"card_name": card_id, "base": parts.base, "tokens": tokens}
    if kind == "sae":
        if parts.expansion_factor is None or not str(parts.expansion).startswith("exp"):
            raise usage
        out.update(layer=parts.middle, expansion=parts.expansion_factor)
    else:
        out.update(domain=parts.middle)
    return out

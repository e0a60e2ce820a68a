"""`kb new [--kind KIND] ID`: start a card of any kind from its template."""

from __future__ import annotations

import argparse
import sys

from generator.exceptions import OutputConflict, UsageError
from generator.io import atomic_write_bytes
from generator.knowledge import RELATED_KINDS, card_files
from generator.render.jinja import Renderer
from generator.schema import CARD_KINDS
from generator.schema.common import slug
from generator.settings import Project

HELP = "write a new card from its kind's template (it validates once its placeholders are filled)"

DERIVED_NAMES = {
    "sae": "<base_model>_<layer>_exp<expansion_factor>_<tokens>, e.g. gpt2-small_mlp0_exp2_1m",
    "finetuned": "<base_model>_<domain>_<tokens>, e.g. gpt2-small_biomed_500k",
}


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
    path = project.kb_dir / kind.folder / f"{card_id}.yaml"
    if path.exists():
        raise OutputConflict(f"{project.rel(path)} already exists; edit it, or choose another id")
    known: dict[str, list[str]] = {}
    for k, p in card_files(project.kb_dir):
        known.setdefault(k.name, []).append(p.stem)
    context: dict[str, object] = {
        "id": card_id,
        "related": [(key, sorted(known.get(k, []))) for key, k in RELATED_KINDS.items() if key != "models"],
        "integrations": sorted(known.get("integration", [])),
    }
    if kind.name in DERIVED_NAMES:
        context.update(_derived_parts(kind.name, card_id))
    renderer = Renderer(project.templates_dir, project.template_overrides)
    text = renderer.render(f"cards/{kind.name}_card.yaml.j2", **context)
    atomic_write_bytes(path, text.encode())
    print(
        f"wrote {project.rel(path)}: replace its <placeholders>, then run "
        f"kb validate --strict {project.rel(path)}",
        file=sys.stderr,
    )
    return 0


def _derived_parts(kind: str, card_id: str) -> dict[str, object]:
    """The fields an SAE or fine-tuned card's name encodes, so the new card agrees with its name."""
    from generator.schema.derived import parse_token_count

    parts = card_id.split("_")
    count = 4 if kind == "sae" else 3
    usage = UsageError(
        f"a {CARD_KINDS[kind].title[:-1].lower()} card's id follows {DERIVED_NAMES[kind]}; "
        f"'{card_id}' does not"
    )
    if len(parts) < count:
        raise usage
    base, rest = "_".join(parts[: len(parts) - count + 1]), parts[len(parts) - count + 1 :]
    try:
        tokens = parse_token_count(rest[-1])
    except ValueError as exc:
        raise usage from exc
    out: dict[str, object] = {"card_name": card_id, "base": base, "tokens": tokens}
    if kind == "sae":
        if not rest[1].startswith("exp") or not rest[1][3:].isdigit():
            raise usage
        out.update(layer=rest[0], expansion=int(rest[1][3:]))
    else:
        out.update(domain=rest[0])
    return out

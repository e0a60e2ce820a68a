"""`kb import DIR...`: model folders (seed 003) and Hugging Face READMEs -> cards in kb/."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from generator.exceptions import UsageError
from generator.interop.cardfile import CardExists, card_yaml, write_card_file
from generator.interop.folder import guess_kind, import_folder
from generator.interop.hf import import_readme
from generator.knowledge import load_knowledge_base
from generator.layout import Layout
from generator.paths import outside
from generator.problems import Problem, Severity, render, summary
from generator.schema import CARD_KINDS
from generator.schema.common import SLUG
from generator.settings import Project

HELP = (
    "import model folders (model.pt, config.json, model_card.md) as SAE or fine-tuned cards, "
    "or a Hugging Face README.md as a model card skeleton"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "sources",
        nargs="+",
        type=Path,
        metavar="DIR",
        help="a model folder, or a README.md (or a folder holding only one)",
    )
    parser.add_argument(
        "-o",
        "--kb-dir",
        type=Path,
        default=None,
        help="knowledge base to write into (default: the project's kb/)",
    )
    parser.add_argument(
        "--kind",
        choices=("sae", "finetuned", "model"),
        default=None,
        help="card kind (default: from the folder's place, config.json or model_card.md)",
    )
    parser.add_argument("--id", dest="card_id", default=None, help="card id for a README import")
    parser.add_argument("--force", action="store_true", help="replace cards that exist already")


def run(args: argparse.Namespace) -> int:
    project = Project.load(args.project)
    kb_dir = (args.kb_dir or project.kb_dir).resolve()
    problems: list[Problem] = []
    written: list[Path] = []
    for source in args.sources:
        target, found = import_one(source, kb_dir, kind=args.kind, card_id=args.card_id, force=args.force)
        problems.extend(found)
        if target is not None:
            written.append(target)
            print(f"wrote {_display(target)}")
    if written:
        # The cards just written, checked as `kb validate` would (placeholders are warnings).
        _, checked = load_knowledge_base(project.root, written, kb_dir, project.smoke_dir)
        problems.extend(checked)
    sys.stdout.write(render(problems, "text"))
    print(f"{len(written)} card(s) imported: {summary(problems)}", file=sys.stderr)
    return 1 if any(p.is_error for p in problems) or len(written) < len(args.sources) else 0


def import_one(
    source: Path, kb_dir: Path, *, kind: str | None = None, card_id: str | None = None, force: bool = False
) -> tuple[Path | None, list[Problem]]:
    """Import one folder or README into `kb_dir`: (the card written or None, problems)."""
    if not source.exists():
        raise UsageError(f"{source}: no such file or folder")
    if card_id is not None and not re.fullmatch(SLUG, card_id):
        raise UsageError(f"--id {card_id!r}: a card id is lower-case letters, digits, '.', '_' and '-'")
    readme = _readme(source)
    if readme is not None and kind in (None, "model"):
        result = import_readme(readme, card_id, _display(readme))
        data, problems, kept = result.data, result.problems, result.kept
        if not data:  # refused (an id that is not a card id, an unreadable file): nothing to write
            return None, problems
        kind_name = "model"
        header = (
            f"Model card skeleton imported from {_display(readme)} by `kb import`.\n"
            "Fill in the placeholders (<...>, TODO) and run `kb validate`."
        )
    else:
        kind_name = kind or guess_kind(source) or ""
        if kind_name not in ("sae", "finetuned"):
            raise UsageError(
                f"{source}: cannot tell whether this is an SAE or a fine-tuned model "
                "(put it under sae/ or fine_tuned/, or pass --kind sae|finetuned)"
            )
        folder = import_folder(source, kind_name, _display)
        data, problems, kept = folder.data, folder.problems, []
        header = f"Imported from {_display(source)} by `kb import`."
    target = Layout.card_in(kb_dir, CARD_KINDS[kind_name], str(data["id"]))
    escape = outside(target, kb_dir)  # a link in kb/ could still lead out
    if escape:
        problems.append(Problem(_display(target), f"not written: {escape}", Severity.ERROR))
        return None, problems
    try:
        write_card_file(target, card_yaml(data, header, kept), force=force, display=_display(target))
    except CardExists as exc:
        problems.append(Problem(_display(target), str(exc), Severity.ERROR))
        return None, problems
    return target, problems


def _readme(source: Path) -> Path | None:
    """The README to import: the file itself, or a folder's README.md when it has no model_card.md."""
    if source.is_file():
        return source if source.suffix.lower() == ".md" else None
    readme = source / "README.md"
    if readme.is_file() and not (source / "model_card.md").exists():
        return readme
    return None


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)

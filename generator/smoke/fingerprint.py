"""The inputs a smoke report depends on, hashed: the card's smoke-relevant content, the checkpoint's
files and the projector. A report whose hash differs from the current one is stale.

Light on purpose (no torch): the site calls it for every card on every build. The checkpoint's
fingerprint reads only the size and the first and last 64 KiB of each file, so multi-gigabyte weights
cost nothing; the report itself carries the full sha256.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from generator.knowledge import LoadedCard
    from generator.schema import Card
    from generator.schema.model_card import ModelCard
    from generator.settings import Project

PROJECTOR_VERSION = "1"
"""Bumped when the projector's construction or seeding changes: every report made before goes stale."""

SMOKE_VERSION = "2"
"""Bumped when the checks themselves change meaning (2: projector width, checkpoint files pulled)."""

_EDGE = 64 * 1024

CARD_FIELDS = ("repo", "architecture", "tokenization", "pooling", "smoke_test", "evaluation")


def golden_path(card_path: Path, card_id: str) -> Path:
    """The golden reference next to the card (not `.yaml`: card loading would take it for a card)."""
    return card_path.with_name(f"{card_id}.smoke-golden.npz")


def card_content(card: ModelCard) -> dict[str, Any]:
    data = card.model_dump(mode="json", include=set(CARD_FIELDS))
    if data.get("smoke_test"):  # where a job runs does not change what it checks
        data["smoke_test"].pop("resources", None)
    data["projector"] = card.integration.projector.model_dump(mode="json")
    return data


HUB_METADATA = ".cache"
"""huggingface_hub's download metadata in a pulled folder (`.cache/huggingface/`): not checkpoint content."""


def checkpoint_files(folder: Path) -> list[Path]:
    """Every file of a checkpoint folder, sorted, without huggingface_hub's download metadata."""
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and HUB_METADATA not in p.relative_to(folder).parts[:1]
    )


def checkpoint_fingerprint(folder: Path) -> str:
    """Cheap content fingerprint of a checkpoint folder (sizes plus head and tail bytes of each file)."""
    h = hashlib.sha256()
    if not folder.is_dir():
        return "missing"
    for path in checkpoint_files(folder):
        size = path.stat().st_size
        h.update(f"{path.relative_to(folder).as_posix()}\0{size}\0".encode())
        with path.open("rb") as fh:
            h.update(fh.read(_EDGE))
            if size > 2 * _EDGE:
                fh.seek(size - _EDGE)
                h.update(fh.read(_EDGE))
            elif size > _EDGE:
                h.update(fh.read())
    return h.hexdigest()


def inputs_hash(card: ModelCard, checkpoint_folder: Path | None, golden: Path | None = None) -> str:
    """The hash a smoke report is keyed by."""
    parts = {
        "smoke": SMOKE_VERSION,
        "projector": PROJECTOR_VERSION,
        "card": card_content(card),
        "checkpoint": checkpoint_fingerprint(checkpoint_folder) if checkpoint_folder else "none",
        "golden": hashlib.sha256(golden.read_bytes()).hexdigest() if golden and golden.is_file() else "none",
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def card_inputs_hash(project: Project, loaded: LoadedCard[Card]) -> str | None:
    """`inputs_hash` for a loaded card of a project (None without a smoke_test section)."""
    from generator.schema.model_card import ModelCard

    card = loaded.card
    if not isinstance(card, ModelCard) or card.smoke_test is None:  # other kinds have no smoke test
        return None
    folder = project.repo_dir(card.repo.name) / "checkpoints" / card.smoke_test.checkpoint
    return inputs_hash(card, folder, golden_path(loaded.path, card.id))

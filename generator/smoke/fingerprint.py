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

from generator.paths import checkpoint_folder, files_inside

if TYPE_CHECKING:
    from generator.knowledge import LoadedCard
    from generator.schema import Card
    from generator.schema.model_card import ModelCard
    from generator.settings import Project

PROJECTOR_VERSION = "1"
"""Bumped when the projector's construction or seeding changes: every report made before goes stale."""

SMOKE_VERSION = "3"
"""Bumped when the checks themselves change meaning (2: projector width, checkpoint files pulled; 3: the
hub revision the checkpoint is pinned at is an input, so a signed pass never carries over to another)."""

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
    folder = card.smoke_test.checkpoint if card.smoke_test else None
    # The fingerprint reads only the edges of each file: the pinned hub commit pins the rest.
    data["checkpoint_pins"] = [
        c.model_dump(mode="json", include={"hub_id", "revision"})
        for c in card.checkpoints
        if c.path == folder
    ]
    return data


HUB_METADATA = ".cache"
"""huggingface_hub's download metadata in a pulled folder (`.cache/huggingface/`): not checkpoint content."""


def checkpoint_files(
    folder: Path, clone: Path | None = None, root: Path | None = None
) -> tuple[list[Path], list[str]]:
    """Every file of a checkpoint folder, sorted, without huggingface_hub's download metadata, and the
    refusals: a symbolic link that leads out of the clone (`clone`, default the folder) is never
    followed (`generator.paths.files_inside`; paths under `root` are named relative to it)."""
    return files_inside(folder, clone or folder, skip=HUB_METADATA, root=root)


def checkpoint_fingerprint(folder: Path, clone: Path | None = None) -> str:
    """Cheap content fingerprint of a checkpoint folder (sizes plus head and tail bytes of each file).
    A link out of the clone is fingerprinted by its refusal, never read or walked."""
    h = hashlib.sha256()
    if not folder.is_dir():
        return "missing"
    files, refused = checkpoint_files(folder, clone)
    for why in refused:
        h.update(f"refused\0{why}\0".encode())
    for path in files:
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


def inputs_hash(
    card: ModelCard, checkpoint_folder: Path | None, golden: Path | None = None, clone: Path | None = None
) -> str:
    """The hash a smoke report is keyed by."""
    parts = {
        "smoke": SMOKE_VERSION,
        "projector": PROJECTOR_VERSION,
        "card": card_content(card),
        "checkpoint": checkpoint_fingerprint(checkpoint_folder, clone) if checkpoint_folder else "none",
        "golden": hashlib.sha256(golden.read_bytes()).hexdigest() if golden and golden.is_file() else "none",
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def card_inputs_hash(project: Project, loaded: LoadedCard[Card]) -> str | None:
    """`inputs_hash` for a loaded card of a project (None without a smoke_test section). A checkpoint
    folder that leads out of its clone is hashed as refused, never walked."""
    from generator.schema.model_card import ModelCard

    card = loaded.card
    if not isinstance(card, ModelCard) or card.smoke_test is None:  # other kinds have no smoke test
        return None
    folder, refused = checkpoint_folder(project, card.repo.name, card.smoke_test.checkpoint)
    golden = golden_path(loaded.path, card.id)
    if refused:
        return hashlib.sha256(f"refused\0{refused}".encode()).hexdigest()
    return inputs_hash(card, folder, golden, project.repo_dir(card.repo.name))

"""What `kb checkpoints pull` records in a card's lock file, and `kb checkpoints status`: a checkpoint
folder checked against it (the record and the check are the smoke package's: `smoke.fingerprint`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from generator.io import sha256_file
from generator.repos import lockfile
from generator.smoke.fingerprint import Record, checkpoint_files, mismatches, read_record

if TYPE_CHECKING:
    from generator.knowledge import LoadedCard
    from generator.schema import ModelCard
    from generator.settings import Project


def write_record(card_path: Path, card_id: str, folder: str, record: Record) -> bool:
    return lockfile.write_checkpoint_record(card_path, card_id, folder, record.to_data())


@dataclass(frozen=True)
class CheckpointStatus:
    """One line of `kb checkpoints status`."""

    card: str
    checkpoint: str
    folder: str
    present: bool
    state: str
    """`verified` (every pulled file matches), `changed`, `not pulled` (placed by hand or absent)."""
    size: int
    revision: str | None
    """The card's pinned hub revision."""
    pulled: str | None
    """The revision the folder was pulled at."""
    detail: str = ""


def checkpoint_status(project: Project, loaded: LoadedCard[ModelCard], index: int) -> CheckpointStatus:
    """Present, verified, size and revision of the card's `checkpoints[index]`."""
    card = loaded.card
    checkpoint = card.checkpoints[index]
    folder = project.layout.checkpoint_dir(card.repo.name, checkpoint.path)
    files = checkpoint_files(folder) if folder.is_dir() else []
    size = sum(p.stat().st_size for p in files)
    record = read_record(loaded.path, checkpoint.path)
    state, detail = "not pulled", ""
    if record is not None:
        digests = {rel: sha256_file(folder / rel) for rel in record.files if (folder / rel).is_file()}
        bad = mismatches(record, digests)
        state = "changed" if bad else "verified"
        detail = "; ".join(f"{rel} {what}" for rel, what in bad)
        if not bad and record.revision != checkpoint.revision:
            state, detail = "stale", f"pulled at {record.revision[:12]}, the card pins another revision"
    return CheckpointStatus(
        card.id,
        checkpoint.name,
        project.rel(folder),
        folder.is_dir() and bool(files),
        state,
        size,
        checkpoint.revision,
        record.revision if record else None,
        detail,
    )

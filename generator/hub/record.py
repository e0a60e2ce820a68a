"""What `kb checkpoints pull` records in a card's lock file, and `kb checkpoints status`: a checkpoint
folder checked against it (the record and the check are the smoke package's: `smoke.fingerprint`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from generator.io import sha256_file
from generator.paths import shown_below
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
    """`verified` (every pulled file matches), `changed`, `stale`, `not pulled` (placed by hand or
    absent), `refused` (the folder, or a link in it, leads out of the clone)."""
    size: int
    revision: str | None
    """The card's pinned hub revision."""
    pulled: str | None
    """The revision the folder was pulled at."""
    detail: str = ""


def checkpoint_status(project: Project, loaded: LoadedCard[ModelCard], index: int) -> CheckpointStatus:
    """Present, verified, size and revision of the card's `checkpoints[index]`.

    Only files found by walking the checkpoint folder are read (without following a link out of the
    clone): the lock file's names are looked up among them, never opened as paths."""
    card = loaded.card
    checkpoint = card.checkpoints[index]
    folder, why = project.layout.checked_checkpoint_dir(card.repo.name, checkpoint.path)
    refused = [why] if why else []
    files: list[Path] = []
    if not why and folder.is_dir():
        files, refused = checkpoint_files(folder, project.layout.repo_dir(card.repo.name), project.root)
    size = sum(p.stat().st_size for p in files)
    record = read_record(loaded.path, checkpoint.path)
    state, detail = "not pulled", ""
    if record is not None:
        walked = {p.relative_to(folder).as_posix(): p for p in files}
        digests = {rel: sha256_file(walked[rel]) for rel in record.files if rel in walked}
        bad = mismatches(record, digests)
        state = "changed" if bad else "verified"
        detail = "; ".join(f"{rel} {what}" for rel, what in bad)
        if not bad and record.revision != checkpoint.revision:
            state, detail = "stale", f"pulled at {record.revision[:12]}, the card pins another revision"
    if refused:
        state, detail = "refused", "; ".join(refused)
    return CheckpointStatus(
        card.id,
        checkpoint.name,
        project.rel(folder) if not why else shown_below(folder, project.root),
        bool(files),
        state,
        size,
        checkpoint.revision,
        record.revision if record else None,
        detail,
    )

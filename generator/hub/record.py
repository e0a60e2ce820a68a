"""What `kb checkpoints pull` recorded in a card's lock file, and a checkpoint folder checked against it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.exceptions import SmokeError, SmokeStage
from generator.paths import checkpoint_folder
from generator.repos import lockfile

if TYPE_CHECKING:
    from generator.knowledge import LoadedCard
    from generator.schema import ModelCard
    from generator.settings import Project


@dataclass(frozen=True)
class Record:
    """One pulled checkpoint: where from, at which hub commit, and the sha256 of each file written."""

    hub_id: str
    revision: str
    files: dict[str, str]

    @classmethod
    def from_data(cls, data: Any) -> Record | None:
        if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
            return None
        files = {str(k): str(v) for k, v in data["files"].items()}
        return cls(str(data.get("hub_id", "")), str(data.get("revision", "")), files)

    def to_data(self) -> dict[str, Any]:
        return {"hub_id": self.hub_id, "revision": self.revision, "files": dict(sorted(self.files.items()))}


def read_record(card_path: Path, folder: str) -> Record | None:
    """The record of checkpoint folder `folder` (a `checkpoints[].path`), or None when never pulled."""
    records = lockfile.checkpoint_records(lockfile.read_lock_data(card_path))
    return Record.from_data(records.get(folder))


def write_record(card_path: Path, card_id: str, folder: str, record: Record) -> bool:
    return lockfile.write_checkpoint_record(card_path, card_id, folder, record.to_data())


def mismatches(record: Record, digests: dict[str, str]) -> list[tuple[str, str]]:
    """(file, what is wrong) for each recorded file that is missing or changed."""
    out = []
    for rel, expected in sorted(record.files.items()):
        now = digests.get(rel)
        if now is None:
            out.append((rel, "is missing"))
        elif now != expected:
            out.append((rel, f"has sha256 {now[:12]}..., but {expected[:12]}... was pulled"))
    return out


def verify(
    project: Project, loaded: LoadedCard[ModelCard], ckpt: Path, digests: dict[str, str]
) -> str | None:
    """The hub revision the checkpoint was pulled at, when every recorded file still matches; None when
    it was never pulled (placed by hand). Raises SmokeError (stage: checkpoint files) naming the card
    and each file that changed."""
    card = loaded.card
    folder = card.smoke_test.checkpoint if card.smoke_test else ""
    record = read_record(loaded.path, folder)
    if record is None:
        return None
    pinned = next((c.revision for c in card.checkpoints if c.path == folder and c.revision), None)
    if pinned and pinned != record.revision:
        raise SmokeError(
            f"card '{card.id}': {project.rel(ckpt)} was pulled at {record.hub_id} {record.revision[:12]}, "
            f"but the card pins checkpoints[].revision {pinned[:12]}; run kb checkpoints pull {card.id}",
            SmokeStage.CHECKPOINT,
        )
    bad = mismatches(record, digests)
    if bad:
        shown = "; ".join(f"{project.rel(ckpt / rel)} {what}" for rel, what in bad)
        raise SmokeError(
            f"card '{card.id}': the checkpoint no longer matches what kb checkpoints pull recorded "
            f"({record.hub_id} at {record.revision[:12]}): {shown}; pull it again with "
            f"kb checkpoints pull {card.id} (delete the changed files first)",
            SmokeStage.CHECKPOINT,
        )
    return record.revision


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
    from generator.smoke.fingerprint import checkpoint_files
    from generator.smoke.trust import sha256_file

    card = loaded.card
    checkpoint = card.checkpoints[index]
    folder, why = checkpoint_folder(project, card.repo.name, checkpoint.path)
    refused = [why] if why else []
    files: list[Path] = []
    if not why and folder.is_dir():
        files, refused = checkpoint_files(folder, project.repo_dir(card.repo.name), project.root)
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
        project.rel(folder)
        if not why
        else f"{project.rel(project.repo_dir(card.repo.name))}/checkpoints/{checkpoint.path}",
        bool(files),
        state,
        size,
        checkpoint.revision,
        record.revision if record else None,
        detail,
    )

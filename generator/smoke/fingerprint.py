"""The inputs a smoke report depends on, hashed: the card's smoke-relevant content, the checkpoint's
files and the projector. A report whose hash differs from the current one is stale. And the record of
a checkpoint pulled from the hub (the sha256 of each file, in the card's lock file), which the smoke
test verifies before loading anything: `generator.hub` writes it, through this module.

With `report` and `status`, this is the smoke package's outward interface: other packages import
nothing else of it (ARCHITECTURE.md).

Light on purpose (no torch): the site calls it for every card on every build. The checkpoint's
fingerprint reads only the size and the first and last 64 KiB of each file, so multi-gigabyte weights
cost nothing; the report itself carries the full sha256.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.exceptions import SmokeError, SmokeStage
from generator.layout import Layout
from generator.paths import files_inside
from generator.repos import lockfile
from generator.schema.card import HasSmokeTest

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
    """`inputs_hash` for a loaded card of a project (None for a card without a smoke_test section, or
    of a kind without a smoke test: one that does not declare `HasSmokeTest`). A checkpoint folder that
    leads out of its clone is hashed as refused, never walked."""
    from generator.schema.model_card import ModelCard

    card = loaded.card
    if not isinstance(card, HasSmokeTest) or card.smoke_test is None:
        return None
    # What it hashes are the model card's fields: a kind with a smoke test has them (HasSmokeTest).
    assert isinstance(card, ModelCard), f"{loaded.rel}: a smoke test reads a model card's fields"
    folder, refused = project.layout.checked_checkpoint_dir(card.repo.name, card.smoke_test.checkpoint)
    if refused:
        return hashlib.sha256(f"refused\0{refused}".encode()).hexdigest()
    golden = Layout.golden_file(loaded.path, card.id)
    return inputs_hash(card, folder, golden, project.layout.repo_dir(card.repo.name))


def checkpoint_code(project: Project, card: ModelCard) -> dict[str, str]:
    """sha256 of every Python file of the card's checkpoint that its upstream repository does not
    track (what `kb checkpoints pin` writes into `smoke_test.code_sha256`)."""
    from generator.smoke.trust import checkpoint_dir, code_digests

    return code_digests(project, card, checkpoint_dir(project, card))


# -- what `kb checkpoints pull` recorded ------------------------------------------------------------


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

"""`kb checkpoints pull`: a card's checkpoints from the model hub at their pinned revisions.

huggingface_hub does the work (`snapshot_download` into the checkpoint folder: progress bars, resuming
an interrupted download from its `.incomplete` file, `HF_TOKEN` for gated models); this module picks the
files a model needs, checks the revision, turns the hub's errors into one line naming the card, the hub
id and what to do, and records the sha256 of every file in the card's lock file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.exceptions import CheckpointError, MissingDependency
from generator.hub.record import write_record
from generator.io import sha256_file
from generator.paths import files_inside, outside, plain_relative
from generator.smoke.fingerprint import Record, read_record

if TYPE_CHECKING:
    from generator.knowledge import LoadedCard
    from generator.schema.model_card import Checkpoint, ModelCard
    from generator.settings import Project

PATTERNS = [
    "*.json",  # config, tokenizer, weight index
    "*.safetensors",
    "*.bin",
    "*.py",  # the checkpoint's own modeling code
    "*.txt",  # vocab.txt, merges.txt
    "*.model",  # sentencepiece
    "*.tiktoken",
]
"""What a model needs: weights, config, tokenizer and code (not other frameworks' weights, not images)."""

DEFAULT_ENDPOINT = "https://huggingface.co"


@dataclass
class Pulled:
    """What one pull did."""

    card: str
    hub_id: str
    folder: Path
    revision: str
    files: dict[str, str] = field(default_factory=dict)
    code: list[str] = field(default_factory=list)
    """Python files brought: to be reviewed, then pinned with `kb checkpoints pin`."""


def endpoint() -> str:
    """`HF_ENDPOINT` as huggingface_hub reads it, but at call time (its constant is read at import)."""
    return os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")


def target(project: Project, card: ModelCard, checkpoint: Checkpoint) -> Path:
    """`external_repos/<repo>/checkpoints/<path>` (`Project.layout`), refusing a path that leaves
    `checkpoints/` or the clone (symbolic links of the clone included: `Layout.checked_checkpoint_dir`)."""
    path, why = project.layout.checked_checkpoint_dir(card.repo.name, checkpoint.path)
    if why:
        raise CheckpointError(
            f"card '{card.id}': checkpoints[].path '{checkpoint.path}': {why}: nothing was downloaded "
            "(a symbolic link in the upstream clone?); give a folder inside it"
        )
    return path.resolve()


def pull(
    project: Project, loaded: LoadedCard[ModelCard], checkpoint: Checkpoint, echo: Callable[[str], None]
) -> Pulled:
    """Download one checkpoint at its pinned revision and record its files; CheckpointError otherwise."""
    card: ModelCard = loaded.card
    hub_id, revision = checkpoint.hub_id, checkpoint.revision
    if not hub_id:
        raise CheckpointError(
            f"card '{card.id}': checkpoint '{checkpoint.name}' names no hub_id to pull from"
        )
    if not revision:
        raise CheckpointError(
            f"card '{card.id}': checkpoint '{checkpoint.name}' ({hub_id}) pins no checkpoints[].revision; "
            f"add the 40-hex commit of the hub repository (see {endpoint()}/{hub_id}/commits/main)"
        )
    repo_dir = project.repo_dir(card.repo.name)
    if not repo_dir.is_dir():
        raise CheckpointError(
            f"card '{card.id}': {project.rel(repo_dir)} is not cloned yet and the checkpoint goes inside "
            f"it: run kb repos sync {card.id} first"
        )
    folder = target(project, card, checkpoint)
    _, links_out = files_inside(folder, repo_dir, root=project.root)
    if links_out:  # huggingface_hub would write its files and metadata through them
        raise CheckpointError(
            f"card '{card.id}': {project.rel(folder)} links out of its clone: {'; '.join(links_out)}: "
            "nothing was downloaded; remove the links"
        )
    hub = _import_hub()
    if hub.constants.HF_HUB_OFFLINE:
        raise CheckpointError(_explain(hub.errors.OfflineModeIsEnabled(), card.id, hub_id, revision))
    files = _resolve(hub, card.id, hub_id, revision)
    _drop_changed(read_record(loaded.path, checkpoint.path), folder, files, echo)
    echo(f"{card.id}: {hub_id} at {revision[:12]} -> {project.rel(folder)}/ ({len(files)} file(s))")
    try:
        hub.snapshot_download(
            hub_id, revision=revision, local_dir=str(folder), allow_patterns=PATTERNS, endpoint=endpoint()
        )
    except Exception as exc:  # the hub's and the network's errors, one line each
        raise CheckpointError(_explain(exc, card.id, hub_id, revision)) from exc
    digests = {rel: sha256_file(folder / rel) for rel in files if _own_file(folder, rel)}
    missing = sorted(set(files) - set(digests))
    if missing:
        raise CheckpointError(
            f"card '{card.id}': {hub_id} at {revision[:12]}: {', '.join(missing)} did not arrive; run "
            f"kb checkpoints pull {card.id} again"
        )
    write_record(loaded.path, card.id, checkpoint.path, Record(hub_id, revision, digests))
    code = sorted(rel for rel in digests if rel.endswith(".py"))
    return Pulled(card.id, hub_id, folder, revision, digests, code)


def _import_hub() -> Any:
    try:
        import huggingface_hub
        import huggingface_hub.constants
        import huggingface_hub.errors
    except ImportError as exc:
        raise MissingDependency("huggingface_hub", "smoke", "kb checkpoints pull") from exc
    return huggingface_hub


def _resolve(hub: Any, card_id: str, hub_id: str, revision: str) -> list[str]:
    """The files of `hub_id` at `revision` that a model needs (asking the hub, so an unknown revision or
    an unreachable hub fails here rather than quietly keeping an old folder)."""
    from fnmatch import fnmatch

    try:
        info = hub.HfApi(endpoint=endpoint()).model_info(hub_id, revision=revision)
    except Exception as exc:
        raise CheckpointError(_explain(exc, card_id, hub_id, revision)) from exc
    if info.sha != revision:
        raise CheckpointError(
            f"card '{card_id}': the hub resolves {hub_id} revision {revision[:12]} to {info.sha}: "
            "checkpoints[].revision must be the full commit"
        )
    names = [s.rfilename for s in info.siblings or []]
    odd = [n for n in names if not plain_relative(n)]
    if odd:  # the hub's file list is not ours to trust either: nothing may land outside the folder
        raise CheckpointError(
            f"card '{card_id}': {hub_id} at {revision[:12]} lists file names that leave the checkpoint "
            f"folder ({', '.join(repr(n) for n in odd[:3])}): nothing was downloaded"
        )
    return sorted(n for n in names if any(fnmatch(n.split("/")[-1], p) for p in PATTERNS))


def _drop_changed(record: Record | None, folder: Path, files: list[str], echo: Callable[[str], None]) -> None:
    """Files that no longer match the last pull are deleted, so that huggingface_hub fetches them again
    (it trusts a file whose download metadata names the same commit).

    The lock file is part of the tree, so its list is not trusted on its own: only a file that this
    pull is about to write again (the hub lists it), that sits inside the folder as a regular file
    (not a link) and that differs from its record is deleted."""
    if record is None:
        return
    for rel in sorted(set(record.files) & set(files)):
        if _own_file(folder, rel) and sha256_file(folder / rel) != record.files[rel]:
            echo(f"  {rel}: changed since it was pulled; downloading it again")
            (folder / rel).unlink()


def _own_file(folder: Path, rel: str) -> bool:
    """`folder/rel` is a regular file (not a link) inside `folder`, named by a plain relative path."""
    path = folder / rel
    return plain_relative(rel) and path.is_file() and not path.is_symlink() and outside(path, folder) is None


def _explain(exc: Exception, card_id: str, hub_id: str, revision: str) -> str:
    """One line per failure a user can meet, with what to do."""
    import requests
    from huggingface_hub import errors

    head = f"card '{card_id}': cannot pull {hub_id} at {revision[:12]} from {endpoint()}"
    if isinstance(exc, errors.RevisionNotFoundError):
        return (
            f"{head}: the hub has no revision {revision}; check checkpoints[].revision against "
            f"{endpoint()}/{hub_id}/commits/main"
        )
    if isinstance(exc, errors.GatedRepoError):
        return f"{head}: the model is gated; accept its terms on the hub and set HF_TOKEN to an access token"
    if isinstance(exc, errors.RepositoryNotFoundError):
        return f"{head}: no such model repository (private? set HF_TOKEN); check checkpoints[].hub_id"
    if isinstance(exc, errors.OfflineModeIsEnabled):
        return (
            f"{head}: offline mode is on (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE is set); unset it and run "
            f"kb checkpoints pull {card_id} again"
        )
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return (
            f"{head}: the download was interrupted; run kb checkpoints pull {card_id} again: it resumes "
            "where it stopped"
        )
    offline = (
        requests.ConnectionError,
        requests.Timeout,
        errors.LocalEntryNotFoundError,
    )
    if isinstance(exc, offline):
        return (
            f"{head}: the hub cannot be reached (offline?); connect and run kb checkpoints pull {card_id} "
            "again (an interrupted download resumes), or set HF_ENDPOINT to a mirror"
        )
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{head}: {type(exc).__name__}: {first}"

"""`kb checkpoints pin ID`: write `smoke_test.code_sha256` for every Python file of the card's checkpoint
that the upstream repository does not track, after the user reviewed them.

The card's text is edited in place (`generator.yamledit`): only the `code_sha256` mapping is replaced
or added, in the file's own style, so any valid card keeps its comments, key order and layout, whatever
wrote it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from generator.exceptions import CheckpointError
from generator.io import write_if_changed
from generator.smoke.fingerprint import checkpoint_code

if TYPE_CHECKING:
    from generator.knowledge import LoadedCard
    from generator.schema.model_card import ModelCard
    from generator.settings import Project


def pin(project: Project, loaded: LoadedCard[ModelCard]) -> dict[str, str]:
    """Pin the checkpoint's untracked code on the card; returns what was pinned (path -> sha256)."""
    card: ModelCard = loaded.card
    if card.smoke_test is None:
        raise CheckpointError(f"card '{card.id}': no smoke_test section, so no checkpoint code to pin")
    digests = checkpoint_code(project, card)
    if digests and digests != card.smoke_test.code_sha256:
        set_code_sha256(loaded, digests)
    return digests


def set_code_sha256(loaded: LoadedCard[ModelCard], digests: dict[str, str]) -> bool:
    """Replace `smoke_test.code_sha256` in the card's file, keeping every other byte; True when changed."""
    from generator.yamledit import EditError, set_value

    text = loaded.path.read_text(encoding="utf-8")
    try:
        edited = set_value(text, ("smoke_test", "code_sha256"), dict(sorted(digests.items())))
    except EditError as exc:
        lines = "".join(f"\n    {rel}: {digest}" for rel, digest in sorted(digests.items()))
        raise CheckpointError(
            f"{loaded.rel}: cannot be edited automatically ({exc}); paste under smoke_test:\n"
            f"  code_sha256:{lines}"
        ) from exc
    return write_if_changed(loaded.path, edited)

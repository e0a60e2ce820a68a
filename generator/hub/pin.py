"""`kb checkpoints pin ID`: write `smoke_test.code_sha256` for every Python file of the card's checkpoint
that the upstream repository does not track, after the user reviewed them.

The card is edited by round trip (ruamel.yaml): its comments, key order and layout stay as they are;
only the `code_sha256` mapping is replaced.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from generator.exceptions import CheckpointError
from generator.io import write_if_changed
from generator.smoke.trust import checkpoint_dir, code_digests

if TYPE_CHECKING:
    from generator.knowledge import LoadedCard
    from generator.schema.model_card import ModelCard
    from generator.settings import Project


def pin(project: Project, loaded: LoadedCard) -> dict[str, str]:
    """Pin the checkpoint's untracked code on the card; returns what was pinned (path -> sha256)."""
    card: ModelCard = loaded.card
    if card.smoke_test is None:
        raise CheckpointError(f"card '{card.id}': no smoke_test section, so no checkpoint code to pin")
    digests = code_digests(project, card, checkpoint_dir(project, card))
    if digests and digests != card.smoke_test.code_sha256:
        set_code_sha256(loaded, digests)
    return digests


def set_code_sha256(loaded: LoadedCard, digests: dict[str, str]) -> bool:
    """Replace `smoke_test.code_sha256` in the card's file, keeping everything else; True when changed."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = _yaml(YAML)
    text = loaded.path.read_text(encoding="utf-8")
    data: Any = yaml.load(text)
    smoke = data.get("smoke_test") if isinstance(data, dict) else None
    if not isinstance(smoke, dict):
        raise CheckpointError(f"{loaded.rel}: no smoke_test mapping to write code_sha256 into")
    smoke["code_sha256"] = CommentedMap(sorted(digests.items()))
    buf = io.StringIO()
    yaml.dump(data, buf)
    return write_if_changed(loaded.path, buf.getvalue())


def _yaml(factory: Any) -> Any:
    """The round-trip settings under which the shipped cards read back byte for byte."""
    yaml = factory(typ="rt", pure=True)
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml

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


LAYOUTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 4, 0), (4, 6, 4))
"""(mapping, sequence, offset) indentations tried: the first that reads the card back byte for byte wins."""


def set_code_sha256(loaded: LoadedCard[ModelCard], digests: dict[str, str]) -> bool:
    """Replace `smoke_test.code_sha256` in the card's file, keeping everything else; True when changed."""
    from ruamel.yaml.comments import CommentedMap

    text = loaded.path.read_text(encoding="utf-8")
    yaml = _round_trip(text)
    if yaml is None:
        lines = "".join(f"\n    {rel}: {digest}" for rel, digest in sorted(digests.items()))
        raise CheckpointError(
            f"{loaded.rel}: its layout cannot be kept by an automatic edit; paste under smoke_test:\n"
            f"  code_sha256:{lines}"
        )
    data: Any = yaml.load(text)
    smoke = data.get("smoke_test") if isinstance(data, dict) else None
    if not isinstance(smoke, dict):
        raise CheckpointError(f"{loaded.rel}: no smoke_test mapping to write code_sha256 into")
    smoke["code_sha256"] = CommentedMap(sorted(digests.items()))
    buf = io.StringIO()
    yaml.dump(data, buf)
    return write_if_changed(loaded.path, buf.getvalue())


def _round_trip(text: str) -> Any | None:
    """A round-trip YAML under which `text` dumps back unchanged (comments, order, layout), or None."""
    from ruamel.yaml import YAML

    for mapping, sequence, offset in LAYOUTS:
        yaml = YAML(typ="rt", pure=True)
        yaml.preserve_quotes = True
        yaml.width = 4096  # never re-wrap the card's long lines
        yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
        buf = io.StringIO()
        yaml.dump(yaml.load(text), buf)
        if buf.getvalue() == text:
            return yaml
    return None

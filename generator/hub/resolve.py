"""`kb checkpoints resolve ID [--ref REF]`: the hub commit that a branch or tag names today, written into
the card as `checkpoints[].revision`.

A card pins a checkpoint by the full commit of its hub repository (a branch or tag can move), which is
what `kb checkpoints pull` downloads. This asks the hub (huggingface_hub's `model_info`, honouring
`HF_ENDPOINT` and `HF_TOKEN`) which commit `REF` (default `main`) is, and writes it into the card's
text in place (`generator.yamledit`), keeping everything else of the file as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from generator.exceptions import CheckpointError, MissingDependency
from generator.hub.pull import endpoint
from generator.io import write_if_changed

if TYPE_CHECKING:
    from generator.knowledge import LoadedCard
    from generator.schema.model_card import ModelCard


@dataclass
class Resolved:
    """One checkpoint's revision, resolved."""

    index: int
    hub_id: str
    ref: str
    commit: str
    previous: str | None

    @property
    def changed(self) -> bool:
        return self.commit != self.previous


def resolve(loaded: LoadedCard[ModelCard], ref: str, only: str | None = None) -> list[Resolved]:
    """Resolve `ref` for every checkpoint of the card with a hub_id (or the one named `only`) and write
    the commits into the card; CheckpointError naming the card, the hub id and the fix otherwise."""
    card: ModelCard = loaded.card
    chosen = [(i, c) for i, c in enumerate(card.checkpoints) if c.hub_id and only in (None, c.name)]
    if not chosen:
        names = ", ".join(c.name for c in card.checkpoints if c.hub_id) or "none names a hub_id"
        raise CheckpointError(
            f"card '{card.id}': no checkpoints[] entry "
            + (f"named '{only}' with a hub_id (with a hub_id: {names})" if only else "names a hub_id")
        )
    try:
        import huggingface_hub as hub
    except ImportError as exc:
        raise MissingDependency("huggingface_hub", "smoke", "kb checkpoints resolve") from exc
    api = hub.HfApi(endpoint=endpoint())
    done = []
    for index, checkpoint in chosen:
        assert checkpoint.hub_id is not None  # chosen only with one
        try:
            if hub.constants.HF_HUB_OFFLINE:
                raise hub.errors.OfflineModeIsEnabled("HF_HUB_OFFLINE is set")
            sha = api.model_info(checkpoint.hub_id, revision=ref).sha
        except Exception as exc:  # the hub's and the network's errors, one line each
            raise CheckpointError(_explain(exc, card.id, checkpoint.hub_id, ref)) from exc
        done.append(Resolved(index, checkpoint.hub_id, ref, str(sha), checkpoint.revision))
    _write(loaded, [r for r in done if r.changed])
    return done


def _write(loaded: LoadedCard[ModelCard], resolved: list[Resolved]) -> None:
    from generator.yamledit import EditError, set_value

    text = loaded.path.read_text(encoding="utf-8")
    for r in resolved:
        try:
            text = set_value(text, ("checkpoints", r.index, "revision"), r.commit)
        except EditError as exc:
            raise CheckpointError(
                f"{loaded.rel}: cannot be edited automatically ({exc}); set checkpoints[{r.index}].revision "
                f"({r.hub_id}) to {r.commit}"
            ) from exc
    if resolved:
        write_if_changed(loaded.path, text)


def _explain(exc: Exception, card_id: str, hub_id: str, ref: str) -> str:
    import requests
    from huggingface_hub import errors

    head = f"card '{card_id}': cannot resolve {hub_id} at '{ref}' on {endpoint()}"
    found: list[tuple[Any, str]] = [
        (errors.RevisionNotFoundError, f"the hub has no branch, tag or commit '{ref}' (see --ref)"),
        (errors.GatedRepoError, "the model is gated; accept its terms on the hub and set HF_TOKEN"),
        (errors.RepositoryNotFoundError, "no such model repository (private? set HF_TOKEN); check hub_id"),
        (
            errors.OfflineModeIsEnabled,
            "offline mode is on (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE); unset it",
        ),
        (
            (requests.ConnectionError, requests.Timeout),
            "the hub cannot be reached; or set HF_ENDPOINT to a mirror",
        ),
    ]
    for kind, why in found:
        if isinstance(exc, kind):
            return f"{head}: {why}"
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{head}: {type(exc).__name__}: {first}"

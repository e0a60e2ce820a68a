"""Weights that a model's own code shares between modules, shared again after loading.

Custom model code can tie weights by assigning one `nn.Parameter` to two modules (Caduceus ties the
reverse Mamba's in/out projections to the forward one's: `bidirectional_weight_tie`). transformers
4.57 knows only the ties it declares itself (`tie_word_embeddings`, `_tied_weights_keys`): loading
fills each name separately, so such a tie comes back untied. A checkpoint that stores the shared
tensor once (the hub's deduplicated safetensors) then leaves the other names at random ("missing");
one that stores every name (`pytorch_model.bin`, or safetensors with copies) loads two equal but
separate tensors, and the parameter count grows by the shared part.

`retie` finds the ties the code declares by building the model again on the meta device (no memory,
no arithmetic) and grouping the names under which each parameter appears, then makes every name of a
group the one parameter loaded from the checkpoint. A group of which the checkpoint holds no name
stays missing (the `weights` check names it); names stored with different values are not tied, and
are reported as a conflict.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Ties:
    """What `retie` did."""

    tied: dict[str, str] = field(default_factory=dict)
    """Parameter name -> the loaded parameter it now shares (as the model's code ties them)."""
    conflicts: list[tuple[str, str]] = field(default_factory=list)
    """(name, other): both in the checkpoint, tied by the model's code, but with different values."""
    missing: list[str] = field(default_factory=list)
    """The missing weights that remain: in no name of their group, or tied by nothing."""
    undetermined: str = ""
    """Why the model's ties could not be read (its class cannot be built again from its config)."""


def declared_groups(model: Any) -> list[list[str]]:
    """Names of parameters the model's code shares, one list per shared parameter (in the order
    `named_parameters` gives them); raises whatever the model's constructor raises."""
    import torch

    config = copy.deepcopy(model.config)
    with torch.device("meta"):
        fresh = type(model)(config)
    groups: dict[int, list[str]] = {}
    for name, param in fresh.named_parameters(remove_duplicate=False):
        groups.setdefault(id(param), []).append(name)
    return [names for names in groups.values() if len(names) > 1]


def retie(model: Any, missing_keys: list[str]) -> Ties:
    """Tie what the model's code ties, from the weights the checkpoint provided."""
    import torch

    ties = Ties(missing=sorted(missing_keys))
    try:
        groups = declared_groups(model)
    except Exception as exc:  # model code we do not control; the weights check still runs without ties
        ties.undetermined = f"{type(model).__name__} cannot be built again from its config ({exc})"
        return ties
    params = dict(model.named_parameters(remove_duplicate=False))
    missing = set(missing_keys)
    for group in groups:
        names = [n for n in group if n in params]
        loaded = [n for n in names if n not in missing]
        if not loaded:
            continue  # the checkpoint has none of them: truly missing, and the weights check says so
        source = params[loaded[0]]
        for name in names:
            param = params[name]
            if param is source:
                continue
            if name not in missing and not torch.equal(param, source):
                ties.conflicts.append((name, loaded[0]))
                continue
            owner, _, leaf = name.rpartition(".")
            setattr(model.get_submodule(owner), leaf, source)
            ties.tied[name] = loaded[0]
    ties.missing = [k for k in ties.missing if k not in ties.tied]
    return ties

"""`retie`: the ties a model's code declares, read from the class and restored on the loaded weights."""

from __future__ import annotations

from types import SimpleNamespace

import torch
from torch import nn

from generator.smoke.tying import retie


class Shares(nn.Module):
    """Ties `b.weight` to `a.weight` in `__init__`, as Caduceus ties its projections."""

    def __init__(self, config: SimpleNamespace) -> None:
        super().__init__()
        self.config = config
        self.a, self.b, self.c = nn.Linear(2, 2), nn.Linear(2, 2), nn.Linear(2, 2)
        self.b.weight = self.a.weight


class Refuses(Shares):
    """Reads a value in `__init__`, which a model built on the meta device cannot."""

    def __init__(self, config: SimpleNamespace) -> None:
        super().__init__(config)
        float(self.c.weight.detach().sum())


def _loaded(cls: type[Shares]) -> Shares:
    """As transformers leaves it: built, then every name filled separately (the tie broken)."""
    model = cls(SimpleNamespace(size=2))
    model.b.weight = nn.Parameter(torch.randn(2, 2))
    return model


def test_a_weight_stored_once_is_tied_to_its_twin() -> None:
    model = _loaded(Shares)
    ties = retie(model, ["b.weight"])
    assert model.b.weight is model.a.weight
    assert (ties.tied, ties.missing, ties.conflicts) == ({"b.weight": "a.weight"}, [], [])


def test_a_weight_stored_under_both_names_is_tied_when_equal() -> None:
    model = _loaded(Shares)
    with torch.no_grad():
        model.b.weight.copy_(model.a.weight)
    assert retie(model, []).tied == {"b.weight": "a.weight"}
    assert model.b.weight is model.a.weight
    assert sum(p.numel() for p in model.parameters()) == 3 * (4 + 2) - 4  # the shared weight once


def test_copies_that_differ_are_a_conflict_and_stay_untied() -> None:
    model = _loaded(Shares)
    ties = retie(model, [])
    assert (ties.tied, ties.conflicts) == ({}, [("b.weight", "a.weight")])
    assert model.b.weight is not model.a.weight


def test_a_group_the_checkpoint_lacks_entirely_stays_missing() -> None:
    ties = retie(_loaded(Shares), ["a.weight", "b.weight", "c.bias"])
    assert (ties.tied, ties.missing) == ({}, ["a.weight", "b.weight", "c.bias"])


def test_a_class_that_cannot_be_built_again_says_so() -> None:
    ties = retie(_loaded(Refuses), ["b.weight"])
    assert ties.missing == ["b.weight"] and not ties.tied
    assert ties.undetermined.startswith("Refuses cannot be built again from its config (")

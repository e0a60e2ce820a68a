"""Which kernels a smoke run uses: the native packages a card's model code imports, or the product's
reference kernels (plain PyTorch, `generator.smoke.reference`) standing in for them, for one load.

`--kernels auto` (the default) uses the native package where it can run (importable, on CUDA) and
the reference otherwise; `native` never uses the reference; `reference` always does. A card that
needs CUDA (`requires_cuda`) runs on CPU only when every package it `requires` has a reference.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from generator.schema.model_card import ModelCard

MODES = ("auto", "native", "reference")
REFERENCE_LABEL = "reference kernels (CPU)"
"""What reports, command output and pages say about a run on the reference kernels."""

REFERENCES = {"mamba-ssm": "mamba_ssm"}
"""pip name -> import name of each package the reference kernels stand in for."""


@dataclass(frozen=True)
class Kernels:
    """The kernels of one run: `native` (what is installed) or `reference` (for `packages`)."""

    kind: str
    packages: tuple[str, ...] = ()
    why: str = ""

    @property
    def label(self) -> str:
        return REFERENCE_LABEL if self.kind == "reference" else "native kernels"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "replaces": list(self.packages), "why": self.why}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Kernels | None:
        """The kernels a report records (None: nothing to replace)."""
        if not data:
            return None
        return cls(str(data["kind"]), tuple(data.get("replaces", ())), str(data.get("why", "")))


NATIVE = Kernels("native")


def replaceable(card: ModelCard) -> tuple[str, ...]:
    """The card's required packages that have a reference implementation."""
    requires = card.smoke_test.requires if card.smoke_test else []
    return tuple(p for p in requires if p in REFERENCES)


def needs_cuda(card: ModelCard) -> bool:
    """The card says its model cannot run on CPU (`smoke_test.requires_cuda` or
    `deployment.requires_cuda`), unless the reference kernels stand in (`covers_cuda`)."""
    return bool(card.smoke_test and card.smoke_test.requires_cuda) or card.deployment.requires_cuda


def covers_cuda(card: ModelCard) -> bool:
    """The card needs CUDA only for packages the reference kernels stand in for."""
    requires = list(card.smoke_test.requires) if card.smoke_test else []
    return bool(requires) and all(p in REFERENCES for p in requires)


def importable(package: str) -> bool:
    try:
        importlib.import_module(REFERENCES.get(package, package.replace("-", "_")))
    except Exception:  # a CUDA build that fails to load is as absent as a missing one
        return False
    return True


def choose(card: ModelCard, device: str, mode: str = "auto") -> Kernels:
    """The kernels for `card` on `device` under `--kernels mode`."""
    if mode not in MODES:
        raise ValueError(f"--kernels {mode}: expected one of {', '.join(MODES)}")
    packages = replaceable(card)
    if not packages or mode == "native":
        return NATIVE
    if mode == "reference":
        return Kernels("reference", packages, "--kernels reference")
    missing = [p for p in packages if not importable(p)]
    if device == "cuda" and not missing:
        return NATIVE
    why = f"{', '.join(missing)} not importable here" if missing else "the native kernels need CUDA"
    return Kernels("reference", packages, why)


@contextlib.contextmanager
def kernels_for(kernels: Kernels | None) -> Iterator[None]:
    """Model code imported inside the block sees the reference kernels where `kernels` says so."""
    if kernels is None or kernels.kind != "reference":
        yield
        return
    from generator.smoke.reference import installed

    with installed():
        yield

"""The smoke run of one card as data: what loading and encoding produced, which every check reads.

A check is `check(run, report)`: it reads the run and adds its outcome(s) to the report (see
`generator.smoke.checks.CHECKS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from generator.knowledge import LoadedCard
    from generator.schema.model_card import ModelCard
    from generator.schema.smoke import SmokeTest
    from generator.settings import Project
    from generator.smoke.encode import Embedder, TensorEmbedder
    from generator.smoke.inputs import Identity, Tokenize
    from generator.smoke.loader import LoadedModel
    from generator.smoke.projector import Projector


@dataclass(frozen=True)
class Tolerances:
    """The comparison tolerances of a run: the card's, or its low-precision ones on bfloat16/float16."""

    rtol: float
    atol: float
    loose: tuple[float, float]
    """The low-precision pair, used for a golden reference recorded in another dtype."""
    low_precision: bool
    exact: bool
    """CPU float32: a second run must give identical outputs, not merely close ones."""


@dataclass
class Encoded:
    """The inputs and the pooled and projected outputs of the fixed seeded batch."""

    samples: list[Any]
    hidden_width: int
    pooled: torch.Tensor
    projected: torch.Tensor
    rc_note: str = ""


@dataclass
class SmokeRun:
    """Everything the checks of one card read: card, model, tokenizer, samples, outputs, tolerances."""

    project: Project
    loaded: LoadedCard[ModelCard]
    model: LoadedModel
    tokenize: Tokenize | Identity
    embedder: Embedder | TensorEmbedder
    batching: str
    device: str
    dtype: str
    tolerances: Tolerances
    record: bool = False
    projector: Projector | None = None
    """Sized from the measured pooled width, once encoding has measured it."""
    encoded: Encoded | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def card(self) -> ModelCard:
        card: ModelCard = self.loaded.card
        return card

    @property
    def smoke(self) -> SmokeTest:
        assert self.card.smoke_test is not None  # a run exists only for cards with a smoke test
        return self.card.smoke_test

    @property
    def kind(self) -> str:
        return self.smoke.input.kind

    @property
    def out(self) -> Encoded:
        assert self.encoded is not None, "the checks run after encoding"
        return self.encoded

    @property
    def samples(self) -> list[Any]:
        return self.out.samples

    @property
    def pooled_width(self) -> int:
        return int(self.out.pooled.shape[1])

    @property
    def vocab(self) -> int:
        from generator.smoke.inputs import Tokenize

        tok = self.tokenize
        return len(tok.tokenizer) if isinstance(tok, Tokenize) else len(tok)

    @property
    def golden_path(self) -> Path:
        from generator.layout import Layout

        return Layout.golden_file(self.loaded.path, self.card.id)

    def dna(self) -> Tokenize:
        """The DNA tokenizer (checks that apply to DNA input only)."""
        from generator.smoke.inputs import Tokenize

        assert isinstance(self.tokenize, Tokenize), "a DNA check ran on non-DNA input"
        return self.tokenize

    def embed(self, items: list[Any], fresh: bool = False) -> torch.Tensor:
        """Pooled embeddings of samples, with the card's reverse-complement averaging; `fresh`: run the
        model again even for inputs it has embedded in this run (`Embedder.pooled`)."""
        pooled = self.embedder.pooled([self.tokenize(s) for s in items], fresh)
        if self.kind == "dna" and self.card.pooling.reverse_complement == "average":
            rc = [self.dna().reverse_complement_ids(s) for s in items]
            pooled = 0.5 * (pooled + self.embedder.pooled([ids for ids, _ in rc], fresh))
        return pooled

    def project_(self, x: torch.Tensor) -> torch.Tensor:
        """The 512-D projection of pooled embeddings."""
        import torch

        assert self.projector is not None, "projecting needs the projector, sized after encoding"
        with torch.inference_mode():
            out: torch.Tensor = self.projector(x.float())
        return out

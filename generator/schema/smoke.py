"""The `smoke_test` section: how to load a card's checkpoint and feed it, for `kb smoke`.

Facts to verify (hidden width, layers, vocabulary, parameters, context) are not repeated here: the
smoke test checks the card's own `architecture` and `tokenization` claims against the loaded model.
"""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from generator.schema.common import Node, RelPath


class SmokeInput(Node):
    """The synthetic input fed to the encoder: fixed-seed, so runs are comparable."""

    kind: Literal["dna", "roi-timeseries", "token-ids"]
    """DNA sequences, ROI-by-time fMRI tensors, or raw token ids."""
    length: int
    """Bases per DNA sequence, timepoints per fMRI sample, or tokens per sequence."""
    batch_size: int = 2
    """Samples per batch (at least 2, so padding and batch invariance can be checked)."""
    rois: int | None = None
    """Number of ROIs (parcels) for `roi-timeseries` input."""
    seed: int = 0
    """Random seed of the synthetic input."""

    @model_validator(mode="after")
    def _shape(self) -> SmokeInput:
        if self.length < 1 or self.batch_size < 1:
            raise ValueError("length and batch_size must be positive")
        if self.kind == "roi-timeseries" and not self.rois:
            raise ValueError("roi-timeseries input needs `rois` (the number of parcels)")
        return self


class SmokeTest(Node):
    """How `kb smoke` loads, runs and checks this card's checkpoint."""

    checkpoint: RelPath
    """Folder under `external_repos/<repo.name>/checkpoints/` holding the checkpoint."""
    loader: Literal["auto", "masked-lm", "entry-point"] = "auto"
    """`auto`: transformers AutoModel; `masked-lm`: AutoModelForMaskedLM, then the base model
    attribute; `entry-point`: a Python function in the upstream repository."""
    base_model_attr: str | None = None
    """Attribute of the masked-LM wrapper holding the base model (e.g. `esm`)."""
    entry_point: str | None = None
    """`module:function` inside the upstream repository that returns the model (entry-point loader)."""
    trust_remote_code: bool = False
    """Allow the checkpoint's own Python code to run (only at the pinned, clean upstream commit)."""
    requires_cuda: bool = False
    """The model cannot run on CPU (e.g. it imports mamba-ssm or flash-attn)."""
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    """Compute dtype on CUDA; CPU runs always use float32."""
    input: SmokeInput
    """The synthetic input."""
    parameter_tolerance: float = 0.05
    """Relative tolerance when comparing the card's parameter count with the checkpoint's."""
    rtol: float = 1e-4
    """Relative tolerance of the determinism, invariance and golden-reference comparisons."""
    atol: float = 1e-5
    """Absolute tolerance of the same comparisons."""

    @model_validator(mode="after")
    def _loader(self) -> SmokeTest:
        if self.loader == "entry-point" and not self.entry_point:
            raise ValueError("loader 'entry-point' needs `entry_point: module:function`")
        if self.entry_point and ":" not in self.entry_point:
            raise ValueError(f"entry_point '{self.entry_point}' must be written as module:function")
        return self

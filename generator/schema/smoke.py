"""The `smoke_test` section: how to load a card's checkpoint and feed it, for `kb smoke`.

Facts to verify (hidden width, layers, vocabulary, parameters, context) are not repeated here: the
smoke test checks the card's own `architecture` and `tokenization` claims against the loaded model.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from generator.schema.common import ENTRY_POINT_RE, Distribution, Node, RelPath
from generator.settings import GPU_TYPE


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
    shape: list[int] | None = None
    """Per-sample tensor shape for `roi-timeseries` (default `[rois, length]`), e.g. `[1, 424, 200]` for a
    ViT-MAE that reads the ROI-by-time matrix as a one-channel image."""
    argument: str | None = None
    """Keyword the model's forward takes the input as (default: `input_ids`, or `pixel_values` for
    `roi-timeseries`)."""
    add_special_tokens: bool = True
    """Whether the tokenizer adds its special tokens (`[CLS]`, `[SEP]`) to each DNA sequence, as
    `tokenizer(seq, add_special_tokens=...)`: feed the model what the card's walkthrough feeds it. The
    default is the tokenizer's own; set false where the walkthrough tokenizes without them (Caduceus,
    whose hub tokenizer appends `[SEP]` at one end only, which no reverse-complement symmetry survives).
    The reverse complement is taken of the sequence so tokenized, and the report says which."""

    @model_validator(mode="after")
    def _shape(self) -> SmokeInput:
        if self.length < 1 or self.batch_size < 1:
            raise ValueError("length and batch_size must be positive")
        if self.kind == "roi-timeseries" and not self.rois:
            raise ValueError("roi-timeseries input needs `rois` (the number of parcels)")
        return self


class SmokeResources(Node):
    """What one smoke-test job asks of a cluster (`kb smoke --executor slurm`; the local executor
    applies the time limit and the GPU count)."""

    gpus: int = 0
    """GPUs for the job (e.g. 1 for a model that needs CUDA; 2 or more for one that spans GPUs). The job
    asks for them once (`--gres=gpu:N`) and runs on CUDA, or fails saying it got none; with 0 it asks
    for none and sees no GPU."""
    gpu_type: str | None = None
    """The kind of GPU, as the cluster names it in its GPU resources (`sinfo -o %G` shows
    `gpu:h100:4`: `h100`); default: the `slurm.gpu_type` setting, else any GPU."""
    cpus: int = 4
    """CPU cores for the job."""
    memory_gb: int = 32
    """Memory of the job in GB (roughly 4 bytes per parameter in float32, plus activations)."""
    time_minutes: int = 60
    """Wall-time limit of the job; a job still running then is stopped and its card reported failed."""

    @model_validator(mode="after")
    def _positive(self) -> SmokeResources:
        if self.gpus < 0 or self.cpus < 1 or self.memory_gb < 1 or self.time_minutes < 1:
            raise ValueError("gpus must be 0 or more; cpus, memory_gb and time_minutes at least 1")
        if self.gpu_type is not None and not re.fullmatch(GPU_TYPE, self.gpu_type):
            raise ValueError(
                f"gpu_type '{self.gpu_type}' is not a GPU type as SLURM names them: letters, digits, '_', "
                "'.' and '-' (e.g. h100 or a100_80g)"
            )
        if self.gpu_type is not None and self.gpus == 0:
            raise ValueError(f"gpu_type '{self.gpu_type}' is given, but gpus is 0: set gpus to 1 or more")
        return self


class SmokeTest(Node):
    """How `kb smoke` loads, runs and checks this card's checkpoint."""

    checkpoint: RelPath
    """Folder under `external_repos/<repo.name>/checkpoints/` holding the checkpoint."""
    loader: Literal["auto", "masked-lm", "causal-lm", "entry-point"] = "auto"
    """`auto`: transformers AutoModel; `masked-lm`: AutoModelForMaskedLM, then the base model
    attribute; `causal-lm`: AutoModelForCausalLM (hidden states and next-token logits, for the
    log-likelihood ratio); `entry-point`: a Python function in the upstream repository."""
    base_model_attr: str | None = None
    """Attribute of the masked-LM wrapper holding the base model (e.g. `esm`)."""
    entry_point: str | None = Field(default=None, json_schema_extra={"pattern": ENTRY_POINT_RE})
    """`module:function` inside the upstream repository, called as `function(checkpoint_dir)` and
    returning the model or `(model, tokenizer)`; it runs upstream code, so it needs
    `trust_remote_code: true` and the pinned, clean commit, and the module must be a file of the clone
    tracked at that commit (or pinned in `code_sha256`), under a name no installed module has."""
    trust_remote_code: bool = False
    """Allow the checkpoint's own Python code to run (only at the pinned, clean upstream commit)."""
    requires_cuda: bool = False
    """The model cannot run on CPU (e.g. it imports mamba-ssm or flash-attn). On CPU such a card is
    skipped, unless every package in `requires` has reference kernels in the product (mamba-ssm):
    then it runs on them (`kb smoke --kernels`)."""
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
    low_precision_rtol: float = 2e-2
    """Relative tolerance used instead of `rtol` when the run computes in bfloat16 or float16."""
    low_precision_atol: float = 2e-2
    """Absolute tolerance used instead of `atol` when the run computes in bfloat16 or float16."""
    tokenizer: Literal["checkpoint", "none"] = "checkpoint"
    """`checkpoint`: the tokenizer saved in the checkpoint folder (AutoTokenizer); `none`: the input
    is fed as numbers (token ids or fMRI tensors)."""
    batching: Literal["auto", "padded", "unpadded"] = "auto"
    """How sequences of different lengths are batched. `auto`: a padded batch with an attention mask
    when the model takes one, right padding plus a masked mean for causal models without one, and
    one sequence at a time otherwise. `padded` forces a padded batch; `unpadded` one at a time."""
    rc_invariant: bool | None = None
    """Whether the pooled embedding is claimed to be reverse-complement invariant (checked). Default:
    true when `pooling.reverse_complement` is `average` or `split`, false otherwise."""
    requires: list[Distribution] = []
    """Extra packages the model code imports, as pip names them (e.g. `mamba-ssm`): installed
    distributions, looked up in their metadata (never imported) before loading, so a missing one is
    reported with the command that installs it."""
    code_sha256: dict[str, str] = {}
    """sha256 of each Python file in the checkpoint folder that the upstream repository does not
    track (hub checkpoints carry their own modeling code): remote code runs only when every such
    file is either tracked at the pinned commit or pinned here."""
    resources: SmokeResources = SmokeResources()
    """What the job asks of a cluster when the smoke test runs there (`kb smoke --executor slurm`)."""

    @model_validator(mode="after")
    def _loader(self) -> SmokeTest:
        if self.loader == "entry-point" and not self.entry_point:
            raise ValueError("loader 'entry-point' needs `entry_point: module:function`")
        if self.entry_point and not re.fullmatch(ENTRY_POINT_RE, self.entry_point):
            raise ValueError(
                f"entry_point '{self.entry_point}' must be written as module:function (dotted Python "
                "names, e.g. caduceus.loading:load)"
            )
        return self

"""The model card, schema version 1: one section per section of the code-walkthrough template,
with room for the data of the specification (001), the Caduceus card (002) and the benchmark (004)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from generator.schema.card import (
    Card,
    HasCitations,
    HasLicense,
    HasModality,
    HasRepo,
    HasSmokeTest,
    HasWalkthrough,
)
from generator.schema.common import (
    Citation,
    CodeBlock,
    Commit,
    ForgeUrl,
    HttpUrl,
    HubCommit,
    HubId,
    Markdown,
    NamedLink,
    Node,
    ParamCount,
    RelPath,
    Slug,
    Spdx,
    Tag,
)
from generator.schema.smoke import SmokeTest
from generator.schema.walkthrough import WalkthroughStep

Modality = Literal["dna", "rna", "protein", "fmri", "smri", "eeg", "text", "multimodal"]


class Repo(Node):
    """The upstream code repository, pinned."""

    model_config = ConfigDict(
        **Node.model_config, json_schema_extra={"anyOf": [{"required": ["commit"]}, {"required": ["tag"]}]}
    )

    name: Slug
    """Folder name under `external_repos/`."""
    url: ForgeUrl
    """The repository on its forge, as an https URL (`https://github.com/owner/name`). A mirror for tests
    or offline use is a setting (`repo_mirrors` in mkdocs.yml), never a card's."""
    commit: Commit | None = None
    """The pinned commit (40 hex digits)."""
    tag: Tag | None = None
    """The release tag at (or nearest before) the pinned commit. Looked up among the repository's tags
    only (a branch or `HEAD` is refused: it moves); a card with a tag and no commit is pinned at the
    commit the tag points at when `kb repos sync` first resolves it (recorded in the lock file), and a
    tag that moves after that is refused."""

    @model_validator(mode="after")
    def _pinned(self) -> Repo:
        if not self.commit and not self.tag:
            raise ValueError("the repository is not pinned: give `commit` (40 hex digits) and/or `tag`")
        return self


class Purpose(Node):
    """Purpose and scope."""

    summary: Markdown = ""
    """What the model is designed for."""
    intended_tasks: list[Markdown] = []
    """Tasks the model is meant for."""
    intended_datasets: list[Markdown] = []
    """Datasets it is meant to be applied to."""
    use_cases: list[Markdown] = []
    """Concrete use cases."""
    out_of_scope: list[Markdown] = []
    """Uses the model is not suited for."""


class Variant(Node):
    """An architectural variant or sibling checkpoint."""

    name: str
    """Variant name."""
    description: Markdown = ""
    """How it differs from the main model."""


class Architecture(Node):
    """Architecture and inductive biases."""

    model_type: Literal["encoder", "causal", "encoder-decoder", "autoencoder", "joint-embedding"] | None = (
        None
    )
    """Encoder (bidirectional), causal (autoregressive), or another type."""
    objective: str | None = None
    """Pre-training objective (masked LM, next token, masked autoencoding, JEPA)."""
    family: Slug | None = None
    """Architecture family used for tags: transformer, mamba, hyena, striped-hyena, vit, swin."""
    backbone: str = ""
    """Backbone in a phrase."""
    layers: int | None = None
    """Number of blocks."""
    hidden_size: int | None = None
    """Width of the hidden states (d_model)."""
    attention_heads: int | None = None
    """Attention heads per layer, where the model has attention."""
    ffn_size: int | None = None
    """Feed-forward inner width."""
    parameters: ParamCount | None = None
    """Parameter count: an integer or e.g. `117M`, `2.5B`."""
    embedding_dim: int | None = None
    """Width of the pooled embedding the card's pooling produces (before projection)."""
    positional_encoding: str | None = None
    """How positions are encoded (ALiBi, rotary, learned, brain-gradient, none)."""
    notable_blocks: list[Markdown] = []
    """Notable blocks (JEPA, MAE, Swin, RC-equivariant BiMamba)."""
    modality_design: list[Markdown] = []
    """Modality-specific design (hub tokens, TAPE, gradient positional encodings)."""
    inductive_biases: list[Markdown] = []
    """Inductive biases and what they buy."""
    variants: list[Variant] = []
    """Architectural variants."""


class ContextWindow(Node):
    """The input window the model accepts."""

    tokens: int | None = None
    """Maximum number of tokens."""
    bases: int | None = None
    """Maximum DNA length in base pairs."""
    timepoints: int | None = None
    """fMRI window in timepoints (TRs)."""
    voxel_grid: str | None = None
    """Voxel grid, e.g. `96x96x96 x 20 frames`."""
    description: str = ""
    """The window in words, e.g. `2,048 tokens (~12 kb)`."""


class ModalitySpec(Node):
    """An input or output modality."""

    name: str
    """Modality name."""
    format: str = ""
    """Data format."""
    preprocessing: list[Markdown] = []
    """Pre- or post-processing steps."""
    dimensions: str = ""
    """Shapes and sizes."""


class Tokenization(Node):
    """Tokenization and input constraints."""

    kind: Literal["character", "k-mer", "bpe", "bytes", "voxel-patches", "roi-tensors"]
    """How inputs become tokens."""
    vocab_size: int | None = None
    """Vocabulary size, where there is one."""
    k: int | None = None
    """k of a k-mer tokenizer."""
    patch: str | None = None
    """Patch size for patch tokenizers (e.g. `20 timepoints`)."""
    context: ContextWindow = ContextWindow()
    """Context length, TR window or voxel grid."""
    preprocessing: list[Markdown] = []
    """Required preprocessing (sorting genes, TR normalisation, motion censoring)."""
    quirks: list[Markdown] = []
    """Tokenizer quirks that affect embeddings."""
    inputs: list[ModalitySpec] = []
    """Input modalities."""
    outputs: list[ModalitySpec] = []
    """Output modalities."""


class Pooling(Node):
    """Pooling and subject-level embeddings."""

    strategy: Literal["mean", "cls", "last", "hub_mean", "max"]
    """mean over real tokens, CLS token, last token, mean over hub tokens, or max."""
    layer: int = -1
    """Hidden layer to pool; negative values count from the last (-1 = last)."""
    reverse_complement: Literal["none", "average", "split"] = "none"
    """none; average the forward and reverse-complement embeddings; or the one-pass split of an
    RC-equivariant model's channels."""
    hub_tokens: int | None = None
    """Number of hub tokens for `hub_mean`."""
    notes: Markdown = ""
    """Pooling details, RC handling or TR alignment notes."""
    aggregation: list[str] = []
    """Levels of aggregation to subject/session, e.g. [exon, gene, subject]."""
    aggregation_notes: Markdown = ""
    """How the aggregation is done."""


class DataSource(Node):
    """A training data source."""

    name: str
    """Name of the data set."""
    dataset: Slug | None = None
    """Id of the dataset card in `kb/datasets/`, where there is one."""
    samples: str | None = None
    """Sample count in words (`34,021 segments`)."""
    tokens: str | None = None
    """Tokens or base pairs seen."""
    description: Markdown = ""
    """What it is and how it was preprocessed."""


class Hyperparameters(Node):
    """Training hyperparameters."""

    learning_rate: float | None = None
    """Peak learning rate."""
    batch_size: str | None = None
    """Batch size, with its unit."""
    optimizer: str | None = None
    """Optimizer."""
    loss: str | None = None
    """Loss function."""
    schedule: str | None = None
    """Epochs, steps or schedule."""


class TrainingEnvironment(Node):
    """Where and how it was trained."""

    hardware: str | None = None
    """Accelerators."""
    framework: str | None = None
    """Framework."""
    distributed: str | None = None
    """Parallelism."""


class Training(Node):
    """Training data."""

    sources: list[DataSource] = []
    """Source datasets."""
    split: Markdown = ""
    """Training split."""
    augmentation: Markdown = ""
    """Augmentation."""
    preprocessing: list[Markdown] = []
    """Preprocessing assumptions."""
    hyperparameters: Hyperparameters | None = None
    """Training hyperparameters."""
    environment: TrainingEnvironment | None = None
    """Training environment."""


class Checkpoint(Node):
    """A released checkpoint and where it is placed locally."""

    name: str
    """Checkpoint name."""
    path: RelPath
    """Folder under `external_repos/<repo.name>/checkpoints/`."""
    hub_id: HubId | None = None
    """Model hub id (e.g. `zhihan1996/DNABERT-2-117M`)."""
    revision: HubCommit | None = None
    """The hub repository's commit to download (40 hex digits; a branch or tag can move).
    `kb checkpoints pull` downloads `hub_id` at this commit and records every file's sha256."""
    url: HttpUrl | None = None
    """Download page."""
    size: str | None = None
    """Size on disk."""
    notes: Markdown = ""
    """Anything to know when loading it."""


class Projector(Node):
    """The 512-D projector: Linear -> GELU -> Dropout -> Linear -> LayerNorm."""

    in_dim: int
    """Input width: the pooled embedding width (the smoke test sizes it from the measured width)."""
    hidden_dim: int
    """Hidden width."""
    out_dim: int = Field(json_schema_extra={"const": 512})
    """Output width: always 512 in this knowledge base."""
    dropout: float = 0.1
    """Dropout probability between the two Linear layers."""

    @field_validator("out_dim")
    @classmethod
    def _out_dim(cls, value: int) -> int:
        if value != 512:
            raise ValueError(f"out_dim is {value}: the knowledge base projects every model to 512-D")
        return value

    @field_validator("in_dim", "hidden_dim")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"{value} must be a positive width")
        return value

    @field_validator("dropout")
    @classmethod
    def _dropout(cls, value: float) -> float:
        if not 0 <= value < 1:
            raise ValueError(f"dropout {value} must be in [0, 1)")
        return value


class LoRA(Node):
    """LoRA fine-tuning settings."""

    r: int
    """Rank."""
    alpha: int
    """Scaling alpha."""
    target_modules: list[str] = []
    """Modules to adapt."""


class Integration(Node):
    """Integration hooks."""

    projector: Projector
    """The 512-D projector configuration."""
    strategy: Slug | None = None
    """Id of the integration card in `kb/integrations/`."""
    fitting: Markdown = ""
    """How the projector (or PCA) is fitted fold-aware."""
    late_fusion: list[Markdown] = []
    """Late-fusion guidance (LR/GBDT baselines, CCA requirements)."""
    attribution: list[Markdown] = []
    """LOGO / attribution tips."""


class Metric(Node):
    """An evaluation metric."""

    name: str
    """Metric name."""
    value: str | None = None
    """Reported value."""
    benchmark: str | None = None
    """Where it was measured."""


class Evaluation(Node):
    """Evaluation."""

    zero_shot_method: Literal["cosine-distance", "log-likelihood-ratio"] | None = None
    """Zero-shot variant scoring: cosine distance of embeddings (encoders) or log-likelihood ratio
    (causal models)."""
    primary_metrics: list[Metric] = []
    """Primary metrics."""
    secondary_metrics: list[Metric] = []
    """Secondary metrics (latency, size)."""


class Deployment(Node):
    """Deployment considerations."""

    vram_inference: str | None = None
    """GPU memory needed for inference, in words (`~2 GB`)."""
    requires_cuda: bool = False
    """Whether the model runs only on CUDA."""
    quantization: list[Markdown] = []
    """Inference optimisations."""
    platforms: list[Markdown] = []
    """Deployment platforms."""
    scaling: list[Markdown] = []
    """Scaling notes."""


class Example(Node):
    """A usage or fine-tuning example."""

    title: str
    """What it shows."""
    code: CodeBlock
    """The code."""


class FineTuning(Node):
    """Fine-tuning."""

    lora: LoRA | None = None
    """LoRA settings."""
    examples: list[Example] = []
    """Fine-tuning examples."""


class Selection(Node):
    """Model-selection guidance."""

    best_for: list[str] = []
    """Tasks this model is a good first choice for."""
    avoid_for: list[str] = []
    """Tasks to pick another model for."""


class Links(Node):
    """Links besides the repository."""

    docs: HttpUrl | None = None
    """Documentation."""
    issues: HttpUrl | None = None
    """Issue tracker."""
    hub: HttpUrl | None = None
    """Model hub page."""
    paper: HttpUrl | None = None
    """Paper landing page."""
    other: list[NamedLink] = []
    """Other links."""


class Related(Node):
    """Related knowledge-base cards, by id; links are shown both ways."""

    models: list[Slug] = []
    """Other model cards."""
    datasets: list[Slug] = []
    """Dataset cards."""
    integrations: list[Slug] = []
    """Integration strategy cards."""
    recipes: list[Slug] = []
    """Analysis recipe cards."""


class Discrepancy(Node):
    """A figure stated elsewhere that differs from upstream (e.g. a benchmark's model table)."""

    field: str
    """What the figure is (parameters, context)."""
    source: str
    """Who states it."""
    stated: str
    """What they state."""
    upstream: str
    """What upstream says (the figure this card uses)."""


class ModelCard(Card, HasLicense, HasModality, HasRepo, HasWalkthrough, HasSmokeTest, HasCitations):
    """A model card (`kb/model_cards/<id>.yaml`)."""

    schema_version: Literal[1]
    """Card format version."""
    id: Slug
    """Slug; equals the file name."""
    name: str
    """Model name."""
    alias: str | None = None
    """Friendly alias."""
    summary: Markdown = ""
    """One sentence shown in catalogs."""
    version: str | None = None
    """Model version."""
    modality: Modality
    """Input modality."""
    license: Spdx
    """License of the code (SPDX expression)."""
    weights_license: Spdx | None = None
    """License of the weights, when it differs from the code's."""
    license_notes: Markdown = ""
    """Where the license is stated, and anything unusual about it."""
    developers: list[str] = []
    """Developers."""
    contact: str | None = None
    """Contact."""
    repo: Repo
    """Upstream repository at a pinned commit."""
    purpose: Purpose = Purpose()
    """Purpose and scope."""
    architecture: Architecture = Architecture()
    """Architecture and inductive biases."""
    tokenization: Tokenization | None = None
    """Tokenization and input constraints."""
    pooling: Pooling
    """Pooling and subject-level embeddings."""
    training: Training = Training()
    """Training data."""
    checkpoints: list[Checkpoint] = []
    """Checkpoints and their placement under `external_repos/<repo>/checkpoints`."""
    walkthrough: list[WalkthroughStep] = []
    """Walkthrough steps."""
    integration: Integration
    """Integration hooks."""
    evaluation: Evaluation = Evaluation()
    """Evaluation."""
    deployment: Deployment = Deployment()
    """Deployment."""
    usage: list[Example] = []
    """Usage examples."""
    fine_tuning: FineTuning = FineTuning()
    """Fine-tuning."""
    selection: Selection = Selection()
    """Model-selection guidance."""
    strengths: list[Markdown] = []
    """Where the model excels."""
    limitations: list[Markdown] = []
    """Known failure modes."""
    citations: list[Citation] = []
    """Papers to cite."""
    links: Links = Links()
    """Documentation and issue tracker."""
    related: Related = Related()
    """Related knowledge-base cards."""
    smoke_test: SmokeTest | None = None
    """How `kb smoke` verifies the checkpoint."""
    unverified: list[Markdown] = []
    """Facts in this card that could not be sourced, each stated plainly."""
    discrepancies: list[Discrepancy] = []
    """Figures stated elsewhere that differ from upstream."""
    assets: list[RelPath] = []
    """Files under `kb/assets/` this card uses (figures)."""

    def license_fields(self) -> list[tuple[str, str]]:
        """The code's license, then the weights' when stated."""
        weights = [("weights_license", self.weights_license)] if self.weights_license else []
        return [("license", self.license), *weights]


@dataclass(frozen=True)
class TemplateSection:
    """A section of the code-walkthrough template (seed 000): its title and the card fields that fill it."""

    title: str
    fields: tuple[str, ...]


TEMPLATE_SECTIONS: dict[str, TemplateSection] = {
    "purpose": TemplateSection("Purpose & Scope", ("purpose",)),
    "architecture": TemplateSection("Architecture & Inductive Biases", ("architecture",)),
    "tokenization": TemplateSection("Tokenization & Input Constraints", ("tokenization",)),
    "pooling": TemplateSection("Pooling & Subject-Level Embeddings", ("pooling",)),
    "training": TemplateSection("Training Data & Checkpoints", ("training", "checkpoints")),
    "walkthrough": TemplateSection("Walkthrough", ("walkthrough",)),
    "integration": TemplateSection("Integration Hooks", ("integration",)),
    "strengths": TemplateSection("Strengths & Limitations", ("strengths", "limitations")),
    "citations": TemplateSection("Citations", ("citations",)),
    "links": TemplateSection("Links", ("links",)),
    "related": TemplateSection("Related Cards", ("related",)),
}
"""Sections of the code-walkthrough template, in order, by key: their titles (the page, the PDF and the
export use them) and the fields an author fills them with (all of them empty: a warning, an error
under --strict)."""

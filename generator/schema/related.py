"""Card kinds that model cards point at: datasets, integration strategies and analysis recipes."""

from __future__ import annotations

from typing import Literal

from generator.schema.card import Card, HasCitations, HasLicense, HasModality
from generator.schema.common import Citation, CodeBlock, HttpUrl, Markdown, Slug, Spdx
from generator.schema.model_card import Modality, Projector


class DatasetCard(Card, HasLicense, HasModality, HasCitations):
    """A dataset card (`kb/datasets/<id>.yaml`)."""

    schema_version: Literal[1]
    """Card format version."""
    id: Slug
    """Slug; equals the file name."""
    name: str
    """Dataset name."""
    summary: Markdown = ""
    """One sentence shown in catalogs."""
    modality: Modality
    """Data modality."""
    description: Markdown = ""
    """What the data is, how it was collected and preprocessed."""
    license: Spdx | None = None
    """License of the data (SPDX), where one is stated."""
    access: str = ""
    """How to obtain it (open download, data-use agreement)."""
    url: HttpUrl | None = None
    """Landing page."""
    size: str = ""
    """Samples, subjects or base pairs."""
    preprocessing: list[Markdown] = []
    """Preprocessing the models assume."""
    citations: list[Citation] = []
    """Papers to cite."""


class IntegrationCard(Card, HasCitations):
    """An integration strategy card (`kb/integrations/<id>.yaml`)."""

    schema_version: Literal[1]
    """Card format version."""
    id: Slug
    """Slug; equals the file name."""
    name: str
    """Strategy name."""
    summary: Markdown = ""
    """One sentence shown in catalogs."""
    description: Markdown = ""
    """The strategy in full."""
    projector: Projector | None = None
    """The default projector the strategy uses."""
    steps: list[Markdown] = []
    """Steps, in order."""
    baselines: list[Markdown] = []
    """Baselines to compare against."""
    requirements: list[Markdown] = []
    """What the inputs must satisfy."""
    pitfalls: list[Markdown] = []
    """Known ways to get it wrong (leakage across folds)."""
    citations: list[Citation] = []
    """Papers to cite."""


class RecipeCard(Card, HasCitations):
    """An analysis recipe card (`kb/recipes/<id>.yaml`)."""

    schema_version: Literal[1]
    """Card format version."""
    id: Slug
    """Slug; equals the file name."""
    name: str
    """Recipe name."""
    summary: Markdown = ""
    """One sentence shown in catalogs."""
    description: Markdown = ""
    """What the recipe answers."""
    steps: list[Markdown] = []
    """Steps, in order."""
    code: CodeBlock | None = None
    """Code for the recipe."""
    integrations: list[Slug] = []
    """Integration cards the recipe builds on."""
    citations: list[Citation] = []
    """Papers to cite."""

"""Card schemas, version 1. `CARD_KINDS` maps each card kind to its folder under `kb/` and its model."""

from __future__ import annotations

from dataclasses import dataclass

from generator.schema.card import Card
from generator.schema.derived import FineTunedCard, SAECard
from generator.schema.model_card import TEMPLATE_SECTIONS, ModelCard
from generator.schema.related import DatasetCard, IntegrationCard, RecipeCard

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class CardKind:
    """A kind of card: where its files live and which schema validates them."""

    name: str
    folder: str
    model: type[Card]
    title: str


CARD_KINDS: dict[str, CardKind] = {
    k.name: k
    for k in (
        CardKind("model", "model_cards", ModelCard, "Models"),
        CardKind("dataset", "datasets", DatasetCard, "Datasets"),
        CardKind("integration", "integrations", IntegrationCard, "Integration strategies"),
        CardKind("recipe", "recipes", RecipeCard, "Analysis recipes"),
        CardKind("sae", "sae_cards", SAECard, "Sparse autoencoders"),
        CardKind("finetuned", "finetuned_cards", FineTunedCard, "Fine-tuned models"),
    )
}

__all__ = [
    "CARD_KINDS",
    "SCHEMA_VERSION",
    "TEMPLATE_SECTIONS",
    "Card",
    "CardKind",
    "DatasetCard",
    "FineTunedCard",
    "IntegrationCard",
    "ModelCard",
    "RecipeCard",
    "SAECard",
]

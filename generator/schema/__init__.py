"""Card schemas, version 1, and the declaration of every card kind (`CARD_KINDS`).

A kind is declared once, by one `CardKind` in `CARD_KINDS`: its name, its folder under `kb/`, its schema
class, its titles, where the navigation lists it, its example card, the fields that point at other
cards, and whether it is printed and exported. Everything else about the kind follows from that line:
its page (`pages/<name>.md.j2` when it has its own template, else the generic one), its PDF
(`pdf/<name>.html.j2`, else the generic print template, when `printed`), its skeleton for `kb new`
(`cards/<name>_card.yaml.j2`), its JSON Schema file (`schemas/<name>_card.schema.json`), its page and
file paths (`generator.layout`), its sections (by the mixins its schema class lists,
`generator.sections`) and its place in the tests that fill every text field with hostile text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.schema import examples
from generator.schema.card import Card, HasSmokeTest
from generator.schema.derived import FineTunedCard, SAECard
from generator.schema.model_card import TEMPLATE_SECTIONS, ModelCard, TemplateSection
from generator.schema.related import DatasetCard, IntegrationCard, RecipeCard

SCHEMA_VERSION = 1

Ref = tuple[tuple[str, ...], str]
"""(field path, `*` for every item of a list; the kind of card whose id it holds)."""


@dataclass(frozen=True)
class CardKind:
    """A kind of card: everything the stages need to know about it, in one declaration."""

    name: str
    """`model`: the `--kind` of the commands, the name of its templates and schema file."""
    folder: str
    """Its folder under `kb/` (`model_cards`); its pages' folder drops `_cards`."""
    model: type[Card]
    """Its schema class, subclassing `Card` with the mixins of what it has (`HasRepo`, ...)."""
    title: str
    """Its cards, in the plural (`Models`): index pages, related-card groups, the navigation."""
    singular: str
    """One of its cards (`model`), in messages: "a model card"."""
    nav: str
    """The top-level entry of the site's navigation that lists its pages (`generator.render.nav`)."""
    example: Mapping[str, Any]
    """A complete card of this kind, every optional field filled (`generator.schema.examples`)."""
    refs: tuple[Ref, ...] = ()
    """The fields that hold ids of other cards (cross-checked when loading, linked both ways)."""
    printed: bool = False
    """Whether `kb pdf` prints its cards as PDF walkthroughs."""
    exported: bool = False
    """Whether `kb export hf` writes its cards as Hugging Face READMEs."""
    template_sections: Mapping[str, TemplateSection] = field(default_factory=dict)
    """The sections of its card template; a card leaving one empty gets a warning (`kb validate`)."""

    def __post_init__(self) -> None:
        # The smoke test reads a model card's architecture, tokenization, pooling and projector.
        if issubclass(self.model, HasSmokeTest) and not issubclass(self.model, ModelCard):
            raise TypeError(
                f"card kind '{self.name}': {self.model.__name__} declares HasSmokeTest, which needs the "
                "model card's fields: subclass ModelCard"
            )

    @property
    def page_template(self) -> str:
        """Its own page template; a kind without one gets `pages/card.md.j2`."""
        return f"pages/{self.name}.md.j2"

    @property
    def print_template(self) -> str:
        """Its own print template; a printed kind without one gets `pdf/card.html.j2`."""
        return f"pdf/{self.name}.html.j2"

    @property
    def skeleton_template(self) -> str:
        """The card `kb new --kind <name>` writes."""
        return f"cards/{self.name}_card.yaml.j2"

    @property
    def schema_file(self) -> str:
        """Its JSON Schema for editors, from the project root (`kb schema --kind <name> -o <schema_file>`)."""
        return f"schemas/{self.name}_card.schema.json"


GENERIC_PAGE = "pages/card.md.j2"
GENERIC_PRINT = "pdf/card.html.j2"

_DERIVED_REFS: tuple[Ref, ...] = ((("base_model_card",), "model"), (("training", "dataset_card"), "dataset"))

CARD_KINDS: dict[str, CardKind] = {
    k.name: k
    for k in (
        CardKind(
            "model",
            "model_cards",
            ModelCard,
            "Models",
            "model",
            "Models",
            examples.MODEL,
            refs=(
                (("related", "models", "*"), "model"),
                (("related", "datasets", "*"), "dataset"),
                (("related", "integrations", "*"), "integration"),
                (("related", "recipes", "*"), "recipe"),
                (("integration", "strategy"), "integration"),
                (("training", "sources", "*", "dataset"), "dataset"),
            ),
            printed=True,
            exported=True,
            template_sections=TEMPLATE_SECTIONS,
        ),
        CardKind("dataset", "datasets", DatasetCard, "Datasets", "dataset", "Datasets", examples.DATASET),
        CardKind(
            "integration",
            "integrations",
            IntegrationCard,
            "Integration strategies",
            "integration strategy",
            "Integrations and recipes",
            examples.INTEGRATION,
        ),
        CardKind(
            "recipe",
            "recipes",
            RecipeCard,
            "Analysis recipes",
            "analysis recipe",
            "Integrations and recipes",
            examples.RECIPE,
            refs=((("integrations", "*"), "integration"),),
        ),
        # Seed-003 cards link to their base model's card and their dataset card (schema/derived.py).
        CardKind(
            "sae",
            "sae_cards",
            SAECard,
            "Sparse autoencoders",
            "sparse autoencoder",
            "Models",
            examples.SAE,
            refs=_DERIVED_REFS,
            printed=True,
            exported=True,
        ),
        CardKind(
            "finetuned",
            "finetuned_cards",
            FineTunedCard,
            "Fine-tuned models",
            "fine-tuned model",
            "Models",
            examples.FINETUNED,
            refs=_DERIVED_REFS,
            printed=True,
            exported=True,
        ),
    )
}


def kinds_with(trait: type) -> list[str]:
    """The kinds whose schema class has `trait` (a mixin of `generator.schema.card`), in declared order."""
    return [k.name for k in CARD_KINDS.values() if issubclass(k.model, trait)]


__all__ = [
    "CARD_KINDS",
    "GENERIC_PAGE",
    "GENERIC_PRINT",
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
    "TemplateSection",
    "kinds_with",
]

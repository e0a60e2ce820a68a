"""The sections of the cards model cards point at: datasets, integration strategies, analysis recipes."""

from __future__ import annotations

from generator.facts import CardFacts
from generator.schema.labels import modality_label
from generator.schema.related import DatasetCard, IntegrationCard, RecipeCard
from generator.sections import common
from generator.sections.model import Bullets, Code, Facts, Prose, Section, Span, row, section


def _prose(title: str, text: str) -> Section | None:
    return section(common.anchor(title), title, Prose(text=text))


def _list(title: str, items: list[str], *, ordered: bool = False) -> Section | None:
    return section(common.anchor(title), title, Bullets.of(items, ordered=ordered))


def dataset(card: DatasetCard, facts: CardFacts) -> list[Section | None]:
    landing = (Span(str(card.url), href=str(card.url)),) if card.url else ()
    return [
        common.metadata(
            card,
            facts,
            [row("Modality", modality_label(card.modality))],
            [row("Access", card.access), row("Size", card.size), row("Landing page", landing)],
        ),
        _prose("Description", card.description),
        _list("Preprocessing", card.preprocessing),
        common.citations(card, template=False),
        common.related(facts),
    ]


def integration(card: IntegrationCard, facts: CardFacts) -> list[Section | None]:
    pj = card.projector
    projector = None
    if pj is not None:
        projector = section(
            "projector",
            "Projector",
            Facts.of(
                row("in_dim", pj.in_dim),
                row("hidden_dim", pj.hidden_dim),
                row("out_dim", pj.out_dim),
                row("dropout", pj.dropout),
                label="Linear → GELU → Dropout → Linear → LayerNorm",
            ),
        )
    return [
        common.metadata(card, facts),
        _prose("Description", card.description),
        projector,
        _list("Steps", card.steps, ordered=True),
        _list("Baselines", card.baselines),
        _list("Requirements", card.requirements),
        _list("Pitfalls", card.pitfalls),
        common.citations(card, template=False),
        common.related(facts),
    ]


def recipe(card: RecipeCard, facts: CardFacts) -> list[Section | None]:
    code = Code(source=card.code.source, language=card.code.language) if card.code else None
    return [
        common.metadata(card, facts),
        _prose("Description", card.description),
        _list("Steps", card.steps, ordered=True),
        section("code", "Code", code),
        common.citations(card, template=False),
        common.related(facts),
    ]

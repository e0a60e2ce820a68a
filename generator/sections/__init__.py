"""A card's sections, decided once: what the page, the PDF and the Hugging Face export show, in order.

`card_view(card, facts) -> CardView` builds, from a validated card and its `CardFacts`, the ordered
list of its sections: each a title, an anchor and blocks (tables of facts, lists, prose, code, the
walkthrough's steps, papers, boxed notes) whose values are already in a reader's words. Three
templates format it and decide nothing:

- the page, `templates/pages/card.md.j2` (blocks: `pages/partials/blocks.md.j2`);
- the PDF, `templates/pdf/card.html.j2` (the metadata on the cover; blocks: `pdf/_blocks.html.j2`);
- the export, `templates/hf/README.md.j2` (blocks: `hf/blocks.md.j2`).

The contract:

- **Order.** The sections of the kind's card template first, in its order (seed 000 for model cards:
  Metadata, Purpose & Scope ... Related Cards), then those beyond it. The first section is always the
  metadata.
- **One rule for what is left out** (`generator.sections.model.section`): a row, a list item or a
  block without a value is left out; a section with nothing left is left out, except a section of the
  kind's card template, which says "Not documented in this card yet."
- **Shown alike.** Every row, block and span is shown by all three, except the few marked
  `only="page"` (the site page and the export: links a printed copy cannot follow) or `only="pdf"`,
  each with its reason; `model.declared_only(view)` lists them and the tests keep them few.
- **One place to change.** A row's label and its value in words are written once, in the builder of
  its kind (`model_card.py`, `derived.py`, `related.py`) or of its feature (`common.py`); words shared
  with the catalog pages come from `generator.schema.labels`.

A kind is shown by the builder registered for its schema class in `BUILDERS`; a kind without one (a
new kind) by `generic.sections`, which shows its metadata, the sections of its mixins and every
other field of its schema.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from generator.facts import CardFacts
from generator.schema import CARD_KINDS, Card, DatasetCard, IntegrationCard, ModelCard, RecipeCard
from generator.schema.derived import FineTunedCard, SAECard
from generator.sections import derived, generic, model_card, related
from generator.sections.model import CardView, Section, Value, declared_only

Builder = Callable[[Any, CardFacts], list[Section | None]]

BUILDERS: dict[type[Card], Builder] = {
    ModelCard: model_card.sections,
    SAECard: derived.sections,
    FineTunedCard: derived.sections,
    DatasetCard: related.dataset,
    IntegrationCard: related.integration,
    RecipeCard: related.recipe,
}
"""The builder of each kind's sections, by schema class."""


def card_view(card: Card, facts: CardFacts) -> CardView:
    """Everything the page, the PDF and the export show of `card`, in order."""
    build = next((b for model, b in BUILDERS.items() if isinstance(card, model)), generic.sections)
    sections = tuple(s for s in build(card, facts) if s is not None)
    alias = card.alias if isinstance(card, ModelCard) else None
    return CardView(
        kind=facts.kind,
        kicker=_kicker(card, facts),
        title=str(card.name),
        alias=str(alias) if alias and alias != card.name else None,
        summary=str(card.summary),
        notes=_notes(card),
        sections=sections,
        description=" ".join(_description(card).split()),
        authors=_authors(card),
    )


def _kicker(card: Card, facts: CardFacts) -> str:
    if isinstance(card, ModelCard):
        return model_card.KICKER
    if facts.kind in derived.KICKERS:
        return derived.KICKERS[facts.kind]
    kind = CARD_KINDS.get(facts.kind)
    return (kind.singular if kind else facts.kind).capitalize()


def _description(card: Card) -> str:
    if card.summary:
        return str(card.summary)
    if isinstance(card, ModelCard) and card.purpose.summary:
        return str(card.purpose.summary)
    return f"Code walkthrough of {card.name}"


def _authors(card: Card) -> tuple[str, ...]:
    if isinstance(card, ModelCard):
        return tuple(card.developers)
    if isinstance(card, (SAECard, FineTunedCard)) and card.author:
        return (card.author,)
    return ()


def _notes(card: Card) -> tuple[Value, ...]:
    if isinstance(card, ModelCard):
        return model_card.notes(card)
    if isinstance(card, (SAECard, FineTunedCard)):
        return derived.notes(card)
    return ()


__all__ = ["BUILDERS", "CardView", "Section", "card_view", "declared_only"]

"""The sections of the cards of models derived from a base model (seed 003): sparse autoencoders and
fine-tuned models. The sections of the model folder's own card (Training, Performance, Intended Use,
Limitations) and the weights are shown even when empty; the rest only when the card fills them."""

from __future__ import annotations

from generator.facts import CardFacts
from generator.schema.derived import DerivedCard, FineTunedCard, SAECard
from generator.schema.labels import hub_url, token_label
from generator.sections import common
from generator.sections.model import (
    Block,
    Bullets,
    Facts,
    Line,
    Prose,
    Row,
    Section,
    Span,
    Value,
    row,
    section,
    text,
)

KICKERS = {"sae": "Sparse autoencoder", "finetuned": "Fine-tuned model"}


def sections(card: DerivedCard, facts: CardFacts) -> list[Section | None]:
    return [
        common.metadata(card, facts, metadata_rows(card, facts)),
        _own(card),
        _titled("Training", _training(card, facts), template=True),
        _titled("Performance", _performance(card), template=True),
        _titled("Intended Use", Prose(text=card.intended_use), template=True),
        _titled("Limitations", Bullets.of(card.limitations), template=True),
        _titled("Additional Notes", Prose(text=card.notes)),
        _titled(
            "From the Original Model Card",
            *(
                [Line(text("Parts of the imported model card that have no field of their own, as written."))]
                if card.extra_sections
                else []
            ),
            *(Prose(text=s.body, label=s.title) for s in card.extra_sections),
        ),
        _titled("Weights", _weights(card), template=True, empty="No weights file recorded."),
        common.related(facts),
    ]


def _titled(
    title: str, *blocks: Block | None, template: bool = False, empty: str | None = None
) -> Section | None:
    if empty is None:
        return section(common.anchor(title), title, *blocks, template=template)
    return section(common.anchor(title), title, *blocks, template=template, empty=empty)


def metadata_rows(card: DerivedCard, facts: CardFacts) -> list[Row | None]:
    base = card.base_model
    name: Value = common.card_ref(facts, "model", card.base_model_card, base.name)
    if not name or (name[0].site is None and base.url):
        name = (Span(base.name, href=str(base.url) if base.url else None),)
    hub = text(base.hub_id, "code", hub_url(base.hub_id)) if base.hub_id else ()
    own = row("Layer", text(card.sae.layer, "code")) if isinstance(card, SAECard) else None
    if isinstance(card, FineTunedCard):
        own = row("Domain", text(card.domain, "code"))
    return [
        row("Base model", name),
        row("Hub id", hub),
        row("Source", base.source),
        own,
        row("Author", card.author),
        row("Trained", card.date),
    ]


def _own(card: DerivedCard) -> Section | None:
    """What the derived model is: the autoencoder's shape, or the domain it was tuned for."""
    if isinstance(card, SAECard):
        s = card.sae
        rows = Facts.of(
            row("Target layer", s.target_layer),
            row("Hook point", text(s.hook_point, "code")),
            row("Input dimension", s.input_dim),
            row("Expansion factor", s.expansion_factor),
            row("Features", s.dict_size or s.input_dim * s.expansion_factor),
        )
        return _titled("Sparse Autoencoder", rows, template=True)
    assert isinstance(card, FineTunedCard)
    rows = Facts.of(
        row("Domain", text(card.domain, "code")),
        row("Domain description", card.domain_description),
        row("Method", card.training.method),
    )
    return _titled("Domain", rows, template=True)


def _training(card: DerivedCard, facts: CardFacts) -> Facts:
    t = card.training
    dataset = common.card_ref(facts, "dataset", t.dataset_card, t.dataset) if t.dataset_card else t.dataset
    return Facts.of(
        row("Dataset", dataset),
        row("Tokens processed", f"{token_label(t.tokens)} ({t.tokens:,})"),
        row("Batch size", t.batch_size),
        row("Context size", t.context_size),
        row("Learning rate", t.learning_rate),
        row("L1 coefficient", t.l1_coefficient),
        row("Epochs", t.epochs),
    )


def _performance(card: DerivedCard) -> Facts:
    p = card.performance
    rate = p.feature_activation_rate
    return Facts.of(
        row("Final loss", p.final_loss),
        row("Feature activation rate", f"{rate * 100:.4g}%" if rate is not None else None),
        *(row(name, value) for name, value in p.metrics.items()),
    )


def _weights(card: DerivedCard) -> Facts | None:
    w = card.weights
    if w is None:
        return None
    lfs = "the folder held an LFS pointer: the weights were not present when the card was imported"
    return Facts.of(
        row("File", text(w.file, "code")),
        row("Size", f"{w.size_bytes:,} bytes" if w.size_bytes is not None else None),
        row("SHA-256", text(w.sha256, "code")),
        row("Git LFS", lfs if w.lfs_pointer else None),
        row("Location", w.location),
    )


def notes(card: DerivedCard) -> tuple[Value, ...]:
    """One line under the summary saying what the model is."""
    if isinstance(card, SAECard):
        return (
            (
                Span(f"Sparse autoencoder on {card.base_model.name}, layer "),
                Span(card.sae.layer, "code"),
                Span("."),
            ),
        )
    assert isinstance(card, FineTunedCard)
    domain = card.domain_description or card.domain
    return ((Span(f"{card.base_model.name} fine-tuned for the {domain} domain."),),)

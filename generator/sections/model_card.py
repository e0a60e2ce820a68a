"""A model card's sections: those of the code-walkthrough template (seed 000), in its order, each shown
even when the card leaves it empty; then the sections beyond the template, each only when the card
fills it (evaluation, deployment, usage, fine-tuning, selection, the smoke test, the caveats)."""

from __future__ import annotations

from generator.facts import CardFacts
from generator.layout import Layout
from generator.schema import TEMPLATE_SECTIONS, ModelCard
from generator.schema.labels import (
    context_label,
    family_label,
    hub_url,
    layer_words,
    modality_label,
    pooling_words,
    rc_words,
    tokenizer_words,
)
from generator.schema.model_card import Architecture, Checkpoint, ModalitySpec, Tokenization
from generator.sections import common
from generator.sections.model import (
    Block,
    Bullets,
    Callout,
    Code,
    Facts,
    Line,
    Prose,
    Row,
    Section,
    Span,
    Table,
    Value,
    join,
    row,
    section,
    text,
)

KICKER = "Code walkthrough"


def template_section(key: str, *blocks: Block | None) -> Section | None:
    """A section of the card template: its title from `TEMPLATE_SECTIONS`, shown even when empty."""
    title = TEMPLATE_SECTIONS[key].title
    return section(common.anchor(title), title, *blocks, template=True)


def sections(card: ModelCard, facts: CardFacts) -> list[Section | None]:
    return [
        common.metadata(card, facts, *metadata_rows(card)),
        template_section(
            "purpose",
            Prose(text=card.purpose.summary),
            common.bullets(card.purpose.intended_tasks, "Intended tasks"),
            common.bullets(card.purpose.intended_datasets, "Intended datasets"),
            common.bullets(card.purpose.use_cases, "Use cases"),
            common.bullets(card.purpose.out_of_scope, "Out of scope"),
        ),
        template_section("architecture", *architecture(card.architecture)),
        template_section("tokenization", *tokenization(card.tokenization)),
        template_section("pooling", *pooling(card)),
        template_section("training", *training(card, facts)),
        common.walkthrough(card, facts),
        template_section("integration", *integration(card, facts)),
        template_section(
            "strengths",
            common.bullets(card.strengths, "Strengths"),
            common.bullets(card.limitations, "Limitations"),
        ),
        common.citations(card),
        template_section("links", links(card, facts)),
        common.related(facts),
        *beyond_the_template(card, facts),
    ]


def metadata_rows(card: ModelCard) -> tuple[list[Row | None], list[Row | None]]:
    """The model's own metadata rows: those before its repository and license, and those after."""
    hubs = [Span(c.hub_id, "code", href=hub_url(c.hub_id, c.revision)) for c in card.checkpoints if c.hub_id]
    lead = [
        row("Also known as", card.alias),
        row("Modality", modality_label(card.modality)),
        row("Version", card.version),
    ]
    return lead, [
        row("Model hub", join(hubs)),
        row("Developers", ", ".join(card.developers)),
        row("Contact", card.contact),
    ]


def architecture(a: Architecture) -> list[Block | None]:
    return [
        Facts.of(
            row("Type", a.model_type),
            row("Family", family_label(a.family) if a.family else None),
            row("Backbone", a.backbone),
            row("Objective", a.objective),
            row("Parameters", a.parameters),
            row("Layers", a.layers),
            row("Hidden size", a.hidden_size),
            row("Attention heads", a.attention_heads),
            row("Feed-forward size", a.ffn_size),
            row("Embedding dimension", a.embedding_dim),
            row("Positional encoding", a.positional_encoding),
        ),
        common.bullets(a.notable_blocks, "Notable blocks"),
        common.bullets(a.modality_design, "Modality-specific design"),
        common.bullets(a.inductive_biases, "Inductive biases"),
        Table(
            ("Variant", "How it differs"),
            tuple((text(v.name), text(v.description, "markdown")) for v in a.variants),
            (30, 70),
            label="Variants",
        ),
    ]


def tokenization(t: Tokenization | None) -> list[Block | None]:
    if t is None:
        return []
    return [
        Facts.of(
            row("Tokenizer", tokenizer_words(t.kind, t.k)),
            row("Vocabulary", t.vocab_size),
            row("Patch", t.patch),
            row("Context", context_label(t)),
        ),
        common.bullets(t.preprocessing, "Required preprocessing"),
        common.bullets(t.quirks, "Quirks"),
        _modalities("Inputs", t.inputs),
        _modalities("Outputs", t.outputs),
    ]


def _modalities(label: str, specs: list[ModalitySpec]) -> Table:
    rows = tuple(
        (text(s.name), text(s.format), text(s.dimensions), text("; ".join(s.preprocessing), "markdown"))
        for s in specs
    )
    return Table(("Modality", "Format", "Dimensions", "Processing"), rows, (16, 22, 30, 32), label=label)


def pooling(card: ModelCard) -> list[Block | None]:
    pl = card.pooling
    return [
        Facts.of(
            row("Strategy", pooling_words(pl.strategy, pl.hub_tokens)),
            row("Hidden layer", layer_words(pl.layer)),
            row(
                "Reverse complement",
                rc_words(pl.reverse_complement) if pl.reverse_complement != "none" else None,
            ),
            row("Aggregation", " → ".join(pl.aggregation)),
        ),
        Prose(text=pl.notes),
        Prose(text=pl.aggregation_notes),
    ]


def training(card: ModelCard, facts: CardFacts) -> list[Block | None]:
    tr = card.training
    h, e = tr.hyperparameters, tr.environment
    sources = tuple(
        (
            common.card_ref(facts, "dataset", s.dataset, s.name) if s.dataset else text(s.name),
            text(s.samples),
            text(s.tokens),
            text(s.description, "markdown"),
        )
        for s in tr.sources
    )
    return [
        Table(
            ("Data set", "Samples", "Tokens", "Description"), sources, (26, 18, 16, 40), label="Data sources"
        ),
        Facts.of(
            row("Split", text(tr.split, "markdown")),
            row("Augmentation", text(tr.augmentation, "markdown")),
            row("Learning rate", h.learning_rate if h else None),
            row("Batch size", h.batch_size if h else None),
            row("Optimizer", h.optimizer if h else None),
            row("Loss", h.loss if h else None),
            row("Schedule", h.schedule if h else None),
            row("Hardware", e.hardware if e else None),
            row("Framework", e.framework if e else None),
            row("Parallelism", e.distributed if e else None),
        ),
        common.bullets(tr.preprocessing, "Preprocessing assumptions"),
        *checkpoints(card.checkpoints, facts),
    ]


def checkpoints(items: list[Checkpoint], facts: CardFacts) -> list[Block | None]:
    if not items or facts.repo is None:
        return []
    rows = []
    for c, folder in zip(items, facts.checkpoints, strict=True):
        source: list[Value] = []
        if c.hub_id:
            hub = Span(c.hub_id, "code", href=hub_url(c.hub_id, c.revision))
            source.append((hub, Span(" at revision "), Span(c.revision, "code")) if c.revision else (hub,))
        if c.url and (not c.hub_id or str(c.url) != hub_url(c.hub_id)):
            source.append((Span(str(c.url), href=str(c.url)),))
        name = join([text(c.name), text(c.notes, "markdown")], ": ")
        rows.append((name, text(folder, "path"), join(source, "; "), text(c.size)))
    where = (Span("Place them under "), Span(facts.repo.checkpoints_dir + "/", "path"), Span("."))
    return [
        Table(("Checkpoint", "Folder", "Source", "Size"), tuple(rows), (24, 30, 32, 14), label="Checkpoints"),
        Line(where),
    ]


def integration(card: ModelCard, facts: CardFacts) -> list[Block | None]:
    ig, pj = card.integration, card.integration.projector
    pipeline = (
        f"Linear({pj.in_dim} → {pj.hidden_dim}) → GELU → Dropout({pj.dropout}) → "
        f"Linear({pj.hidden_dim} → {pj.out_dim}) → LayerNorm({pj.out_dim})"
    )
    return [
        Line(text(pipeline), label="512-D projector"),
        Facts.of(
            row("in_dim", pj.in_dim),
            row("hidden_dim", pj.hidden_dim),
            row("out_dim", pj.out_dim),
            row("dropout", pj.dropout),
            row("Integration strategy", common.card_ref(facts, "integration", ig.strategy)),
        ),
        Prose(text=ig.fitting, label="Fold-aware fitting"),
        common.bullets(ig.late_fusion, "Late-fusion guidance"),
        common.bullets(ig.attribution, "Attribution tips"),
    ]


def links(card: ModelCard, facts: CardFacts) -> Facts:
    ln = card.links

    def url(label: str, href: object) -> tuple[str, Value]:
        return label, (Span(str(href), href=str(href)),) if href else ()

    pairs = [
        ("Repository", common.repository(facts)),
        ("Pinned commit", common.pin(facts)),
        url("Documentation", ln.docs),
        url("Issue tracker", ln.issues),
        url("Model hub", ln.hub),
        url("Paper", ln.paper),
        *(url(o.title, o.url) for o in ln.other),
    ]
    return Facts.of(*(row(label, v) for label, v in pairs))


def beyond_the_template(card: ModelCard, facts: CardFacts) -> list[Section | None]:
    """The sections the template does not have, each only when the card fills it."""
    ev, dp, ft, sel = card.evaluation, card.deployment, card.fine_tuning, card.selection
    metric_rows = [
        tuple((text(m.name), text(m.value), text(m.benchmark)) for m in metrics)
        for metrics in (ev.primary_metrics, ev.secondary_metrics)
    ]
    zero_shot = {
        "cosine-distance": "cosine distance of embeddings",
        "log-likelihood-ratio": "log-likelihood ratio",
    }
    return [
        section(
            "evaluation",
            "Evaluation",
            Facts.of(row("Zero-shot scoring", zero_shot.get(ev.zero_shot_method or "", ev.zero_shot_method))),
            Table(("Metric", "Value", "Benchmark"), metric_rows[0], (40, 20, 40), label="Primary metrics"),
            Table(("Metric", "Value", "Benchmark"), metric_rows[1], (40, 20, 40), label="Secondary metrics"),
        ),
        section(
            "deployment",
            "Deployment",
            Facts.of(
                row("Inference memory", dp.vram_inference),
                row("Needs CUDA", "yes" if dp.requires_cuda else None),
            ),
            common.bullets(dp.quantization, "Inference optimisations"),
            common.bullets(dp.platforms, "Platforms"),
            common.bullets(dp.scaling, "Scaling"),
        ),
        section(
            "usage-examples",
            "Usage Examples",
            *(Code(source=ex.code.source, language=ex.code.language, label=ex.title) for ex in card.usage),
        ),
        section(
            "fine-tuning",
            "Fine-Tuning",
            Facts.of(
                row("LoRA rank", ft.lora.r if ft.lora else None),
                row("LoRA alpha", ft.lora.alpha if ft.lora else None),
                row("Target modules", text(", ".join(ft.lora.target_modules), "code") if ft.lora else None),
            ),
            *(Code(source=ex.code.source, language=ex.code.language, label=ex.title) for ex in ft.examples),
        ),
        section(
            "model-selection",
            "Model Selection",
            common.bullets(sel.best_for, "A good first choice for", markdown=False),
            common.bullets(sel.avoid_for, "Pick another model for", markdown=False),
            # Page only: a link inside the site, which a printed copy cannot follow.
            _guide(facts) if sel.best_for or sel.avoid_for else None,
        ),
        common.smoke(card, facts),
        caveats(card),
    ]


def _guide(facts: CardFacts) -> Line:
    guide = Span("model-selection guide", site=common.site_link(facts, Layout.CATALOG_PAGES["selection"]))
    return Line((Span("Compare the models in the "), guide, Span(".")), only="page")


def caveats(card: ModelCard) -> Section | None:
    if not (card.unverified or card.discrepancies):
        return None
    table = Table(
        ("Figure", "Source", "Stated there", "Upstream (used here)"),
        tuple((text(d.field), text(d.source), text(d.stated), text(d.upstream)) for d in card.discrepancies),
        (22, 26, 26, 26),
        label="Figures stated elsewhere that differ from upstream (this card uses the upstream figure)",
    )
    unverified = Bullets.of(card.unverified, "These facts could not be confirmed from an upstream source")
    callout = Callout.of("warning", "Unverified facts and discrepancies", unverified, table)
    return section("unverified-facts-and-discrepancies", "Unverified Facts & Discrepancies", callout)


def notes(card: ModelCard) -> tuple[Value, ...]:
    """What to check before use, under the summary, when the card lists unverified facts or
    discrepancies."""
    n_u, n_d = len(card.unverified), len(card.discrepancies)
    if not (n_u or n_d):
        return ()
    parts = []
    if n_u:
        parts.append(f"{n_u} unverified fact{'s' if n_u != 1 else ''}")
    if n_d:
        parts.append(f"{n_d} figure{'s' if n_d != 1 else ''} stated differently elsewhere")
    where = Span("listed at the end", href="#unverified-facts-and-discrepancies")
    return ((Span("Check before use:", "strong"), Span(" " + " and ".join(parts) + ", "), where, Span(".")),)

"""Sections and rows every kind that has a feature shows alike, chosen by the mixins of its schema
(`HasRepo`, `HasLicense`, `HasWalkthrough`, `HasSmokeTest`, `HasCitations`), never by its class."""

from __future__ import annotations

import re

from generator.facts import CardFacts, RelatedCard
from generator.layout import Layout
from generator.schema import CARD_KINDS, Card, ModelCard
from generator.schema.card import HasCitations, HasLicense, HasRepo, HasSmokeTest, HasWalkthrough
from generator.schema.common import Citation as CardCitation
from generator.schema.labels import (
    license_words,
    loader_words,
    smoke_input_words,
)
from generator.sections.model import (
    Bullets,
    Callout,
    CalloutStyle,
    Code,
    Facts,
    Line,
    Paper,
    Papers,
    Prose,
    Row,
    Section,
    Span,
    Step,
    Steps,
    Value,
    join,
    row,
    section,
    text,
)

# -- values -------------------------------------------------------------------------------------------


def site_link(facts: CardFacts, page: str) -> str:
    """A link from the card's page to another page of the site (docs_dir-relative)."""
    return Layout.relative(facts.page, page)


def card_ref(facts: CardFacts, kind: str, card_id: str | None, name: str | None = None) -> Value:
    """Another card, by name: linked on the page, with its file beside it where links cannot go. An id
    that names no card shows as the id."""
    if not card_id:
        return ()
    found = next((r for r in facts.related if r.kind == kind and r.id == card_id), None)
    if found is None:
        return (Span(name or card_id, "text" if name else "code"),)
    return (_ref(facts, found, name),)


def _ref(facts: CardFacts, r: RelatedCard, name: str | None = None) -> Span:
    return Span(name or r.name, site=site_link(facts, r.page), file=r.rel)


def repository(facts: CardFacts) -> Value:
    """The upstream repository: a link when it is on the web, else its URL as code."""
    repo = facts.repo
    if repo is None:
        return ()
    return (Span(repo.url, href=repo.web_url),) if repo.web_url else (Span(repo.url, "code"),)


def pin(facts: CardFacts, words: str | None = None) -> Value:
    """The pinned commit (`0123abc (v1.0)`, or `words`), linked to it on the forge."""
    repo = facts.repo
    if repo is None:
        return ()
    label = words or repo.pin_label
    return (Span(label, href=repo.commit_url),) if repo.commit_url else (Span(label, "code"),)


def license_value(facts: CardFacts) -> Value:
    """The license in words, and a badge when the settings' license policy flags it."""
    spans = [Span(license_words(facts.license_label))]
    if facts.license_flags:
        spans.append(Span(f"⚠ flagged by the license policy: {', '.join(facts.license_flags)}", "flag"))
    return tuple(spans)


def card_file(facts: CardFacts) -> Value:
    """The card's YAML: linked as published with the site (page), or on the forge; then its edit link
    and the day it last changed."""
    kind = CARD_KINDS[facts.kind]
    spans = [
        Span(
            facts.rel,
            "code",
            href=facts.source_url,
            site=site_link(facts, Layout.card_file_path(kind, facts.id)),
        )
    ]
    if facts.edit_url:  # page only: a reader edits the card on the web, not from a printed copy
        spans += [Span(" · ", only="page"), Span("edit this page", href=facts.edit_url, only="page")]
    if facts.updated:
        spans.append(Span(f" · last updated {facts.updated}"))
    return tuple(spans)


def pdf_row(facts: CardFacts) -> Row | None:
    """Where the card's PDF is (the page offers the download instead), for a printed kind."""
    if facts.pdf_artifact is None:
        return None
    site = site_link(facts, Layout.site_pdf_path(facts.id))
    return row("PDF walkthrough", Span(facts.pdf_artifact, "pdf", site=site))


def smoke_row(card: Card, facts: CardFacts) -> Row | None:
    """The smoke test's state in a line: `passed, 2026-11-20, on cpu` (`passed, not verified, ...` for a
    pass no allowed signer vouches for)."""
    if not isinstance(card, HasSmokeTest) or facts.smoke is None:
        return None
    status = facts.smoke
    if card.smoke_test is None and status.state == "not run":
        return row("Smoke test", "not declared")
    day = status.date[:10] if status.date else None
    parts = [status.label, day, f"on {status.device}" if status.device else None, status.kernels]
    return row("Smoke test", ", ".join(p for p in parts if p))


def trait_rows(card: Card, facts: CardFacts) -> list[Row | None]:
    """The metadata rows every kind gets from its features: repository and pin, license, card file,
    PDF and smoke test."""
    rows: list[Row | None] = []
    if isinstance(card, HasRepo) and facts.repo is not None:
        rows += [
            row("Repository", repository(facts)),
            row("Tag / commit", pin(facts, facts.repo.pinned)),
            row("Commit", text(facts.repo.commit, "code")),
        ]
    if isinstance(card, HasLicense):
        rows.append(row("License", license_value(facts)))
    rows += [
        row("Paper", text(paper_url(card), href=paper_url(card))),
        row("Card YAML", card_file(facts)),
        pdf_row(facts),
        smoke_row(card, facts),
    ]
    return rows


def paper_url(card: Card) -> str | None:
    """The paper's landing page: the card's `links.paper`, else its first citation's DOI, arXiv or URL."""
    if isinstance(card, ModelCard) and card.links.paper:
        return str(card.links.paper)
    for c in card.citations if isinstance(card, HasCitations) else []:
        if c.doi or c.arxiv or c.url:
            return doi_url(c.doi) if c.doi else arxiv_url(c.arxiv) if c.arxiv else str(c.url)
    return None


def doi_url(doi: str) -> str:
    return f"https://doi.org/{doi}"


def arxiv_url(arxiv: str) -> str:
    return f"https://arxiv.org/abs/{arxiv}"


# -- sections -----------------------------------------------------------------------------------------


def anchor(title: str) -> str:
    """The anchor MkDocs' table of contents gives a heading (`Purpose & Scope` -> `purpose-scope`),
    used by the page and the PDF alike."""
    words = re.sub(r"[^\w\s-]", "", title.lower()).strip()
    return re.sub(r"[-\s]+", "-", words)


def metadata(
    card: Card, facts: CardFacts, lead: list[Row | None] | None = None, tail: list[Row | None] | None = None
) -> Section | None:
    """The Metadata section (the PDF's cover), in the order of seed 000's: the kind's leading rows (what
    the card is), the rows of its features (repository, pin, license, card file, PDF, smoke test), the
    kind's trailing rows, then the license note."""
    return section(
        "metadata",
        "Metadata",
        Facts.of(*(lead or []), *trait_rows(card, facts), *(tail or [])),
        license_callout(card, facts),
        template=True,
    )


def license_callout(card: Card, facts: CardFacts) -> Callout | None:
    """The license sentence every page and PDF carries (seed 000's reminder), and the card's notes on
    its license."""
    if not isinstance(card, (HasRepo, HasLicense)):
        return None
    notes = card.license_notes if isinstance(card, ModelCard) else ""
    style: CalloutStyle = "warning" if facts.license_flags else "info"
    return Callout.of(style, "License", Line(text(facts.license_note)), Prose(text=str(notes or "")))


def citations(card: Card, *, template: bool = True) -> Section | None:
    if not isinstance(card, HasCitations):
        return None
    return section(
        "citations", "Citations", Papers(tuple(paper(c) for c in card.citations)), template=template
    )


def paper(c: CardCitation) -> Paper:
    return Paper(
        title=c.title,
        authors=", ".join(c.authors),
        venue=c.venue or None,
        year=c.year,
        doi=c.doi,
        doi_url=doi_url(c.doi) if c.doi else None,
        arxiv=c.arxiv,
        arxiv_url=arxiv_url(c.arxiv) if c.arxiv else None,
        url=str(c.url) if c.url else None,
        bibtex=bibtex(c),
    )


def bibtex(c: CardCitation) -> str:
    """The citation's own BibTeX entry, or one built from its fields."""
    if c.bibtex:
        return str(c.bibtex).strip()
    first = c.authors[0].split(",")[0].split()[-1] if c.authors and c.authors[0].split() else "anon"
    word = next((w for w in re.findall(r"[A-Za-z0-9]+", c.title) if len(w) > 3), "work")
    key = re.sub(r"[^a-z0-9]", "", f"{first}{c.year or ''}{word}".lower()) or "ref"
    fields = [("title", c.title)]
    if c.authors:
        fields.append(("author", " and ".join(c.authors)))
    if c.year:
        fields.append(("year", str(c.year)))
    if c.venue:
        fields.append(("journal", c.venue))
    if c.doi:
        fields.append(("doi", c.doi))
    if c.arxiv:
        fields += [("eprint", c.arxiv), ("archivePrefix", "arXiv")]
    if c.url:
        fields.append(("url", str(c.url)))
    kind = "article" if c.venue else "misc"
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
    return f"@{kind}{{{key},\n{body}\n}}"


def related(facts: CardFacts) -> Section | None:
    """Related cards (either direction), one row per kind, in the kinds' declared order."""
    order = list(CARD_KINDS)
    groups: dict[str, list[Span]] = {}
    for r in sorted(facts.related, key=lambda r: order.index(r.kind) if r.kind in order else len(order)):
        groups.setdefault(r.kind_title, []).append(_ref(facts, r))
    rows = [row(title, join(spans)) for title, spans in groups.items()]
    return section(
        "related-cards", "Related Cards", Facts.of(*rows), template=True, empty="No related cards yet."
    )


def walkthrough(card: Card, facts: CardFacts) -> Section | None:
    """The walkthrough's steps, each with its code and the upstream code it cites at the pin."""
    if not isinstance(card, HasWalkthrough):
        return None
    steps = []
    for number, (step, view) in enumerate(zip(card.walkthrough, facts.citations, strict=True), 1):
        code = Code(source=step.code.source, language=step.code.language) if step.code else None
        stage = step.stage if step.stage != "other" else None
        steps.append(Step(number, step.title, stage, step.prose, code, view))
    return section("walkthrough", "Walkthrough", Steps(tuple(steps), pin(facts)), template=True)


SMOKE_STYLES: dict[str, CalloutStyle] = {
    "passed": "success",
    "passed, not verified": "warning",
    "failed": "failure",
    "stale": "warning",
    "skipped": "warning",
    "not run": "note",
}


def smoke(card: Card, facts: CardFacts) -> Section | None:
    """The embedding smoke test: its outcome (for a pass, who signed its report and when, or why it is
    not verified), and what it loads and feeds."""
    if not isinstance(card, HasSmokeTest) or facts.smoke is None:
        return None
    st, status = card.smoke_test, facts.smoke
    title = "Embedding Smoke Test"
    if st is None and status.state == "not run":
        words = (
            "This card declares no smoke_test section, so its checkpoint is not verified before publishing."
        )
        return section(anchor(title), title, Line(text(words)))
    if status.state == "not run":
        body = Line(
            (
                Span("The embedding smoke test has not run for this card. Run "),
                Span(f"kb smoke {facts.id}", "code"),
                Span(" to load the checkpoint, pool, project to 512-D and check the result."),
            )
        )
    else:
        when = "".join(
            [f" Run on {status.date}" if status.date else "", f" on {status.device}" if status.device else ""]
        )
        signature = f" {status.signature_note}" if status.signature_note else None
        body = Line(
            join(
                [Span(status.summary or "No summary.", "markdown"), when + "." if when else None, signature],
                "",
            )
        )
    setup = Facts.of(
        row("Checkpoint", text(facts.smoke_checkpoint, "path")),
        row("Loader", loader_words(st) if st else None),
        row("Needs CUDA", "yes" if st and st.requires_cuda else None),
        row("Input", smoke_input_words(st.input) if st else None),
    )
    callout = Callout.of(SMOKE_STYLES.get(status.label, "note"), f"Smoke test: {status.label}", body)
    return section(anchor(title), title, callout, setup)


def bullets(items: list[str], label: str, *, markdown: bool = True) -> Bullets:
    return Bullets.of(items, label, style="markdown" if markdown else "text")

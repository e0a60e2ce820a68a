"""The section model's types: a card's view is its sections, each a title, an anchor and blocks of
rows and text whose values are already in a reader's words.

Everything is frozen and picklable (a PDF worker builds its own copy from the card and its facts).
Templates read these objects and only format them: each block says what it is (`block.kind`), each
value is a run of `Span`s that say how they read (`span.style`) and where they point.

The one rule for what is left out lives here: a row, a list item or a block with no value is dropped
(`row`, `Facts`, `Bullets`...), and a section with nothing left is dropped too, unless it is a section
of the kind's card template, which is kept and says that the card does not document it yet
(`section`).

A row, a block or a span meant for one presentation only says so (`only="page"`: the site page and
the exported README, which are both Markdown read on the web; `only="pdf"`: the printed walkthrough).
There are few, each with its reason beside it; `declared_only(view)` lists them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from generator.repos.citations import CitationView

Medium = Literal["page", "pdf"]
"""`page`: the site page and the exported README (Markdown on the web); `pdf`: the printed walkthrough."""

Style = Literal["text", "strong", "markdown", "code", "path", "flag", "pdf"]


@dataclass(frozen=True)
class Span:
    """A piece of a value.

    `style`: `text` (plain text, shown as written), `strong` (the same, in bold), `markdown` (one line
    of a field typed Markdown), `code` (inline code), `path` (a file path, as code that wraps after
    `/`), `flag` (a warning badge), `pdf` (the card's own PDF: its path; the page shows the download
    button instead).
    """

    text: str
    style: Style = "text"
    href: str | None = None
    """An absolute URL the span links to, in every presentation."""
    site: str | None = None
    """A link inside the site, relative to the card's page (another card, a catalog page, the PDF):
    the page links it; the PDF and the README, which cannot follow it, show `file` beside the text."""
    file: str | None = None
    """The project file the span names (another card's YAML), shown by the presentations without the
    site's links."""
    only: Medium | None = None


Value = tuple[Span, ...]
"""One value: a run of spans read as one line."""

Given = Value | Span | str | int | float | None
"""What a row or a list item is given: spans, or a plain value (None, "" and () are no value)."""


def value(given: Given) -> Value:
    """`given` as a run of spans (empty: no value). Numbers are shown as written in the card."""
    if given is None or given == "" or given == ():
        return ()
    if isinstance(given, Span):
        return (given,)
    if isinstance(given, tuple):
        return given
    return (Span(str(given)),)


def join(values: Iterable[Given], sep: str = ", ") -> Value:
    """Values one after another, separated by `sep` (the empty ones left out)."""
    out: list[Span] = []
    for item in values:
        spans = value(item)
        if spans:
            if out:
                out.append(Span(sep))
            out.extend(spans)
    return tuple(out)


def text(given: str | None, style: Style = "text", href: str | None = None) -> Value:
    """One span of `style` (no value when `given` is empty)."""
    return (Span(given, style, href),) if given else ()


@dataclass(frozen=True)
class Row:
    """One fact: a label and its value."""

    label: str
    value: Value
    only: Medium | None = None


def row(label: str, given: Given, only: Medium | None = None) -> Row | None:
    """A row, or None when there is no value (left out)."""
    spans = value(given)
    return Row(label, spans, only) if spans else None


# -- blocks -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """Something a section shows; `kind` tells the templates which."""

    kind: ClassVar[str] = ""
    label: str | None = field(default=None, kw_only=True)
    """A heading of its own inside the section (`Intended tasks`), or None."""
    only: Medium | None = field(default=None, kw_only=True)

    def empty(self) -> bool:
        return False


@dataclass(frozen=True)
class Facts(Block):
    """A table of facts: label, value."""

    kind: ClassVar[str] = "facts"
    rows: tuple[Row, ...] = ()

    @classmethod
    def of(cls, *rows: Row | None, label: str | None = None) -> Facts:
        return cls(tuple(r for r in rows if r is not None), label=label)

    def empty(self) -> bool:
        return not self.rows

    def shown(self, medium: Medium) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.only in (None, medium))


@dataclass(frozen=True)
class Prose(Block):
    """Block Markdown of the card's (a field typed Markdown)."""

    kind: ClassVar[str] = "prose"
    text: str = ""

    def empty(self) -> bool:
        return not self.text.strip()


@dataclass(frozen=True)
class Line(Block):
    """One line of text made of spans."""

    kind: ClassVar[str] = "line"
    value: Value = ()

    def empty(self) -> bool:
        return not self.value


@dataclass(frozen=True)
class Bullets(Block):
    """A list; `ordered` for steps in order."""

    kind: ClassVar[str] = "bullets"
    items: tuple[Value, ...] = ()
    ordered: bool = False

    @classmethod
    def of(
        cls,
        items: Iterable[Given],
        label: str | None = None,
        *,
        style: Style = "markdown",
        ordered: bool = False,
        only: Medium | None = None,
    ) -> Bullets:
        """A list of strings (`style`: how each reads) or of values; the empty ones left out."""
        values = tuple(
            v for v in (value(Span(i, style) if isinstance(i, str) and i else i) for i in items) if v
        )
        return cls(values, ordered, label=label, only=only)

    def empty(self) -> bool:
        return not self.items


@dataclass(frozen=True)
class Table(Block):
    """A table with a header row; `widths` are the columns' shares in percent (print only)."""

    kind: ClassVar[str] = "table"
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[Value, ...], ...] = ()
    widths: tuple[int, ...] = ()

    def empty(self) -> bool:
        return not self.rows


@dataclass(frozen=True)
class Code(Block):
    """A block of code written in the card."""

    kind: ClassVar[str] = "code"
    source: str = ""
    language: str = "text"

    def empty(self) -> bool:
        return not self.source


@dataclass(frozen=True)
class Step:
    """One walkthrough step."""

    number: int
    title: str
    stage: str | None
    prose: str
    code: Code | None
    citation: CitationView | None
    """Upstream code it cites at the pin: its path, lines, permalink and (from the lock file, when it
    holds them) the lines themselves; a page shows the permalink where it has no snippet."""


@dataclass(frozen=True)
class Steps(Block):
    """The walkthrough: numbered steps of prose, code and cited upstream code, at `pin`."""

    kind: ClassVar[str] = "steps"
    steps: tuple[Step, ...] = ()
    pin: Value = ()
    """The commit the citations are pinned at, linked."""

    def empty(self) -> bool:
        return not self.steps


@dataclass(frozen=True)
class Paper:
    """A paper to cite, with its links and its BibTeX (the card's own, or one made from its fields)."""

    title: str
    authors: str
    venue: str | None
    year: int | None
    doi: str | None
    doi_url: str | None
    arxiv: str | None
    arxiv_url: str | None
    url: str | None
    bibtex: str


@dataclass(frozen=True)
class Papers(Block):
    kind: ClassVar[str] = "papers"
    papers: tuple[Paper, ...] = ()

    def empty(self) -> bool:
        return not self.papers


CalloutStyle = Literal["info", "note", "warning", "success", "failure"]


@dataclass(frozen=True)
class Callout(Block):
    """A boxed note (`style` says its tone: a warning, a passed check...), with blocks inside."""

    kind: ClassVar[str] = "callout"
    style: CalloutStyle = "note"
    title: str = ""
    blocks: tuple[Block, ...] = ()

    @classmethod
    def of(cls, style: CalloutStyle, title: str, *blocks: Block | None) -> Callout:
        kept = tuple(b for b in blocks if b is not None and not b.empty())
        return cls(style, title, kept)

    def empty(self) -> bool:
        return not self.blocks

    def shown(self, medium: Medium) -> tuple[Block, ...]:
        return tuple(b for b in self.blocks if b.only in (None, medium))


# -- sections and the whole view ----------------------------------------------------------------------

EMPTY = "Not documented in this card yet."


@dataclass(frozen=True)
class Section:
    """One section: its anchor (`#purpose-scope`, the same on the page and in the PDF), its title and
    its blocks; `empty` is the sentence shown in place of blocks it does not have. A title is always
    the product's words, never card text (that goes into a block's label, which is escaped)."""

    anchor: str
    title: str
    blocks: tuple[Block, ...]
    empty: str | None = None

    def shown(self, medium: Medium) -> tuple[Block, ...]:
        """The blocks `medium` shows (those meant for the other one left out)."""
        return tuple(b for b in self.blocks if b.only in (None, medium))


def section(
    anchor: str, title: str, *blocks: Block | None, template: bool = False, empty: str = EMPTY
) -> Section | None:
    """The one rule: blocks with nothing in them are left out; a section left with no block is left out,
    unless it is a section of the card template (`template`), which then says `empty`."""
    kept = tuple(b for b in blocks if b is not None and not b.empty())
    if not kept and not template:
        return None
    return Section(anchor, title, kept, None if kept else empty)


@dataclass(frozen=True)
class CardView:
    """Everything the page, the PDF and the export show of a card, in order."""

    kind: str
    kicker: str
    """What the document is (`Code walkthrough`, `Sparse autoencoder`): the PDF's cover says it."""
    title: str
    alias: str | None
    summary: str
    """Markdown, one paragraph."""
    notes: tuple[Value, ...]
    """Lines under the summary (what to check before use, what the card is about)."""
    sections: tuple[Section, ...]
    """In the order of the kind's card template; the first is the metadata (the PDF's cover)."""
    description: str = ""
    """One plain sentence about the card (the PDF's subject, for document viewers and search)."""
    authors: tuple[str, ...] = ()
    """Who made what the card describes (the PDF's author)."""

    @property
    def metadata(self) -> Section:
        return self.sections[0]

    @property
    def body(self) -> tuple[Section, ...]:
        """Every section after the metadata (the PDF prints these after its cover)."""
        return self.sections[1:]


def declared_only(view: CardView) -> Iterator[tuple[str, str, Medium]]:
    """(section title, what, medium) of every row, block and span meant for one presentation only."""
    for sec in view.sections:
        for block in sec.blocks:
            yield from _only_in(sec.title, block)


def _only_in(title: str, block: Block) -> Iterator[tuple[str, str, Medium]]:
    if block.only:
        yield title, f"{block.kind} {block.label or ''}".strip(), block.only
    inner: list[tuple[str, Value]] = []
    if isinstance(block, Facts):
        for r in block.rows:
            if r.only:
                yield title, f"row {r.label}", r.only
            inner.append((r.label, r.value))
    elif isinstance(block, Line):
        inner.append((block.label or "line", block.value))
    elif isinstance(block, Callout):
        for b in block.blocks:
            yield from _only_in(title, b)
    for label, spans in inner:
        for s in spans:
            if s.only:
                yield title, f"part of {label}: {s.text!r}", s.only

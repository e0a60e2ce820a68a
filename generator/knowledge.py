"""Loading the knowledge base: every card file read, validated against its schema, cross-checked.

`load_knowledge_base` never raises on card content. It returns the cards that validated and every
problem found, each located by file, line, column and field path.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import stat
import typing
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Generic, TypeGuard, TypeVar

from pydantic import BaseModel, ValidationError

from generator.exceptions import UsageError, ValidationFailed
from generator.layout import Layout
from generator.problems import Problem, Severity
from generator.repos.lockfile import Lock, load_lock
from generator.schema import CARD_KINDS, SCHEMA_VERSION, TEMPLATE_SECTIONS, CardKind, ModelCard
from generator.schema.card import Card, HasLicense, HasSmokeTest
from generator.schema.common import PLACEHOLDER
from generator.schema.derived import FineTunedCard, SAECard, name_disagreements
from generator.schema.sources import field_value
from generator.settings import DEFAULTS, Project
from generator.smoke.report import Report
from generator.yamlio import MAX_BYTES, Document, FieldPath, dotted, read_document

C = TypeVar("C", bound=Card, covariant=True)
T = TypeVar("T", bound=Card)


@dataclass(frozen=True, eq=False)
class LoadedCard(Generic[C]):
    """A validated card with where it came from and its side files, each read once when loading."""

    kind: CardKind
    card: C
    path: Path
    rel: str
    """Path relative to the project root, as shown to users (`kb/model_cards/x.yaml`)."""
    doc: Document
    lock: Lock | None = None
    """The lock file beside the card (`<id>.lock.yaml`, written by `kb repos sync`), None when absent."""
    smoke: Report | None = None
    """The card's smoke report (`artifacts/smoke/<id>.json`, written by `kb smoke`), None when the card
    has no smoke test, the test never ran or the file is not a report (a warning then says so)."""

    @property
    def id(self) -> str:
        return str(self.card.id)

    @cached_property
    def refs(self) -> list[tuple[str, str, FieldPath]]:
        """(kind, id, field path) of every card this card points at."""
        return list(references(self.kind.name, self.doc.data))


DEFAULT_MISSING = "no {kind} card '{id}' in {folder}/{hint}"
"""How `KnowledgeBase.select` words an unknown id (fields: kind, id, ids, folder, kb, known, hint)."""


@dataclass
class KnowledgeBase:
    """All valid cards, by kind and id, with cross-references resolved both ways, and the problems
    found while loading them (the cards that failed validation are only in `problems`)."""

    root: Path
    cards: dict[str, dict[str, LoadedCard[Card]]] = field(default_factory=dict)
    files_checked: int = 0
    """How many card files were read (valid or not)."""
    problems: list[Problem] = field(default_factory=list)
    """Every problem found while loading, valid cards' warnings included."""
    kb_dir: Path | None = None
    """The folder the cards were loaded from (default: `kb/` under the root)."""
    _index: tuple[tuple[tuple[object, ...], ...], dict[tuple[str, str], list[LoadedCard[Card]]]] | None = (
        field(default=None, init=False, repr=False, compare=False)
    )

    def of_kind(self, kind: str) -> list[LoadedCard[Card]]:
        return sorted(self.cards.get(kind, {}).values(), key=lambda c: c.id)

    def of_type(self, model: type[T]) -> list[LoadedCard[T]]:
        """The cards whose schema is `model` (or a subclass of it), typed as such."""
        return [c for kind in CARD_KINDS for c in self.of_kind(kind) if _is(c, model)]

    @property
    def models(self) -> list[LoadedCard[ModelCard]]:
        return self.of_type(ModelCard)

    def get(self, kind: str, card_id: str) -> LoadedCard[Card] | None:
        return self.cards.get(kind, {}).get(card_id)

    def all(self) -> Iterator[LoadedCard[Card]]:
        for kind in CARD_KINDS:
            yield from self.of_kind(kind)

    def referrers(self, kind: str, card_id: str) -> list[LoadedCard[Card]]:
        """Cards that point at (kind, id): the other half of "linked both ways"."""
        return list(self._pointed_at().get((kind, card_id), ()))

    def _pointed_at(self) -> dict[tuple[str, str], list[LoadedCard[Card]]]:
        """(kind, id) -> the cards pointing at it, in `all()` order; made once for the cards as they
        are (again when a card was added, removed or replaced), not one pass over every card per card."""
        shape = tuple((kind, *map(id, cards.values())) for kind, cards in self.cards.items())
        if self._index is None or self._index[0] != shape:
            index: dict[tuple[str, str], list[LoadedCard[Card]]] = {}
            for card in self.all():
                for target in dict.fromkeys((k, i) for k, i, _ in card.refs):
                    index.setdefault(target, []).append(card)
            self._index = (shape, index)
        return self._index[1]

    def related(self, loaded: LoadedCard[Card]) -> dict[str, list[LoadedCard[Card]]]:
        """Every card related to this one in either direction, by kind, without duplicates."""
        out: dict[str, dict[str, LoadedCard[Card]]] = {}
        for kind, card_id, _ in loaded.refs:
            target = self.get(kind, card_id)
            if target is not None and target is not loaded:
                out.setdefault(kind, {})[card_id] = target
        for other in self.referrers(loaded.kind.name, loaded.id):
            if other is not loaded:
                out.setdefault(other.kind.name, {})[other.id] = other
        return {k: sorted(v.values(), key=lambda c: c.id) for k, v in out.items()}

    def invalid(self, kinds: Sequence[str] = tuple(CARD_KINDS)) -> dict[str, list[Problem]]:
        """Card files of `kinds` that did not validate: id (the file's stem) -> their errors."""
        valid = {c.rel for c in self.all()}
        folders = {CARD_KINDS[k].folder for k in kinds}
        out: dict[str, list[Problem]] = {}
        for p in self.problems:
            path = Path(p.file)
            if (
                p.is_error
                and p.file not in valid
                and path.suffix == ".yaml"
                and path.parent.name in folders
                and not Layout.is_lock_file(path)
            ):
                out.setdefault(path.stem, []).append(p)
        return out

    def select(
        self,
        kinds: str | Sequence[str],
        ids: Sequence[str] | None,
        *,
        missing: str = DEFAULT_MISSING,
        keep_invalid: bool = False,
    ) -> list[LoadedCard[Card]]:
        """The cards of `kinds` named by `ids` in the order given (every card of those kinds when `ids`
        is empty), for every command that takes card ids.

        A named card whose file did not validate raises `ValidationFailed` with that card's own
        problems (with `keep_invalid` it is left out, for the caller to report). Unknown ids raise a
        `UsageError` worded by `missing`, with a "did you mean" hint.
        """
        kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
        pool = {c.id: c for kind in kinds for c in self.of_kind(kind)}
        if not ids:
            return list(pool.values())
        invalid = self.invalid(kinds)
        selected, unknown = [], []
        for card_id in dict.fromkeys(ids):
            if card_id in pool:
                selected.append(pool[card_id])
            elif card_id in invalid:
                if not keep_invalid:
                    raise ValidationFailed(invalid[card_id])
            else:
                unknown.append(card_id)
        if unknown:
            raise UsageError(self._missing(kinds, unknown, sorted(set(pool) | set(invalid)), missing))
        return selected

    def _missing(self, kinds: tuple[str, ...], unknown: list[str], known: list[str], template: str) -> str:
        close = difflib.get_close_matches(unknown[0], known, n=1, cutoff=0.6)
        kb_dir = self.kb_dir or self.root / DEFAULTS.kb_dir
        return template.format(
            kind=kinds[0],
            id=unknown[0],
            ids=", ".join(unknown),
            kb=_rel(kb_dir, self.root),
            folder=_rel(kb_dir / CARD_KINDS[kinds[0]].folder, self.root),
            known=", ".join(known) or "none",
            hint=f" (did you mean '{close[0]}'?)" if close else "",
        )


def _is(loaded: LoadedCard[Card], model: type[T]) -> TypeGuard[LoadedCard[T]]:
    return isinstance(loaded.card, model)


def narrow(loaded: LoadedCard[Card], model: type[T]) -> LoadedCard[T] | None:
    """The same loaded card typed by its schema, or None when its card is not a `model`."""
    return loaded if _is(loaded, model) else None


def references(kind: str, data: Any) -> Iterator[tuple[str, str, FieldPath]]:
    """(target kind, id, field path) of every reference in a card's raw data, valid or not (the fields
    are the kind's declared `refs`)."""
    for pattern, target in CARD_KINDS[kind].refs:
        for loc, value in _walk(data, pattern, ()):
            if isinstance(value, str):
                yield target, value, loc


def _walk(data: Any, pattern: tuple[str, ...], loc: FieldPath) -> Iterator[tuple[FieldPath, Any]]:
    if not pattern:
        yield loc, data
        return
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        if isinstance(data, list):
            for i, item in enumerate(data):
                yield from _walk(item, rest, (*loc, i))
    elif isinstance(data, dict) and head in data:
        yield from _walk(data[head], rest, (*loc, head))


def card_files(kb_dir: Path) -> Iterator[tuple[CardKind, Path]]:
    """Every card file under `kb/`, by kind, in a stable order."""
    for kind in CARD_KINDS.values():
        folder = kb_dir / kind.folder
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                if not Layout.is_lock_file(path):
                    yield kind, path


def kind_of(path: Path) -> CardKind | None:
    folder = Path(os.path.abspath(path)).parent.resolve().name
    return next((k for k in CARD_KINDS.values() if k.folder == folder), None)


_Loaded = tuple["LoadedCard[Card] | None", Document, list[Problem]]
"""What loading one card file gives: the card (None when it is invalid), its document, its problems."""


class CardCache:
    """What `load_knowledge_base` made of each card file, kept by a long-lived process (`mkdocs serve`)
    and reused while the file and its side files (lock file, smoke report) hold the same bytes: saving
    one card re-validates that card only. The cross-card checks run again on every load."""

    def __init__(self) -> None:
        self._entries: dict[Path, tuple[tuple[bytes | None, ...], _Loaded]] = {}

    @staticmethod
    def _inputs(path: Path, smoke_dir: Path) -> tuple[bytes | None, ...] | None:
        """The bytes the card's load reads (None where a file is absent); None when one of them is not a
        plain small file (the loader then reads it itself and says what is wrong)."""
        out: list[bytes | None] = []
        for file in (path, Layout.lock_file(path), Layout.smoke_report_in(smoke_dir, path.stem)):
            try:
                st = file.stat()
            except OSError:
                out.append(None)
                continue
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_BYTES:
                return None
            try:
                out.append(file.read_bytes())
            except OSError:
                return None
        return tuple(out)

    def load(self, kind: CardKind, path: Path, root: Path, smoke_dir: Path) -> _Loaded:
        inputs = self._inputs(path, smoke_dir)
        hit = self._entries.get(path)
        if inputs is not None and hit is not None and hit[0] == inputs:
            return hit[1]
        loaded = _load_card(kind, path, root, smoke_dir)
        if inputs is not None:
            self._entries[path] = (inputs, loaded)
        return loaded


def load_knowledge_base(
    root: Path,
    paths: Iterable[Path] | None = None,
    kb_dir: Path | None = None,
    smoke_dir: Path | None = None,
    *,
    cache: CardCache | None = None,
) -> tuple[KnowledgeBase, list[Problem]]:
    """Load and validate cards (all under `kb_dir`, or just `paths`): the valid ones and all problems.

    Each valid card's side files are read once here: its lock file and, for a card with a smoke test,
    its smoke report from `smoke_dir` (`Project.smoke_dir`; default `artifacts/smoke/` under the root).
    With a `cache`, a card whose files are unchanged since the last load through it is not read again.
    """
    root = root.resolve()
    kb_dir = (kb_dir or root / DEFAULTS.kb_dir).resolve()
    smoke_dir = smoke_dir or Project(root, DEFAULTS, {}).layout.smoke_dir
    kb = KnowledgeBase(root, kb_dir=kb_dir)
    problems: list[Problem] = []
    files = list(card_files(kb_dir)) if paths is None else _named_files(paths, root, problems)
    kb.files_checked = len(files)
    docs: list[tuple[CardKind, Document]] = []
    for kind, path in files:
        try:
            loaded, doc, found = (
                cache.load(kind, path, root, smoke_dir) if cache else _load_card(kind, path, root, smoke_dir)
            )
        except Exception as exc:  # no card content may end in a traceback: report it, located
            loaded, doc, found = None, None, [_unexpected(path, root, exc)]
        problems.extend(found)
        if loaded is not None:
            kb.cards.setdefault(kind.name, {})[loaded.id] = loaded
        if doc is not None and isinstance(doc.data, dict):
            docs.append((kind, doc))
    # References resolve against every card file of the knowledge base, even when checking a few.
    known: dict[str, set[str]] = {}
    for kind, path in [*card_files(kb_dir), *files]:
        known.setdefault(kind.name, set()).add(path.stem)
    problems.extend(_cross_check(docs, known))
    problems = [_with_related_hint(p, known) for p in problems]
    kb.problems = problems
    return kb, problems


def _unexpected(path: Path, root: Path, exc: Exception) -> Problem:
    """A card whose checking raised: an error of that card (the others are still checked), never a
    traceback. The product has a bug here; the message says so without blaming the card."""
    return Problem(
        _rel(path, root),
        f"this card could not be checked: {type(exc).__name__}: {exc}",
        line=1,
        col=1,
        hint="the other cards were checked; report this card's file as a bug of foundation-model-kb "
        "(see SECURITY.md if it looks like an attack)",
    )


def _named_files(paths: Iterable[Path], root: Path, problems: list[Problem]) -> list[tuple[CardKind, Path]]:
    """The card files named on the command line, by kind (a file outside the card folders: a problem)."""
    files = []
    for p in paths:
        kind = kind_of(p)
        if kind is None:
            problems.append(
                Problem(
                    _rel(p, root),
                    "not a card folder: cards live in kb/"
                    + ", kb/".join(k.folder for k in CARD_KINDS.values()),
                )
            )
            continue
        files.append((kind, p))
    return files


RELATED_EMPTY = f"the template section '{TEMPLATE_SECTIONS['related'].title}' is empty"
RELATED_KINDS = {"datasets": "dataset", "integrations": "integration", "recipes": "recipe", "models": "model"}
"""Keys of a model card's `related` -> the card kind whose ids they take."""


def related_ids_hint(known: dict[str, set[str]]) -> str:
    """Which ids `related` accepts, from the cards that exist (a few of each kind)."""
    parts = []
    for key, kind in RELATED_KINDS.items():
        ids = sorted(known.get(kind, set()))
        if ids:
            shown = ", ".join(ids[:4]) + (f" and {len(ids) - 4} more" if len(ids) > 4 else "")
            parts.append(f"{key}: {shown}")
    if not parts:
        return (
            "list the ids of the cards this one relates to, once there are some (kb new --kind dataset <id>)"
        )
    return "list the ids of the cards this one relates to; existing ones: " + "; ".join(parts)


def _with_related_hint(problem: Problem, known: dict[str, set[str]]) -> Problem:
    if problem.message != RELATED_EMPTY:
        return problem
    return dataclasses.replace(problem, hint=related_ids_hint(known))


def _rel(path: Path, root: Path) -> str:
    # The folder is resolved, not the file: a symlinked card is named where it sits (and a link loop
    # cannot raise here; reading it reports it).
    try:
        return str((Path(os.path.abspath(path)).parent.resolve() / path.name).relative_to(root))
    except (ValueError, OSError, RuntimeError):
        return str(path)


def _load_card(kind: CardKind, path: Path, root: Path, smoke_dir: Path) -> _Loaded:
    rel = _rel(path, root)
    # Only files inside the knowledge-base folder they are listed in are read (a symlinked card that
    # resolves elsewhere is refused): kb/<kind>/<file> -> kb/.
    inside = Path(os.path.abspath(path)).parent.parent
    doc = read_document(path, rel, inside=inside)
    card, problems = _validate(kind, path, doc)
    if card is None:
        return None, doc, problems
    lock = load_lock(path, problems, str(Layout.lock_file(Path(rel))))
    smoke = None
    if isinstance(card, HasSmokeTest):
        report = Layout.smoke_report_in(smoke_dir, str(card.id))
        smoke, found = Report.load(smoke_dir, str(card.id), _rel(report, root))
        problems.extend(found)
    loaded: LoadedCard[Card] = LoadedCard(kind, card, path, rel, doc, lock, smoke)
    problems.extend(_card_checks(loaded))
    return loaded, doc, problems + _placeholders(doc, set())


def _validate(kind: CardKind, path: Path, doc: Document) -> tuple[Card | None, list[Problem]]:
    rel = doc.path
    problems = list(doc.problems)
    if doc.data is None:
        return None, problems
    if not isinstance(doc.data, dict):
        problems.append(Problem(rel, "a card must be a YAML mapping of keys to values", line=1, col=1))
        return None, problems
    version = doc.data.get("schema_version")
    if version is None:
        problems.append(
            Problem(
                rel,
                "missing required key 'schema_version'",
                line=1,
                col=1,
                hint=f"add 'schema_version: {SCHEMA_VERSION}' at the top",
            )
        )
        return None, problems
    if isinstance(version, int) and version > SCHEMA_VERSION:
        line, col = doc.locate(("schema_version",))
        problems.append(
            Problem(
                rel,
                f"schema_version {version} is newer than this tool supports ({SCHEMA_VERSION})",
                field="schema_version",
                line=line,
                col=col,
                hint="upgrade foundation-model-kb",
            )
        )
        return None, problems
    try:
        card = kind.model.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(_pydantic_problems(exc, kind.model, doc))
        failed = {p.field for p in problems}
        # The cross-field checks whose fields parsed still run: every error of the card in one run.
        raw_id = doc.data.get("id")
        if isinstance(raw_id, str) and "id" not in failed:
            problems.extend(_id_check(raw_id, path, doc))
        return None, problems + _placeholders(doc, failed)
    return card, problems


# --- pydantic errors, made readable and located -------------------------------------------------


def _pydantic_problems(exc: ValidationError, model: type[BaseModel], doc: Document) -> list[Problem]:
    out = []
    seen: set[tuple[FieldPath, str]] = set()
    for err in exc.errors(include_url=False):
        loc = _data_loc(tuple(err["loc"]), doc.data)
        message, hint = _message(err, model, loc, doc)
        if (loc, message) in seen:
            continue
        seen.add((loc, message))
        target = loc if err["type"] != "missing" else loc[:-1]
        line, col = doc.locate(target)
        out.append(Problem(doc.path, message, field=dotted(loc), line=line, col=col, hint=hint))
    return out


def _data_loc(loc: FieldPath, data: Any) -> FieldPath:
    """Pydantic's error location as a path into the card's data: the parts pydantic adds for a union
    member or a validator (`list[str]`, `function-after[...]`) are dropped, but a key of the card is
    kept whatever it looks like (an unknown key `a[b]` is still the key that is wrong)."""
    out: list[str | int] = []
    for part in loc:
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if in_list or (isinstance(data, dict) and part in data):
            data = data[part]
        elif isinstance(part, str) and ("[" in part or part.startswith("function-")):
            continue  # pydantic's own step, not the card's
        else:
            data = None
        out.append(part)
    return tuple(out)


def _message(err: Any, model: type[BaseModel], loc: FieldPath, doc: Document) -> tuple[str, str]:
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden" and loc:
        key = str(loc[-1])
        allowed = _fields_at(model, loc[:-1])
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = (
            f"did you mean '{close[0]}'?"
            if close
            else ("allowed keys: " + ", ".join(sorted(allowed)) if allowed else "")
        )
        return f"unknown key '{key}'", hint
    if kind == "missing" and loc:
        return f"missing required key '{loc[-1]}'", ""
    if kind in ("value_error", "assertion_error"):
        return str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, "), ""
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        options = [o.strip(" '") for o in expected.replace(" or ", ", ").split(",")]
        close = difflib.get_close_matches(str(value), options, n=1, cutoff=0.5)
        return f"{value!r} is not allowed here; expected {expected}", (
            f"did you mean '{close[0]}'?" if close else ""
        )
    msg = str(err["msg"])
    if kind == "string_type" and isinstance(value, (bool, int, float)):
        what = "true/false" if isinstance(value, bool) else "a number"
        return (
            f"{msg[0].lower()}{msg[1:]}, got {value!r}",
            f"YAML reads this value as {what}: put it in quotes",
        )
    if isinstance(value, (str, int, float, bool)) or value is None:
        return f"{msg[0].lower()}{msg[1:]}, got {value!r}", ""
    return f"{msg[0].lower()}{msg[1:]}, got a {type(value).__name__}", ""


def _fields_at(model: type[BaseModel], loc: FieldPath) -> list[str]:
    """Field names allowed for the mapping at `loc` inside `model` (for "did you mean")."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = [a for a in typing.get_args(current) if a is not type(None)]
            current = args[0] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(part)
            current = info.annotation if info else None
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(tp: Any) -> Any:
    """Strip Optional/Annotated so that the BaseModel or list inside shows."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


# --- checks beyond types ------------------------------------------------------------------------


def _card_checks(loaded: LoadedCard[Card]) -> list[Problem]:
    out: list[Problem] = []
    card, doc = loaded.card, loaded.doc

    def add(loc: FieldPath, message: str, severity: Severity = Severity.ERROR, hint: str = "") -> None:
        line, col = doc.locate(loc)
        out.append(Problem(loaded.rel, message, severity, dotted(loc), line, col, hint))

    out.extend(_id_check(card.id, loaded.path, doc))
    for loc in _license_fields(card):
        raw = _get(doc.data, loc)
        normalised = _get_attr(card, loc)
        if isinstance(raw, str) and normalised and raw != normalised:
            add(
                loc,
                f"license id '{raw}' is deprecated or not in canonical form",
                Severity.WARNING,
                hint=f"write '{normalised}'",
            )
    for key, section in loaded.kind.template_sections.items():
        if all(_is_empty(getattr(card, name)) for name in section.fields):
            add(
                (key,) if key in doc.data else (),
                f"the template section '{section.title}' is empty",
                Severity.WARNING,
                hint="fill it in as the card template shows: kb new <id> writes one",
            )
    if isinstance(card, ModelCard):
        if card.pooling.reverse_complement != "none" and card.modality != "dna":
            add(
                ("pooling", "reverse_complement"),
                f"reverse-complement handling applies to DNA only; this card's modality is {card.modality}",
                Severity.WARNING,
                hint="remove pooling.reverse_complement: pages and PDFs show it for DNA models only",
            )
        for i, source in enumerate(card.sources):
            for j, path in enumerate(source.fields):
                if _is_empty(field_value(card, path)):
                    add(
                        ("sources", i, "fields", j),
                        f"'{path}' names no field of this card that holds a value",
                        hint="name a field the card sets, e.g. architecture.layers or "
                        "training.sources[0].samples",
                    )
    out.extend(_derived_name_checks(loaded))
    return out


def _id_check(card_id: str, path: Path, doc: Document) -> list[Problem]:
    """A card's id equals its file name (read from the validated card, or from the raw data when other
    fields failed but the id itself is fine)."""
    if card_id == path.stem:
        return []
    line, col = doc.locate(("id",))
    return [
        Problem(
            doc.path,
            f"id '{card_id}' does not match the file name '{path.name}'",
            Severity.ERROR,
            "id",
            line,
            col,
            f"rename the file to {card_id}.yaml or set id: {path.stem}",
        )
    ]


def _derived_name_checks(loaded: LoadedCard[Card]) -> list[Problem]:
    """SAE and fine-tuned cards: each part of the seed-003 name must agree with the card's fields."""
    if not isinstance(loaded.card, (SAECard, FineTunedCard)):
        return []
    out = []
    for loc, message, hint in name_disagreements(loaded.card):
        line, col = loaded.doc.locate(loc)
        out.append(Problem(loaded.rel, message, Severity.ERROR, dotted(loc), line, col, hint))
    return out


def _placeholders(doc: Document, reported: set[str]) -> list[Problem]:
    """Leftover template placeholders, except in fields that already have an error."""
    out = []
    for loc, text in _strings(doc.data, ()):
        if "<" not in text and "T" not in text and "FIXME" not in text:
            continue  # cheap test first: most strings cannot hold a placeholder
        m = PLACEHOLDER.search(text)
        if m and dotted(loc) not in reported:
            line, col = doc.locate(loc)
            out.append(
                Problem(
                    doc.path,
                    f"leftover placeholder '{m.group(0)}'",
                    Severity.WARNING,
                    dotted(loc),
                    line,
                    col,
                    "replace it with the real value",
                )
            )
    return out


def _license_fields(card: Card) -> list[FieldPath]:
    return [(name,) for name, _ in card.license_fields()] if isinstance(card, HasLicense) else []


def _get(data: Any, loc: FieldPath) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _get_attr(obj: Any, loc: FieldPath) -> Any:
    for part in loc:
        obj = obj[part] if isinstance(part, int) else getattr(obj, part, None)
    return obj


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (list, str)):
        return not value
    if isinstance(value, BaseModel):
        return all(
            _is_empty(getattr(value, f)) or getattr(value, f) == info.default
            for f, info in type(value).model_fields.items()
        )
    return False


def _strings(data: Any, loc: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    if isinstance(data, str):
        yield loc, data
    elif isinstance(data, dict):
        for k, v in data.items():
            if k not in ("source", "bibtex"):  # code may legitimately contain <...> and TODO
                yield from _strings(v, (*loc, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _strings(v, (*loc, i))


def _cross_check(docs: list[tuple[CardKind, Document]], known: dict[str, set[str]]) -> list[Problem]:
    out = []
    for kind, doc in docs:
        for target, ref, loc in references(kind.name, doc.data):
            if ref in known.get(target, set()):
                continue
            folder = CARD_KINDS[target].folder
            close = difflib.get_close_matches(ref, sorted(known.get(target, set())), n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else f"add kb/{folder}/{ref}.yaml"
            line, col = doc.locate(loc)
            out.append(
                Problem(
                    doc.path,
                    f"{target} card '{ref}' does not exist in kb/{folder}/",
                    field=dotted(loc),
                    line=line,
                    col=col,
                    hint=hint,
                )
            )
    return out

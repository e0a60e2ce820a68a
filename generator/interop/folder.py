"""Import a seed-003 model folder (`model.pt`, `config.json`, `model_card.md`) as an SAE or fine-tuned card.

Values come from `config.json` first (it is what training used) and from the sections of
`model_card.md`; where both give a value and they differ, config.json wins and the difference is
reported. Nothing is dropped: lines and sections with no field of their own go to `extra_sections`,
config keys with no field to an `extra_sections` entry titled `config.json`, and each is reported
with its file, line and section.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.interop import markdown
from generator.interop.weights import describe
from generator.problems import Problem, Severity
from generator.schema.derived import (
    FineTunedCard,
    SAECard,
    format_token_count,
    parse_token_count,
    split_name,
)
from generator.yamlio import read_bounded

PLACEHOLDER = re.compile(r"^\[.*\]$|^<.*>$|^(TODO|TBD|N/?A|-)?$", re.IGNORECASE)
"""Template values left unfilled (`[Value]`, `[e.g., GPT-2 Small]`) or empty."""

Convert = Callable[[str], Any]


def _int(text: str) -> int:
    return parse_token_count(text)  # accepts 4096, 4,096, 4K


def _float(text: str) -> float:
    t = text.strip()
    if t.endswith("%"):
        return float(t[:-1]) / 100
    return float(t)


def _str(text: str) -> str:
    return text.strip()


Field = tuple[str, tuple[str, ...], Convert]
"""(label as written in model_card.md, field path in the card, converter)."""

_BASE: list[Field] = [
    ("Name", ("base_model", "name"), _str),
    ("Source", ("base_model", "source"), _str),
    ("Hub ID", ("base_model", "hub_id"), _str),
]
_TRAINING: list[Field] = [
    ("Dataset", ("training", "dataset"), _str),
    ("Tokens Processed", ("training", "tokens"), parse_token_count),
    ("Training Tokens", ("training", "tokens"), parse_token_count),
    ("Batch Size", ("training", "batch_size"), _int),
    ("Context Size", ("training", "context_size"), _int),
    ("Learning Rate", ("training", "learning_rate"), _float),
]
KEYED: dict[str, dict[str, list[Field]]] = {
    "sae": {
        "Base Model": _BASE,
        "SAE Configuration": [
            ("Expansion Factor", ("sae", "expansion_factor"), _int),
            ("Target Layer", ("sae", "target_layer"), _str),
            ("Input Dimension", ("sae", "input_dim"), _int),
            ("Dictionary Size", ("sae", "dict_size"), _int),
        ],
        "Training": [*_TRAINING, ("L1 Coefficient", ("training", "l1_coefficient"), _float)],
        "Performance": [
            ("Final Loss", ("performance", "final_loss"), _float),
            ("Feature Activation Rate", ("performance", "feature_activation_rate"), _float),
        ],
    },
    "finetuned": {
        "Base Model": _BASE,
        "Fine-tuning Configuration": [
            ("Domain", ("domain_description",), _str),
            ("Method", ("training", "method"), _str),
            ("Epochs", ("training", "epochs"), _float),
        ],
        "Training": [
            *_TRAINING,
            ("Epochs", ("training", "epochs"), _float),
            ("Method", ("training", "method"), _str),
        ],
        "Performance": [("Final Loss", ("performance", "final_loss"), _float)],
    },
}
"""Sections of `- Key: value` items, per kind (seed 003's template; the fine-tuned one by analogy)."""

PROSE: dict[str, tuple[str, ...]] = {
    "Intended Use": ("intended_use",),
    "Additional Notes": ("notes",),
    "Date": ("date",),
    "Author": ("author",),
}
LISTS: dict[str, tuple[str, ...]] = {"Limitations": ("limitations",)}
TEMPLATE: dict[str, list[str]] = {
    kind: [*keyed, "Intended Use", "Limitations", "Additional Notes", "Date", "Author"]
    for kind, keyed in KEYED.items()
}
"""Every section the template has, per kind, in order: a missing one is reported."""

CONFIG_KEYS: dict[str, dict[str, tuple[tuple[str, ...], Convert]]] = {
    "sae": {
        "model_name": (("base_model", "hub_id"), str),
        "base_model": (("base_model", "hub_id"), str),
        "d_in": (("sae", "input_dim"), int),
        "input_dim": (("sae", "input_dim"), int),
        "expansion_factor": (("sae", "expansion_factor"), int),
        "d_sae": (("sae", "dict_size"), int),
        "dict_size": (("sae", "dict_size"), int),
        "hook_point": (("sae", "hook_point"), str),
        "hook_name": (("sae", "hook_point"), str),
        "target_layer": (("sae", "target_layer"), str),
        "layer": (("sae", "layer"), str),
        "dataset_path": (("training", "dataset"), str),
        "dataset": (("training", "dataset"), str),
        "training_tokens": (("training", "tokens"), parse_token_count),
        "total_training_tokens": (("training", "tokens"), parse_token_count),
        "train_batch_size_tokens": (("training", "batch_size"), int),
        "train_batch_size": (("training", "batch_size"), int),
        "batch_size": (("training", "batch_size"), int),
        "context_size": (("training", "context_size"), int),
        "lr": (("training", "learning_rate"), float),
        "learning_rate": (("training", "learning_rate"), float),
        "l1_coefficient": (("training", "l1_coefficient"), float),
        "l1_coeff": (("training", "l1_coefficient"), float),
    },
    "finetuned": {
        "model_name": (("base_model", "hub_id"), str),
        "base_model": (("base_model", "hub_id"), str),
        "domain": (("domain",), str),
        "dataset": (("training", "dataset"), str),
        "dataset_name": (("training", "dataset"), str),
        "training_tokens": (("training", "tokens"), parse_token_count),
        "batch_size": (("training", "batch_size"), int),
        "per_device_train_batch_size": (("training", "batch_size"), int),
        "context_size": (("training", "context_size"), int),
        "max_seq_length": (("training", "context_size"), int),
        "lr": (("training", "learning_rate"), float),
        "learning_rate": (("training", "learning_rate"), float),
        "num_train_epochs": (("training", "epochs"), float),
        "epochs": (("training", "epochs"), float),
        "method": (("training", "method"), str),
    },
}
"""config.json keys (SAELens and Hugging Face Trainer spellings) -> card fields."""

SAE_CONFIG_HINTS = {
    "d_in",
    "d_sae",
    "expansion_factor",
    "l1_coefficient",
    "l1_coeff",
    "hook_point",
    "hook_name",
}


@dataclass
class FolderImport:
    """The outcome of importing one folder: the card's data and every problem met on the way."""

    kind: str
    data: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)


class _Builder:
    """Collects values with where they came from, so disagreements can be reported."""

    def __init__(self, kind: str, display: Callable[[Path], str]):
        self.kind = kind
        self.data: dict[str, Any] = {}
        self.origin: dict[tuple[str, ...], str] = {}
        self.problems: list[Problem] = []
        self.extra: list[dict[str, str]] = []
        self.display = display

    def report(
        self,
        path: Path,
        message: str,
        *,
        section: str = "",
        line: int = 0,
        severity: Severity = Severity.WARNING,
        hint: str = "",
    ) -> None:
        self.problems.append(
            Problem(self.display(path), message, severity, section, line, 1 if line else 0, hint)
        )

    def get(self, loc: tuple[str, ...]) -> Any:
        target: Any = self.data
        for part in loc:
            if not isinstance(target, dict) or part not in target:
                return None
            target = target[part]
        return target

    def set(self, loc: tuple[str, ...], value: Any, origin: str) -> bool:
        """Set a field unless an earlier source (config.json) already did; False on disagreement."""
        current = self.get(loc)
        if current is not None:
            return current == value
        target = self.data
        for part in loc[:-1]:
            target = target.setdefault(part, {})
        target[loc[-1]] = value
        self.origin[loc] = origin
        return True

    def keep(self, title: str, text: str) -> None:
        """Keep text with no field of its own, under its section's title."""
        for entry in self.extra:
            if entry["title"] == title:
                entry["body"] += "\n" + text
                return
        self.extra.append({"title": title, "body": text})


def guess_kind(folder: Path) -> str | None:
    """`sae` or `finetuned` from the folder's place (`sae/`, `fine_tuned/`), its config or its card."""
    parent = folder.resolve().parent.name.lower()
    if parent in ("sae", "saes"):
        return "sae"
    if parent in ("fine_tuned", "finetuned", "fine-tuned"):
        return "finetuned"
    try:
        keys = set(json.loads(_peek(folder / "config.json") or "{}"))
    except (ValueError, TypeError):
        keys = set()
    if keys & SAE_CONFIG_HINTS:
        return "sae"
    if "domain" in keys:
        return "finetuned"
    text = _peek(folder / "model_card.md")
    if text:
        if re.search(r"^##\s+SAE Configuration", text, re.MULTILINE):
            return "sae"
        if re.search(r"^##\s+Fine-tuning Configuration", text, re.MULTILINE):
            return "finetuned"
    return None


def import_folder(folder: Path, kind: str, display: Callable[[Path], str] = str) -> FolderImport:
    """Read a model folder into card data of `kind` (`sae` or `finetuned`); report what has no place."""
    b = _Builder(kind, display)
    name = folder.resolve().name
    b.data.update({"schema_version": 1, "id": name.lower(), "name": name})
    _read_config(b, folder / "config.json")
    _read_model_card(b, folder / "model_card.md")
    _from_name(b, name)
    _read_weights(b, folder)
    if b.extra:
        b.data["extra_sections"] = b.extra
    tokens = b.get(("training", "tokens"))
    if isinstance(tokens, int) and parse_token_count(format_token_count(tokens)) == tokens:
        b.data["training"]["tokens"] = format_token_count(tokens)  # `1M` reads better than 1000000
    model = SAECard if kind == "sae" else FineTunedCard
    return FolderImport(kind, _ordered(b.data, model), b.problems)


def _peek(path: Path) -> str:
    """A file of the folder to guess its kind from, read boundedly ('' when absent or refused)."""
    raw = read_bounded(path, str(path), path.parent, [], path.name) if path.is_file() else None
    return raw.decode("utf-8", errors="replace") if raw is not None else ""


def _bounded_text(b: _Builder, path: Path) -> str | None:
    """A file of the imported folder, read as the cards are: a regular file inside the folder (a link out
    of it is refused), at most 1 MiB; None with the reason reported otherwise."""
    problems: list[Problem] = []
    raw = read_bounded(path, b.display(path), path.parent, problems, path.name)
    b.problems.extend(dataclasses.replace(p, severity=Severity.ERROR) for p in problems)
    return raw.decode("utf-8", errors="replace") if raw is not None else None


def _read_config(b: _Builder, path: Path) -> None:
    if not path.is_file():
        b.report(path, "config.json is missing: values come from model_card.md only")
        return
    text = _bounded_text(b, path)
    if text is None:
        return
    try:
        config = json.loads(text)
    except ValueError as exc:
        b.report(
            path,
            f"config.json is not valid JSON ({exc}): values come from model_card.md only",
            severity=Severity.ERROR,
        )
        return
    if not isinstance(config, dict):
        b.report(path, "config.json is not a JSON object: ignored", severity=Severity.ERROR)
        return
    unknown: dict[str, Any] = {}
    for key, value in config.items():
        spec = CONFIG_KEYS[b.kind].get(key)
        if spec is None or value is None:
            unknown[key] = value
            continue
        loc, convert = spec
        try:
            b.set(loc, convert(value), "config.json")
        except (TypeError, ValueError):
            b.report(
                path,
                f"'{key}' = {value!r} is not a valid {'.'.join(loc)}; kept in extra_sections",
                section="config.json",
                severity=Severity.WARNING,
            )
            unknown[key] = value
    if unknown:
        b.keep("config.json", "```json\n" + json.dumps(unknown, indent=2, sort_keys=True) + "\n```")
        b.report(
            path,
            "no card field for " + ", ".join(f"'{k}'" for k in unknown) + "; kept in extra_sections",
            section="config.json",
            severity=Severity.INFO,
        )


def _read_model_card(b: _Builder, path: Path) -> None:
    if not path.is_file():
        b.report(path, "model_card.md is missing: the card has only what config.json gives")
        return
    text = _bounded_text(b, path)
    if text is None:
        return
    _, body, first = markdown.split_front_matter(text)
    doc = markdown.parse(body, first)
    m = re.fullmatch(r"Model Card:\s*(.+)", doc.title)
    if m and m.group(1).strip() not in ("[Model Name]", b.data["name"]):
        b.report(
            path,
            f"the title names '{m.group(1).strip()}' but the folder is '{b.data['name']}'; "
            "using the folder name",
            line=doc.title_line,
        )
    keyed = KEYED[b.kind]
    for section in doc.sections:
        title = _canonical(section.title, TEMPLATE[b.kind])
        if title in keyed:
            _keyed_section(b, path, section, keyed[title])
        elif title in PROSE:
            _prose_section(b, path, section, PROSE[title])
        elif title in LISTS:
            items = [i for i in markdown.bullets(section.text) if not PLACEHOLDER.match(i)]
            if items:
                b.set(LISTS[title], items, "model_card.md")
            else:
                b.report(
                    path,
                    f"section '{section.title}' is empty or still the template's placeholder",
                    section=section.title,
                    line=section.line,
                )
        elif section.text:
            b.keep(section.title, section.text)
            b.report(
                path,
                f"section '{section.title}' is not in the seed-003 template; kept in extra_sections",
                section=section.title,
                line=section.line,
                severity=Severity.INFO,
            )
    present = {_canonical(s.title, TEMPLATE[b.kind]) for s in doc.sections}
    for title in TEMPLATE[b.kind]:
        if title not in present:
            b.report(path, f"section '## {title}' is missing", section=title)


def _canonical(title: str, known: list[str]) -> str:
    """The template's spelling of a section title (case and surrounding spaces ignored)."""
    return next((k for k in known if k.lower() == title.strip().lower()), title.strip())


def _keyed_section(b: _Builder, path: Path, section: markdown.Section, fields: list[Field]) -> None:
    by_label = {label.lower(): (loc, convert) for label, loc, convert in fields}
    for line, key, value in section.items():
        spec = by_label.get(key.lower()) if value is not None else None
        raw = f"- {key}: {value}" if value is not None else key
        if spec is None:
            b.keep(section.title, raw)
            what = f"'{key}' is not a field of this section" if value is not None else "line not understood"
            b.report(path, f"{what}; kept in extra_sections: {raw.strip()}", section=section.title, line=line)
            continue
        assert value is not None
        if PLACEHOLDER.match(value.strip()):
            b.report(
                path,
                f"'{key}' is not filled in ({value.strip() or 'empty'})",
                section=section.title,
                line=line,
            )
            continue
        loc, convert = spec
        try:
            parsed = convert(value)
        except (TypeError, ValueError):
            b.keep(section.title, raw)
            b.report(
                path,
                f"'{key}' value '{value}' could not be read; kept in extra_sections",
                section=section.title,
                line=line,
            )
            continue
        if not b.set(loc, parsed, "model_card.md"):
            b.report(
                path,
                f"'{key}' is {value} here but {b.get(loc)!r} in config.json; using config.json",
                section=section.title,
                line=line,
            )


def _prose_section(b: _Builder, path: Path, section: markdown.Section, loc: tuple[str, ...]) -> None:
    text = section.text.strip()
    if not text or PLACEHOLDER.match(text) or re.fullmatch(r"This model is intended for \[.*\]\.?", text):
        b.report(
            path,
            f"section '{section.title}' is empty or still the template's placeholder",
            section=section.title,
            line=section.line,
        )
        return
    if loc == ("date",) and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", text):
        b.keep(section.title, text)
        b.report(
            path,
            f"date '{text}' is not YYYY-MM-DD; kept in extra_sections",
            section=section.title,
            line=section.lines[0][0] if section.lines else section.line,
        )
        return
    b.set(loc, text, "model_card.md")


def _from_name(b: _Builder, name: str) -> None:
    """Fill the fields the seed-003 name encodes, where no file gave them."""
    parts = split_name(b.kind, name)
    if parts is None:
        return  # kb validate reports the name; nothing to read from it
    b.set(("base_model", "short_name"), parts.base, "name")
    if "name" not in b.data.get("base_model", {}):
        b.set(("base_model", "name"), parts.base, "name")
    if b.kind == "sae":
        b.set(("sae", "layer"), parts.middle, "name")
        if parts.expansion_factor is not None and b.get(("sae", "expansion_factor")) is None:
            b.set(("sae", "expansion_factor"), parts.expansion_factor, "name")
    else:
        b.set(("domain",), parts.middle, "name")
    if b.get(("training", "tokens")) is None:
        with contextlib.suppress(ValueError):
            b.set(("training", "tokens"), parse_token_count(parts.tokens), "name")


def _read_weights(b: _Builder, folder: Path) -> None:
    path = folder / "model.pt"
    if not path.is_file():
        b.report(path, "model.pt is missing: no weights recorded")
        return
    info = describe(path)
    weights: dict[str, Any] = {"file": "model.pt", "size_bytes": info.size_bytes, "sha256": info.sha256}
    if info.lfs_pointer:
        weights["lfs_pointer"] = True
        b.report(
            path,
            f"model.pt is a Git LFS pointer (oid sha256:{info.sha256[:12]}..., "
            f"{info.size_bytes:,} bytes): the weights are not present; "
            "recorded the pointer's oid and size",
            severity=Severity.INFO,
            hint="run `git lfs pull` to fetch them",
        )
    b.data["weights"] = weights


_FIRST = [
    "schema_version",
    "id",
    "name",
    "summary",
    "base_model",
    "base_model_card",
    "domain",
    "domain_description",
    "sae",
]


def _ordered(data: dict[str, Any], model: Any) -> dict[str, Any]:
    """Keys in the schema's order (the order a person reads the card), nested mappings too."""
    from pydantic import BaseModel

    fields = getattr(model, "model_fields", {})
    order = [*_FIRST, *fields] if model in (SAECard, FineTunedCard) else list(fields)
    out: dict[str, Any] = {}
    for key in [*dict.fromkeys(order), *data]:
        if key in data and key not in out:
            value = data[key]
            sub = fields[key].annotation if key in fields else None
            if isinstance(value, dict) and isinstance(sub, type) and issubclass(sub, BaseModel):
                value = _ordered(value, sub)
            out[key] = value
    return out

"""Cards for models derived from a base model: sparse autoencoders and fine-tuned models.

Model folders name them `<base_model>_<layer>_exp<expansion_factor>_<training_tokens>` (SAEs) and
`<base_model>_<domain>_<training_tokens>` (fine-tuned models), e.g. `gpt2-small_mlp0_exp2_1M`.
Card ids must be lower-case slugs, so a card keeps the folder name in `name` and uses its lower-cased
form as `id` (and file name): `name: gpt2-small_mlp0_exp2_1M`, `id: gpt2-small_mlp0_exp2_1m`.
`name_disagreements` says which part of a name disagrees with the card's fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal

from pydantic import BeforeValidator, model_validator

from generator.schema.card import Card, HasLicense
from generator.schema.common import HttpUrl, HubId, Markdown, Node, RelPath, Slug, Spdx

_TOKENS = re.compile(r"(\d+(?:\.\d+)?)\s*([KMBT])?", re.IGNORECASE)
_SCALE = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}


def parse_token_count(value: object) -> int:
    """`1M` -> 1_000_000, `500K` -> 500_000, `2B`, `1.5M`, `1,000,000` or an int; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a token count: write e.g. 1M, 500K, 2B or 1000000")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError(f"a token count must be positive, got {value}")
        return value
    if isinstance(value, float) and value.is_integer() and value > 0:
        return int(value)
    text = str(value).strip().replace(",", "").replace("_", "")
    m = _TOKENS.fullmatch(text)
    if not m:
        raise ValueError(f"'{value}' is not a token count: write e.g. 1M, 500K, 2B or 1000000")
    number = Decimal(m.group(1)) * _SCALE[(m.group(2) or "").upper()]
    if number <= 0 or number != number.to_integral_value():
        raise ValueError(f"'{value}' is not a whole, positive number of tokens")
    return int(number)


def format_token_count(count: int) -> str:
    """The short form names use: 1_000_000 -> `1M`, 500_000 -> `500K`, 1_500_000 -> `1.5M`."""
    for suffix in ("T", "B", "M", "K"):
        scale = _SCALE[suffix]
        if count >= scale:
            text = (
                f"{Decimal(count) / scale:f}".rstrip("0").rstrip(".")
                if count % scale
                else str(count // scale)
            )
            return f"{text}{suffix}"
    return str(count)


def token_count_agrees(written: str, count: int) -> bool:
    """Whether a name's token count (`1M`) states `count` at the name's precision.

    Names abbreviate: `1M` stands for any count that rounds to 1 million (1,048,576 included),
    `1.5M` for one that rounds to 1.5 million.
    """
    m = _TOKENS.fullmatch(written.strip())
    if not m:
        return False
    number = Decimal(m.group(1))
    scale = _SCALE[(m.group(2) or "").upper()]
    # A finite Decimal's exponent is an int; typeshed also allows the "n"/"N"/"F" of NaN and Infinity.
    exponent = Decimal(1).scaleb(number.as_tuple().exponent)  # type: ignore[arg-type]  # finite: see above
    rounded = (Decimal(count) / scale).quantize(exponent, rounding=ROUND_HALF_UP)
    return rounded == number


TokenCount = Annotated[int, BeforeValidator(parse_token_count)]
"""A number of tokens: an integer, or the short form `1M`, `500K`, `2B` (parsed to the number)."""


def _date(value: object) -> str:
    text = str(value)
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", text):
        raise ValueError(f"'{value}' is not a date: write YYYY-MM-DD (or YYYY-MM, or YYYY)")
    return text


PartialDate = Annotated[str, BeforeValidator(_date)]
"""An ISO date, possibly partial: `2024-05-01`, `2024-05` or `2024`."""


class BaseModelRef(Node):
    """The model an SAE was trained on, or a fine-tuned model started from."""

    name: str
    """The base model's name, e.g. `GPT-2 Small`."""
    short_name: str
    """How card names write it: the first part of the name, e.g. `gpt2-small`."""
    source: str = ""
    """Where it comes from, e.g. `Hugging Face`, `TransformerLens`."""
    hub_id: HubId | None = None
    """Model hub id, e.g. `gpt2` (exported as the Hugging Face `base_model`)."""
    url: HttpUrl | None = None
    """Landing page of the base model."""


class Weights(Node):
    """The weights file, described (never copied): size and checksum, or the Git LFS pointer's."""

    file: RelPath = "model.pt"
    """File name inside the model folder."""
    size_bytes: int | None = None
    """Size of the weights in bytes (for an LFS pointer: the size the pointer records)."""
    sha256: str | None = None
    """SHA-256 of the weights (for an LFS pointer: its oid)."""
    lfs_pointer: bool = False
    """The file found was a Git LFS pointer: the weights themselves were not present."""
    location: str = ""
    """Where the weights live (repository path or URL)."""

    @model_validator(mode="after")
    def _hash(self) -> Weights:
        if self.sha256 is not None and not re.fullmatch(r"[0-9a-f]{64}", self.sha256):
            raise ValueError(f"sha256 '{self.sha256}' is not 64 lower-case hex digits")
        return self


class ExtraSection(Node):
    """A part of an imported `model_card.md` that has no field of its own, kept verbatim."""

    title: str
    """The section's heading."""
    body: Markdown
    """The section's text as written."""


class SAEConfig(Node):
    """The autoencoder itself: where it reads the base model and how wide it is."""

    layer: str
    """The layer as card names write it, e.g. `mlp0`, `resid5`."""
    target_layer: str = ""
    """The layer in words, e.g. `MLP output of block 0`."""
    hook_point: str = ""
    """The hook in the base model's code (TransformerLens/SAELens name), e.g. `blocks.0.hook_mlp_out`."""
    input_dim: int
    """Width of the activations it reads (d_in)."""
    expansion_factor: int
    """Dictionary size divided by the input width."""
    dict_size: int | None = None
    """Number of features; when given it must equal input_dim x expansion_factor."""

    @model_validator(mode="after")
    def _sizes(self) -> SAEConfig:
        if self.input_dim < 1 or self.expansion_factor < 1:
            raise ValueError("input_dim and expansion_factor must be positive")
        if self.dict_size is not None and self.dict_size != self.input_dim * self.expansion_factor:
            raise ValueError(
                f"dict_size {self.dict_size} is not input_dim x expansion_factor "
                f"({self.input_dim} x {self.expansion_factor} = {self.input_dim * self.expansion_factor})"
            )
        return self


class DerivedTraining(Node):
    """How it was trained (the Training section of a model folder's card)."""

    dataset: str = ""
    """Dataset name (a hub id where there is one)."""
    dataset_card: Slug | None = None
    """Id of the dataset card in `kb/datasets/`, where there is one."""
    tokens: TokenCount
    """Tokens processed: an integer or `1M`, `500K`, `2B`."""
    batch_size: int | None = None
    """Batch size (in tokens for SAEs, as SAE trainers count it)."""
    context_size: int | None = None
    """Tokens per sequence."""
    learning_rate: float | None = None
    """Learning rate."""
    l1_coefficient: float | None = None
    """Sparsity penalty (SAEs)."""
    epochs: float | None = None
    """Passes over the data (fine-tuning)."""
    method: str = ""
    """Fine-tuning method: full, LoRA, adapters."""


class Performance(Node):
    """The Performance section of a model folder's card."""

    final_loss: float | None = None
    """Training loss at the end."""
    feature_activation_rate: float | None = None
    """Fraction of features active per token (0-1; SAEs)."""
    metrics: dict[str, str] = {}
    """Any other reported figures, by name."""

    @model_validator(mode="after")
    def _rate(self) -> Performance:
        rate = self.feature_activation_rate
        if rate is not None and not 0 <= rate <= 1:
            raise ValueError(f"feature_activation_rate {rate} must be a fraction between 0 and 1")
        return self


class _DerivedCard(Card, HasLicense):
    """Fields shared by SAE and fine-tuned cards."""

    schema_version: Literal[1]
    """Card format version."""
    id: Slug
    """The name lower-cased (ids are slugs); equals the file name."""
    name: str
    """The model folder's name, case kept (e.g. `gpt2-small_mlp0_exp2_1M`); must agree with the fields."""
    summary: Markdown = ""
    """One sentence shown in catalogs."""
    base_model: BaseModelRef
    """The base model."""
    base_model_card: Slug | None = None
    """Id of the base model's card in `kb/model_cards/`, when the knowledge base has one."""
    training: DerivedTraining
    """Training."""
    performance: Performance = Performance()
    """Performance."""
    intended_use: Markdown = ""
    """What it is intended for."""
    limitations: list[Markdown] = []
    """Known limitations."""
    notes: Markdown = ""
    """Additional notes."""
    date: PartialDate | None = None
    """Date of training."""
    author: str = ""
    """Person or organisation."""
    license: Spdx | None = None
    """License of the weights (SPDX), where stated."""
    weights: Weights | None = None
    """The weights file: size and checksum (or its Git LFS pointer)."""
    extra_sections: list[ExtraSection] = []
    """Parts of an imported model_card.md with no field of their own, kept rather than dropped."""


class SAECard(_DerivedCard):
    """A sparse autoencoder card (`kb/sae_cards/<id>.yaml`)."""

    sae: SAEConfig
    """SAE configuration."""


class FineTunedCard(_DerivedCard):
    """A fine-tuned model card (`kb/finetuned_cards/<id>.yaml`)."""

    domain: str
    """The domain as card names write it, e.g. `biomed`."""
    domain_description: str = ""
    """The domain in words."""


FieldPath = tuple[str | int, ...]

NAME_PATTERNS = {
    "sae": "<base_model>_<layer>_exp<expansion_factor>_<training_tokens>",
    "finetuned": "<base_model>_<domain>_<training_tokens>",
}
"""The seed-003 model folder names, by card kind."""


@dataclass(frozen=True)
class NameParts:
    """The parts of a seed-003 model folder name, as written."""

    base: str
    """The base model's short name (it may contain `_`)."""
    middle: str
    """The SAE's layer (`mlp0`) or the fine-tuned model's domain (`biomed`)."""
    expansion: str | None
    """The SAE's `exp<N>` part; None for a fine-tuned model."""
    tokens: str
    """The training token count (`1M`)."""

    @property
    def expansion_factor(self) -> int | None:
        """N of `exp<N>`, or None when the part is not written so."""
        m = re.fullmatch(r"exp(\d+)", self.expansion or "", re.IGNORECASE)
        return int(m.group(1)) if m else None


def split_name(kind: str, name: str) -> NameParts | None:
    """A name cut into its parts for `kind` (`sae` or `finetuned`), None when it has too few. The base
    model's short name may itself contain `_`: the other parts are counted from the end."""
    parts = name.split("_")
    count = 4 if kind == "sae" else 3
    if len(parts) < count:
        return None
    base, rest = "_".join(parts[: len(parts) - count + 1]), parts[len(parts) - count + 1 :]
    return NameParts(base, rest[0], rest[1] if kind == "sae" else None, rest[-1])


def expected_name(card: SAECard | FineTunedCard) -> str:
    """The name the model-folder convention gives this card's fields."""
    tokens = format_token_count(card.training.tokens)
    if isinstance(card, SAECard):
        return f"{card.base_model.short_name}_{card.sae.layer}_exp{card.sae.expansion_factor}_{tokens}"
    return f"{card.base_model.short_name}_{card.domain}_{tokens}"


Disagreement = tuple[FieldPath, str, str]
"""(field path, message, hint) of one part of a derived card's name that its fields contradict."""


def name_disagreements(card: SAECard | FineTunedCard) -> list[Disagreement]:
    """(field path, message, hint) for each part of `name` that disagrees with the card's fields."""
    name = card.name
    kind = "sae" if isinstance(card, SAECard) else "finetuned"
    parts = split_name(kind, name)
    if parts is None:
        return [
            (
                ("name",),
                f"name '{name}' does not follow {NAME_PATTERNS[kind]}",
                f"name it {expected_name(card)}",
            )
        ]
    base = parts.base
    out: list[Disagreement] = []
    if card.id != name.lower():
        out.append(
            (
                ("id",),
                f"id '{card.id}' is not the name '{name}' lower-cased",
                f"set id: {name.lower()} (and name the file {name.lower()}.yaml)",
            )
        )
    if base.lower() != card.base_model.short_name.lower():
        out.append(
            _differs(
                card,
                base,
                f"base model '{base}'",
                ("base_model", "short_name"),
                f"'{card.base_model.short_name}'",
            )
        )
    if isinstance(card, SAECard):
        out += _sae_disagreements(card, parts)
    elif parts.middle.lower() != card.domain.lower():
        out.append(_differs(card, parts.middle, f"domain '{parts.middle}'", ("domain",), f"'{card.domain}'"))
    return out + _token_disagreements(card, parts.tokens)


def _differs(
    card: SAECard | FineTunedCard, part: str, says: str, loc: FieldPath, value: object
) -> Disagreement:
    where = ".".join(map(str, loc))
    return (
        ("name",),
        f"name part '{part}' says {says}, but {where} is {value}",
        f"name it {expected_name(card)} or correct {where}",
    )


def _sae_disagreements(card: SAECard, parts: NameParts) -> list[Disagreement]:
    """The layer and the expansion factor parts of an SAE card's name."""
    out = []
    layer, exp, factor = parts.middle, str(parts.expansion), parts.expansion_factor
    if layer.lower() != card.sae.layer.lower():
        out.append(_differs(card, layer, f"layer '{layer}'", ("sae", "layer"), f"'{card.sae.layer}'"))
    if factor is None:
        out.append(
            (
                ("name",),
                f"name part '{exp}' should be exp<expansion_factor>",
                f"name it {expected_name(card)}",
            )
        )
    elif factor != card.sae.expansion_factor:
        out.append(
            _differs(
                card,
                exp,
                f"expansion factor {factor}",
                ("sae", "expansion_factor"),
                card.sae.expansion_factor,
            )
        )
    return out


def _token_disagreements(card: SAECard | FineTunedCard, written: str) -> list[Disagreement]:
    """The last part of the name: the training token count (`1M`, `500K`, `2B`)."""
    tokens = card.training.tokens
    try:
        stated: int | None = parse_token_count(written)
    except ValueError:
        stated = None
    if stated is None:
        return [
            (
                ("name",),
                f"name part '{written}' is not a token count (e.g. 1M, 500K, 2B)",
                f"name it {expected_name(card)}",
            )
        ]
    if not token_count_agrees(written, tokens):
        return [
            _differs(
                card,
                written,
                f"{stated:,} training tokens",
                ("training", "tokens"),
                f"{format_token_count(tokens)} ({tokens:,})",
            )
        ]
    return []


DerivedCard = SAECard | FineTunedCard

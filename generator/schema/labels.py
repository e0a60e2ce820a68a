"""Pure functions of a card shown identically on its page and in its PDF: links, labels, file names.

They live beside the schema because every stage needs them and they need nothing but the card.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from generator.schema.card import Card, HasLicense, HasRepo
from generator.schema.common import Citation
from generator.schema.model_card import ModelCard, Repo, Tokenization
from generator.schema.smoke import SmokeInput, SmokeTest


def web_url(repo: Repo) -> str | None:
    """The repository's browsable http(s) URL (without `.git`), or None for local/ssh URLs."""
    url = repo.url
    if not url.startswith(("http://", "https://")):
        return None
    return url.removesuffix("/").removesuffix(".git")


def commit_url(repo: Repo) -> str | None:
    """Link to the pinned commit (or tag) on the forge."""
    base = web_url(repo)
    if base is None:
        return None
    ref = repo.commit or repo.tag
    return f"{base}/tree/{ref}"


def pin_label(repo: Repo) -> str:
    """`0123abc (v1.0)`, `0123abc` or `v1.0`."""
    short = repo.commit[:7] if repo.commit else None
    if short and repo.tag:
        return f"{short} ({repo.tag})"
    return short or str(repo.tag)


MISSING = "not stated"
"""The one wording for a value a card does not give: rows, table cells and the catalog's columns."""


def license_label(card: Card) -> str:
    """`Apache-2.0`, or `Apache-2.0 (code), CC-BY-NC-ND-4.0 (weights)` when they differ; `not stated`
    for a card that states none."""
    stated = dict(card.license_fields()) if isinstance(card, HasLicense) else {}
    code, weights = stated.get("license"), stated.get("weights_license")
    if code and weights and weights != code:
        return f"{code} (code), {weights} (weights)"
    return code or weights or MISSING


def repo_words(repo: Repo) -> str:
    """The upstream repository as its readers name it on its forge: `kuleshov-group/caduceus` (owner and
    name, from its web or `git@host:` address), else its name."""
    web = web_url(repo)
    if web:
        path = web.split("/", 3)[3] if web.count("/") >= 3 else ""
    else:
        scp = re.fullmatch(r"[\w.-]+@[\w.-]+:(?!/)(.+?)(?:\.git)?/?", repo.url)
        path = scp.group(1) if scp else ""
    return path or repo.name


def license_note(card: Card) -> str:
    """The license sentence every page and PDF carries (seed 000's reminder "This walkthrough references
    <repo> under <license>"), the license in words. It is built here only."""
    words = license_words(license_label(card))
    stated = words not in (MISSING, NO_LICENSE)
    if isinstance(card, HasRepo):
        repo = f"the {repo_words(card.repo)} repository"
        if not stated:
            return (
                f"This walkthrough references {repo}, which states no license: ask its authors before reuse."
            )
        return f"This walkthrough references {repo} under {words}."
    if not stated:
        return f"No license is stated for {card.name}: check its source before reusing it."
    return f"{card.name} is under {words}."


def token_label(count: int) -> str:
    """A token count as pages and PDFs show it: 500000 -> `500K`, 2_000_000_000 -> `2B`, 1_500_000 ->
    `1.5M` (six significant digits; the exact count is shown beside it where it matters)."""
    for suffix, scale in (("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if count >= scale:
            return f"{count / scale:g}{suffix}"
    return str(count)


_LICENSE_REF = re.compile(r"LicenseRef-[A-Za-z0-9.-]+")
NO_LICENSE = "no license stated"


def license_words(expression: str | None) -> str:
    """An SPDX expression as a reader reads it: `LicenseRef-unspecified` -> `no license stated`,
    `LicenseRef-scancode-llama-2` -> `llama-2 (custom license)`; SPDX ids stay as they are (none:
    empty)."""
    if not expression:
        return ""

    def meaning(m: re.Match[str]) -> str:
        ref = m.group(0).removeprefix("LicenseRef-")
        if ref.lower() in ("unspecified", "none", "unknown"):
            return NO_LICENSE
        return f"{ref.removeprefix('scancode-')} (custom license)"

    return _LICENSE_REF.sub(meaning, str(expression))


def layer_words(layer: int) -> str:
    """A pooled hidden layer in words: -1 -> `last layer`, -2 -> `second-to-last layer`, 3 -> `layer 3`."""
    if layer == -1:
        return "last layer"
    if layer == -2:
        return "second-to-last layer"
    if layer < 0:
        return f"{-layer}th layer from the last"
    return f"layer {layer} (0 is the embedding layer)" if layer == 0 else f"layer {layer}"


POOLING_WORDS = {
    "mean": "mean over the real tokens",
    "cls": "the CLS token",
    "last": "the last token",
    "hub_mean": "mean over the hub tokens",
    "max": "maximum over the real tokens",
}


def pooling_words(strategy: str, hub_tokens: int | None = None) -> str:
    """A pooling strategy in words: `cls` -> `the CLS token`, `hub_mean` with 8 hub tokens -> `mean
    over the 8 hub tokens`."""
    words = POOLING_WORDS.get(strategy, strategy)
    return words.replace("the hub", f"the {hub_tokens} hub") if hub_tokens else words


TOKENIZER_WORDS = {
    "character": "one token per character",
    "k-mer": "k-mers",
    "bpe": "byte-pair encoding (BPE)",
    "bytes": "one token per byte",
    "voxel-patches": "voxel patches",
    "roi-tensors": "ROI time series (parcellated)",
}
TOKENIZER_SHORT = {
    "character": "single character",
    "bpe": "BPE",
    "bytes": "byte",
    "voxel-patches": "voxel patch",
    "roi-tensors": "ROI time series",
}
"""A tokenizer in a comparison table's cell (a k-mer one is `6-mer`)."""


def tokenizer_words(kind: str, k: int | None = None) -> str:
    """A tokenizer in words: `k-mer` with k = 6 -> `6-mers`, `bpe` -> `byte-pair encoding (BPE)`."""
    if kind == "k-mer" and k:
        return f"{k}-mers"
    return TOKENIZER_WORDS.get(kind, kind)


def tokenizer_short(kind: str, k: int | None = None) -> str:
    """A tokenizer in a table cell: `6-mer`, `BPE`, `ROI time series`."""
    if kind == "k-mer" and k:
        return f"{k}-mer"
    return TOKENIZER_SHORT.get(kind, kind)


RC_WORDS = {
    "none": "not used",
    "average": "average of the sequence's and its reverse complement's embeddings",
    "split": "one pass, the RC-equivariant channels split and averaged",
}


def rc_words(mode: str) -> str:
    """The pooling's reverse-complement handling in words."""
    return RC_WORDS.get(mode, mode)


def hub_url(hub_id: str, revision: str | None = None) -> str:
    """The model hub page of a checkpoint (at its revision when pinned)."""
    base = f"https://huggingface.co/{hub_id}"
    return f"{base}/tree/{revision}" if revision else base


MODALITY_LABELS = {  # a modality as readers write it
    "dna": "DNA",
    "rna": "RNA",
    "protein": "Protein",
    "fmri": "fMRI",
    "smri": "sMRI",
    "eeg": "EEG",
    "text": "Text",
    "multimodal": "Multimodal",
}


def modality_label(modality: str) -> str:
    """`fMRI` for `fmri`: a modality as readers write it (an unknown one as the card says it)."""
    return MODALITY_LABELS.get(str(modality), str(modality))


FAMILY_LABELS = {  # an architecture family as readers write it
    "transformer": "Transformer",
    "mamba": "Mamba",
    "hyena": "Hyena",
    "striped-hyena": "StripedHyena",
    "vit": "ViT",
    "swin": "Swin",
}


def family_label(family: str) -> str:
    """`StripedHyena` for `striped-hyena` (an unknown family as the card says it)."""
    return FAMILY_LABELS.get(str(family), str(family))


MODEL_TYPE_WORDS = {
    "encoder": "bidirectional encoder",
    "causal": "autoregressive (causal)",
    "encoder-decoder": "encoder and decoder",
    "autoencoder": "autoencoder (reconstructs its input)",
    "joint-embedding": "joint embedding (predicts in latent space)",
}


def model_type_words(model_type: str | None) -> str:
    """An architecture type in words: `causal` -> `autoregressive (causal)` (none: empty)."""
    return MODEL_TYPE_WORDS.get(model_type, model_type) if model_type else ""


ZERO_SHOT_WORDS = {
    "cosine-distance": "cosine distance of embeddings",
    "log-likelihood-ratio": "log-likelihood ratio",
}


def zero_shot_words(method: str | None) -> str:
    """A zero-shot scoring method in words: `cosine-distance` -> `cosine distance of embeddings`."""
    return ZERO_SHOT_WORDS.get(method, method) if method else ""


def context_label(tok: Tokenization | None) -> str:
    """A model's context window in words: the card's description, else the numbers it gives."""
    if tok is None:
        return ""
    return str(tok.context.description) or context_numbers(tok)


def context_numbers(tok: Tokenization, *, tokens_beside_bases: bool = True) -> str:
    """The numbers a card gives of its context window: `2,048 tokens, 12,288 bp`, `450 timepoints`
    (without `tokens_beside_bases`, a token count equal to the base count is not repeated)."""
    ctx = tok.context
    parts = []
    if ctx.tokens and (tokens_beside_bases or ctx.tokens != ctx.bases):
        parts.append(f"{ctx.tokens:,} tokens")
    if ctx.bases:
        parts.append(f"{ctx.bases:,} bp")
    if ctx.timepoints:
        parts.append(f"{ctx.timepoints} timepoints")
    if ctx.voxel_grid:
        parts.append(str(ctx.voxel_grid))
    return ", ".join(parts)


CONTEXT_UNITS = ("bp", "tokens", "timepoints")
"""The units a context window is compared in, most specific first: DNA in base pairs, else in tokens
(a DNA card that gives no length in bases), fMRI in timepoints. Windows in different units are not
comparable: a comparison keeps them apart."""


def context_measure(tok: Tokenization | None) -> tuple[str, int] | None:
    """The window's unit and length (`("bp", 131072)`), in the first unit of `CONTEXT_UNITS` the card
    gives; None when it gives no number."""
    ctx = tok.context if tok else None
    if ctx is None:
        return None
    for unit, amount in (("bp", ctx.bases), ("tokens", ctx.tokens), ("timepoints", ctx.timepoints)):
        if amount:
            return unit, amount
    return None


def context_in_units(tok: Tokenization | None) -> str:
    """The window in the unit it is compared in: `12,282 bp (2,048 tokens)`, `131,072 bp` (one token per
    base), `512 tokens`, `200 timepoints`; empty when the card gives no number."""
    measure = context_measure(tok)
    if tok is None or measure is None:
        return ""
    unit, amount = measure
    tokens = tok.context.tokens
    extra = f" ({tokens:,} tokens)" if unit == "bp" and tokens and tokens != amount else ""
    return f"{amount:,} {unit}{extra}"


LOADER_WORDS = {
    "auto": "transformers' AutoModel",
    "masked-lm": "transformers' AutoModelForMaskedLM, then its base model",
    "causal-lm": "transformers' AutoModelForCausalLM (hidden states and next-token logits)",
    "entry-point": "a function of the upstream repository",
}


def loader_words(smoke: SmokeTest) -> str:
    """How `kb smoke` loads the checkpoint, in words: `transformers' AutoModelForMaskedLM, then its base
    model (.esm)`, `a function of the upstream repository (caduceus.load:model)`."""
    words = LOADER_WORDS.get(smoke.loader, smoke.loader)
    detail = smoke.entry_point if smoke.loader == "entry-point" else None
    if smoke.loader == "masked-lm" and smoke.base_model_attr:
        detail = f".{smoke.base_model_attr}"
    return f"{words} ({detail})" if detail else words


SMOKE_INPUT_UNITS = {"dna": "DNA sequences of {n:,} bases", "token-ids": "sequences of {n:,} token ids"}


def smoke_input_words(spec: SmokeInput) -> str:
    """The smoke test's synthetic input in words: `2 DNA sequences of 1,024 bases`, `2 fMRI samples of
    424 ROIs x 200 timepoints`; always random with a fixed seed. DNA tokenized without the tokenizer's
    special tokens (`add_special_tokens: false`) says so."""
    if spec.kind == "roi-timeseries":
        what = f"fMRI samples of {spec.rois} ROIs x {spec.length:,} timepoints"
    else:
        what = SMOKE_INPUT_UNITS.get(spec.kind, "samples of length {n:,}").format(n=spec.length)
    plain = ", tokenized without special tokens" if spec.kind == "dna" and not spec.add_special_tokens else ""
    return f"{spec.batch_size} random {what} (seed {spec.seed}){plain}"


VALUE_WORDS: dict[str, dict[str, str]] = {
    "ModelCard.modality": MODALITY_LABELS,
    "DatasetCard.modality": MODALITY_LABELS,
    "Architecture.model_type": MODEL_TYPE_WORDS,
    "Tokenization.kind": TOKENIZER_WORDS,
    "Pooling.strategy": POOLING_WORDS,
    "Pooling.reverse_complement": RC_WORDS,
    "Evaluation.zero_shot_method": ZERO_SHOT_WORDS,
    "SmokeTest.loader": LOADER_WORDS,
}
"""The words for each enumerated field of the schema (`schema class.field`) that pages and PDFs show:
a reader never sees the raw value."""
NOT_SHOWN = {
    "SmokeInput.kind",
    "SmokeTest.dtype",
    "SmokeTest.tokenizer",
    "SmokeTest.batching",
    "WalkthroughStep.stage",
}
"""Enumerated fields no page or PDF shows as a value (how `kb smoke` runs, the walkthrough's stage), or
shows inside a sentence of their own (the smoke input: `smoke_input_words`)."""


LABEL_FILTERS = {
    "tokens": token_label,
    "layer_words": layer_words,
    "rc_words": rc_words,
    "pooling_words": pooling_words,
    "tokenizer_words": tokenizer_words,
    "license_words": license_words,
    "hub_url": hub_url,
    "modality_label": modality_label,
    "family_label": family_label,
}
"""These labels as Jinja filters, for the page templates and the print templates alike."""


def blob_url(url: str, ref: str, path: str, lines: tuple[int, int] | None = None) -> str | None:
    """`<url>/blob/<ref>/<path>#L<a>-L<b>` on GitHub and GitLab (None on other hosts)."""
    url = url.removesuffix("/").removesuffix(".git")
    if not url.startswith(("http://", "https://")):
        return None
    host = url.split("/")[2].lower()
    if not (host in ("github.com", "gitlab.com") or host.startswith("gitlab.")):
        return None
    anchor = ""
    if lines:
        start, end = lines
        # GitHub writes a range `#L3-L5`, GitLab `#L3-5`; one line is `#L3` on both.
        anchor = (
            f"#L{start}"
            if start == end
            else (f"#L{start}-L{end}" if host == "github.com" else f"#L{start}-{end}")
        )
    return f"{url}/blob/{ref}/{path}{anchor}"


@dataclass(frozen=True)
class SourceRow:
    """One source of a card's figures as pages and PDFs show it."""

    claims: str
    """The fields it supports, in words (`layers, hidden size`)."""
    where: str
    """The place in words (`kuleshov-group/caduceus: caduceus/configuration_caduceus.py, lines 12-30, at
    2593c80`)."""
    url: str | None
    says: str


GENERIC_FIELDS = {"tokens", "bases", "timepoints", "description", "samples", "size", "value", "name"}
"""Field names that mean little alone: shown with the field they belong to (`context tokens`)."""


@lru_cache(maxsize=4096)
def field_words(path: str) -> str:
    """`tokenization.context.tokens` -> `context tokens`; `training.sources[0].samples` ->
    `training source 1 samples`."""
    parts, indexed = [], []
    for name, index in re.findall(r"([a-z_]+)(?:\[(\d+)\])?", path):
        word = name.replace("_", " ")
        if index:
            word = f"{word.removesuffix('s')} {int(index) + 1}"
        parts.append(word)
        indexed.append(bool(index))
    if len(parts) > 1 and parts[-1] in GENERIC_FIELDS:
        # `training.sources[0].samples`: the list item alone ("source 1") needs its section too.
        start = -3 if indexed[-2] and len(parts) > 2 else -2
        return " ".join(parts[start:])
    return parts[-1]


def source_rows(card: ModelCard) -> list[SourceRow]:
    """The card's sources that name a place, each with its link (at the pin for upstream code)."""
    rows = []
    for s in card.sources:
        claims = ", ".join(dict.fromkeys(field_words(f) for f in s.fields))
        url: str | None
        if s.code:
            ref = card.repo.commit or str(card.repo.tag)
            span = ""
            if s.code.lines:
                first, last = s.code.lines
                span = f", line {first}" if first == last else f", lines {first}-{last}"
            where = f"{repo_words(card.repo)}: {s.code.path}{span}, at {pin_label(card.repo)}"
            url = blob_url(card.repo.url, ref, s.code.path, s.code.lines)
        elif s.hub:
            hub_id = s.hub.hub_id or next((c.hub_id for c in card.checkpoints if c.hub_id), None)
            revision = next((c.revision for c in card.checkpoints if c.hub_id == hub_id and c.revision), None)
            where = f"{s.hub.file} of the hub repository {hub_id}"
            url = (
                f"https://huggingface.co/{hub_id}/blob/{revision or 'main'}/{s.hub.file}" if hub_id else None
            )
        elif s.paper:
            paper = card.citations[0] if card.citations else None
            where = f"{paper.title} ({paper.year}), {s.paper}" if paper else f"the paper, {s.paper}"
            url = _paper_link(paper) if paper else None
        elif s.url:
            where, url = s.url, s.url
        else:
            continue  # unverified: listed with the card's other unverified facts
        rows.append(SourceRow(claims, where, url, s.says))
    return rows


def unverified_claims(card: ModelCard) -> list[str]:
    """The card's unverified facts: its `unverified` list, then each unverified source with its fields."""
    named = [
        f"{', '.join(dict.fromkeys(field_words(f) for f in s.fields))}: {s.unverified}"
        for s in card.sources
        if s.unverified
    ]
    return [*card.unverified, *named]


def _paper_link(paper: Citation) -> str | None:
    if paper.doi:
        return f"https://doi.org/{paper.doi}"
    if paper.arxiv:
        return f"https://arxiv.org/abs/{paper.arxiv}"
    return paper.url

"""Pure functions of a card shown identically on its page and in its PDF: links, labels, file names.

They live beside the schema because every stage needs them and they need nothing but the card.
"""

from __future__ import annotations

import re

from generator.schema.card import Card, HasLicense, HasRepo
from generator.schema.model_card import Repo, Tokenization
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


def license_label(card: Card) -> str:
    """`Apache-2.0`, or `Apache-2.0 (code), CC-BY-NC-ND-4.0 (weights)` when they differ; `not stated`
    for a card that states none."""
    stated = dict(card.license_fields()) if isinstance(card, HasLicense) else {}
    code, weights = stated.get("license"), stated.get("weights_license")
    if code and weights and weights != code:
        return f"{code} (code), {weights} (weights)"
    return code or weights or "not stated"


def license_note(card: Card) -> str:
    """The license sentence every page and PDF carries (seed 000's reminder). It is built here only."""
    if isinstance(card, HasRepo):
        return f"This walkthrough references {card.repo.name} under {license_label(card)}."
    if not (isinstance(card, HasLicense) and card.license_fields()):
        return f"No license is stated for {card.name}: check its source before reusing it."
    return f"{card.name} is under {license_label(card)}."


def token_label(count: int) -> str:
    """A token count as pages and PDFs show it: 500000 -> `500K`, 2_000_000_000 -> `2B`, 1_500_000 ->
    `1.5M` (six significant digits; the exact count is shown beside it where it matters)."""
    for suffix, scale in (("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if count >= scale:
            return f"{count / scale:g}{suffix}"
    return str(count)


_LICENSE_REF = re.compile(r"LicenseRef-[A-Za-z0-9.-]+")


def license_words(expression: str) -> str:
    """An SPDX expression as a reader reads it: `LicenseRef-unspecified` -> `no license stated`,
    `LicenseRef-scancode-llama-2` -> `llama-2 (custom license)`; SPDX ids stay as they are."""

    def meaning(m: re.Match[str]) -> str:
        ref = m.group(0).removeprefix("LicenseRef-")
        if ref.lower() in ("unspecified", "none", "unknown"):
            return "no license stated"
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
    "character": "character",
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

"""Synthetic, seeded inputs for the smoke test, and the reverse complement done right per tokenizer.

Sequences in a batch have different lengths on purpose: that is what makes padding visible. For
k-mer and BPE vocabularies the reverse complement is taken on the DNA string and tokenized again;
flipping token ids is correct only for character vocabularies (FACTS.md).
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")


def reverse_complement(seq: str) -> str:
    return seq.translate(COMPLEMENT)[::-1]


def dna_batch(length: int, batch_size: int, seed: int) -> list[str]:
    """`batch_size` random ACGT sequences; the i-th is shorter by about i/8 of `length` (at least 1)."""
    rng = random.Random(seed)
    step = max(1, length // 8)
    return ["".join(rng.choice("ACGT") for _ in range(max(1, length - i * step))) for i in range(batch_size)]


def substitute(seq: str, position: int | None = None) -> str:
    """The sequence with one base changed (the alternate allele of a single-base substitution)."""
    pos = len(seq) // 2 if position is None else position
    alt = {"A": "G", "G": "A", "C": "T", "T": "C"}.get(seq[pos], "A")
    return seq[:pos] + alt + seq[pos + 1 :]


class Tokenize:
    """Turns DNA strings into token ids with the checkpoint's tokenizer, as the card's smoke input says
    (`add_special_tokens`), and knows how to RC them."""

    def __init__(self, tokenizer: Any, vocabulary_kind: str | None, add_special_tokens: bool = True):
        self.tokenizer = tokenizer
        self.character = vocabulary_kind == "character"
        self.add_special_tokens = add_special_tokens
        self._complement_ids: dict[int, int] = {}
        if self.character:
            ids = {b: self._single_id(b) for b in "ACGT"}
            if all(i is not None for i in ids.values()):
                self._complement_ids = {ids[a]: ids[b] for a, b in zip("ACGT", "TGCA", strict=True)}  # type: ignore[misc]  # None ruled out just above

    def _single_id(self, base: str) -> int | None:
        pieces = self.tokenizer(base, add_special_tokens=False)["input_ids"]
        return pieces[0] if len(pieces) == 1 else None

    def __call__(self, seq: str) -> list[int]:
        return list(self.tokenizer(seq, add_special_tokens=self.add_special_tokens)["input_ids"])

    def added(self, seq: str) -> list[str]:
        """The special tokens that adding them puts into `seq`'s ids (none when they are not added)."""
        if not self.add_special_tokens:
            return []
        plain = Counter(self.tokenizer(seq, add_special_tokens=False)["input_ids"])
        extra = Counter(self(seq)) - plain
        return [str(self.tokenizer.convert_ids_to_tokens(i)) for i in self(seq) if extra.pop(i, 0)]

    def describe(self, seq: str) -> str:
        """How `seq` was tokenized, in words, for the report."""
        n = len(self(seq))
        if not self.add_special_tokens:
            return f"add_special_tokens: false; {n} tokens for {len(seq)} bases, no special tokens"
        added = self.added(seq)
        return f"add_special_tokens: true; {n} tokens for {len(seq)} bases" + (
            f", the tokenizer adds {' '.join(added)}" if added else ", the tokenizer adds none"
        )

    @property
    def pad_id(self) -> int:
        pad = getattr(self.tokenizer, "pad_token_id", None)
        return int(pad) if pad is not None else 0

    def reverse_complement_ids(self, seq: str) -> tuple[list[int], str]:
        """Token ids of the reverse complement, and how they were made (for the report)."""
        if self.character and self._complement_ids:
            ids = self(seq)
            # Flip only the DNA positions; special tokens ([CLS], [SEP]) stay where they are.
            positions = [i for i, t in enumerate(ids) if t in self._complement_ids]
            flipped = [self._complement_ids[ids[i]] for i in reversed(positions)]
            out = list(ids)
            for i, t in zip(positions, flipped, strict=True):
                out[i] = t
            return out, "flipped character ids"
        return self(reverse_complement(seq)), "re-tokenized the reverse-complement string"


def roi_batch(
    rois: int, length: int, batch_size: int, seed: int, shape: list[int] | None = None
) -> list[Any]:
    """`batch_size` ROI-by-time samples, each ROI z-scored over time (the usual fMRI preprocessing)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(batch_size):
        x = rng.standard_normal((rois, length)).cumsum(axis=1)  # slow drifts, like BOLD signals
        x = (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True).clip(1e-6)
        out.append(x.astype(np.float32).reshape(shape or [rois, length]))
    return out


def token_batch(
    vocab_size: int, length: int, batch_size: int, seed: int, special: set[int]
) -> list[list[int]]:
    """`batch_size` random token id sequences of decreasing length, avoiding special tokens."""
    rng = random.Random(seed)
    choices = [i for i in range(vocab_size) if i not in special] or list(range(vocab_size))
    step = max(1, length // 8)
    return [[rng.choice(choices) for _ in range(max(1, length - i * step))] for i in range(batch_size)]


class Identity:
    """The `Tokenize` interface for inputs that are token ids already."""

    character = False

    def __init__(self, pad_id: int, vocab_size: int):
        self.pad_id = pad_id
        self.vocab_size = vocab_size

    def __call__(self, item: Any) -> Any:
        return list(item) if isinstance(item, (list, tuple)) else item

    def __len__(self) -> int:
        return self.vocab_size

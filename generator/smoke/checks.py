"""The smoke test's checks. Each appends one named outcome to the report; a failure's message says
what was expected, what was measured and what to change on the card."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from generator.io import atomic_write_bytes
from generator.schema.common import param_count_value
from generator.smoke.inputs import reverse_complement, substitute

LAYER_KEYS = ("num_hidden_layers", "n_layer", "num_layers", "n_layers")
CONTEXT_KEYS = ("max_position_embeddings", "max_seq_len", "n_positions", "seq_len", "max_seqlen")
CONTEXT_SLACK = 2
"""Position tables may hold a few more rows than the usable context (special tokens, padding offset)."""


def _config_value(config: Any, keys: tuple[str, ...]) -> tuple[str, int] | None:
    for key in keys:
        value = getattr(config, key, None) if config is not None else None
        if isinstance(value, int) and not isinstance(value, bool):
            return key, value
    return None


def _count(module: Any) -> int:
    return sum(p.numel() for p in module.parameters())


def claims(
    report: Any, card: Any, model: Any, hidden_width: int, pooled_width: int, tokenizer_len: int
) -> None:
    """The card's architecture and tokenization claims against the loaded model."""
    arch, tokens = card.architecture, card.tokenization
    split = card.pooling.reverse_complement == "split"
    # Hidden width: measured on the hidden states, not read from the config.
    if arch.hidden_size is None:
        report.add(
            "hidden width", None, f"the card states no architecture.hidden_size (measured {hidden_width})"
        )
    else:
        expected = 2 * arch.hidden_size if split else arch.hidden_size
        ok = hidden_width == expected
        if ok:
            where = f" (2 x hidden_size {arch.hidden_size}: RC-equivariant channels)" if split else ""
            message = f"hidden states are {hidden_width} wide, as the card says{where}"
        elif split:
            message = (
                f"the card says architecture.hidden_size {arch.hidden_size}, so an RC-equivariant model "
                f"(reverse_complement 'split') should give {expected} channels, but the model's hidden "
                f"states are {hidden_width} wide"
            )
        else:
            message = (
                f"the card says architecture.hidden_size {arch.hidden_size}, "
                f"but the model's hidden states are {hidden_width} wide"
            )
        report.add("hidden width", ok, message)
    if arch.embedding_dim is not None:
        ok = arch.embedding_dim == pooled_width
        report.add(
            "embedding width",
            ok,
            f"pooled embedding is {pooled_width} wide"
            + ("" if ok else f", but the card says architecture.embedding_dim {arch.embedding_dim}"),
        )
    found = _config_value(model.config, LAYER_KEYS)
    if arch.layers is None or found is None:
        report.add(
            "layers",
            None,
            "not checked: "
            + (
                "the card states no architecture.layers"
                if arch.layers is None
                else "the model's config states no layer count"
            ),
        )
    else:
        key, value = found
        report.add(
            "layers",
            value == arch.layers,
            f"config.{key} is {value}"
            + ("" if value == arch.layers else f", but the card says architecture.layers {arch.layers}"),
        )
    config_vocab = getattr(model.config, "vocab_size", None)
    if tokens is None or tokens.vocab_size is None:
        report.add("vocabulary", None, "not checked: the card states no tokenization.vocab_size")
    else:
        seen = {v for v in (config_vocab, tokenizer_len) if isinstance(v, int)}
        ok = tokens.vocab_size in seen
        report.add(
            "vocabulary",
            ok,
            f"config.vocab_size {config_vocab}, tokenizer {tokenizer_len} tokens"
            + ("" if ok else f"; the card says tokenization.vocab_size {tokens.vocab_size}"),
        )
    claimed = param_count_value(arch.parameters)
    if claimed is None:
        report.add("parameters", None, "not checked: the card states no architecture.parameters")
    else:
        counts = {"with head": _count(model.full), "encoder": _count(model.encoder)}
        tol = card.smoke_test.parameter_tolerance
        ok = any(abs(n - claimed) <= tol * claimed for n in counts.values())
        shown = ", ".join(f"{k} {v:,}" for k, v in counts.items())
        report.add(
            "parameters",
            ok,
            f"checkpoint has {shown}"
            + (
                f"; within {tol:.0%} of the card's {arch.parameters}"
                if ok
                else f"; the card says {arch.parameters} ({claimed:,}), more than {tol:.0%} away "
                "(smoke_test.parameter_tolerance)"
            ),
        )
    context = tokens.context.tokens if tokens else None
    found = _config_value(model.config, CONTEXT_KEYS)
    if context is None or found is None:
        report.add(
            "context",
            None,
            "not checked: "
            + (
                "the card states no tokenization.context.tokens"
                if context is None
                else "the config states no maximum length"
            ),
        )
    else:
        key, value = found
        ok = 0 <= value - context <= CONTEXT_SLACK
        report.add(
            "context",
            ok,
            f"config.{key} is {value}"
            + ("" if ok else f", but the card says tokenization.context.tokens {context}"),
        )


def weights(report: Any, model: Any) -> None:
    """Every weight came from the checkpoint: transformers fills missing ones at random, silently."""
    missing = [k for k in model.missing_keys if "pooler" not in k.split(".")[0:2]]
    if not missing:
        note = " (an unused pooler head was initialised at random)" if model.missing_keys else ""
        report.add("weights", True, f"every weight came from the checkpoint{note}")
        return
    shown = ", ".join(missing[:4]) + ("..." if len(missing) > 4 else "")
    report.add(
        "weights",
        False,
        f"{len(missing)} weight(s) are not in the checkpoint and were initialised at "
        f"random ({shown}): wrong loader or class for this checkpoint (smoke_test.loader)",
    )


def output(report: Any, projected: torch.Tensor, batch: int) -> None:
    """Shape [batch, 512], finite, not constant, LayerNorm rows with mean ~0 and std ~1."""
    shape = list(projected.shape)
    report.add(
        "shape",
        shape == [batch, 512],
        f"projected output has shape {shape}"
        + ("" if shape == [batch, 512] else f", expected [{batch}, 512]"),
    )
    finite = bool(torch.isfinite(projected).all())
    report.add(
        "finite",
        finite,
        "all values finite"
        if finite
        else f"{int((~torch.isfinite(projected)).sum())} value(s) are NaN or infinite",
    )
    spread = float(projected.float().std()) if projected.numel() > 1 else 0.0
    rows_differ = projected.shape[0] < 2 or float((projected - projected[:1]).abs().max()) > 1e-6
    ok = spread > 1e-6 and rows_differ
    report.add(
        "not constant",
        ok,
        "values vary within and across rows"
        if ok
        else "the projected embeddings are constant"
        + ("" if rows_differ else ": every sequence gives the same embedding"),
    )
    means, stds = projected.float().mean(-1), projected.float().std(-1, unbiased=False)
    worst_mean, worst_std = float(means.abs().max()), float((stds - 1).abs().max())
    ok = worst_mean < 1e-3 and worst_std < 1e-2
    report.add(
        "layernorm",
        ok,
        f"row mean within {worst_mean:.1e} of 0, std within {worst_std:.1e} of 1"
        + ("" if ok else " (expected mean ~0 and std ~1 after the projector's LayerNorm)"),
    )


def _diff(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> tuple[float, tuple[int, ...]]:
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    d = np.abs(x - y)
    if d.size == 0:
        return 0.0, ()
    where = np.unravel_index(int(np.nanargmax(d)) if np.isfinite(d).any() else 0, d.shape)
    return float(d[where]), tuple(int(i) for i in where)


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float, atol: float) -> bool:
    return bool(torch.allclose(a.float().cpu(), b.float().cpu(), rtol=rtol, atol=atol))


def determinism(
    report: Any,
    embed: Callable[[list[str]], torch.Tensor],
    project: Callable[..., torch.Tensor],
    seqs: list[str],
    pooled: torch.Tensor,
    projected: torch.Tensor,
    *,
    exact: bool,
    rtol: float,
    atol: float,
) -> None:
    """A second run gives the same pooled and projected outputs (eval mode: no dropout, no masking)."""
    pooled2 = embed(seqs)
    projected2 = project(pooled2)
    if exact:
        ok = torch.equal(pooled, pooled2) and torch.equal(projected, projected2)
    else:
        ok = _close(pooled, pooled2, rtol, atol) and _close(projected, projected2, rtol, atol)
    diff, where = _diff(pooled.cpu(), pooled2.cpu())
    report.add(
        "determinism",
        ok,
        ("two runs give identical outputs" if exact else f"two runs agree within rtol={rtol}, atol={atol}")
        if ok
        else f"two runs differ (largest pooled difference {diff:.3g} at {list(where)}): dropout or random "
        "masking is active at inference (eval mode, mask_ratio 0)",
    )


def padding(
    report: Any,
    embedder: Any,
    tok: Any,
    seqs: list[str],
    takes_mask: bool,
    batching: str,
    rtol: float,
    atol: float,
) -> None:
    """Each sequence alone equals it inside a padded batch."""
    if batching == "batch":  # fixed-size tensors: nothing is padded, but the batch must not matter
        batch = embedder.pooled(seqs)
        for i, item in enumerate(seqs):
            alone = embedder.pooled([item])
            if not _close(alone[0], batch[i], rtol, atol):
                diff, where = _diff(alone[0].cpu(), batch[i].cpu())
                report.add(
                    "batch invariance",
                    False,
                    f"sample {i} alone differs from it inside a batch of {len(seqs)} (largest difference "
                    f"{diff:.3g} at channel {where[0] if where else 0}): the model mixes samples of a batch "
                    "(batch statistics in train mode?)",
                )
                return
        report.add("batch invariance", True, f"each of {len(seqs)} samples alone equals it inside the batch")
        return
    if batching == "unpadded":
        report.add(
            "padding invariance",
            None,
            "not applicable: the model takes no attention mask, so padding would change its outputs; "
            "sequences are fed one at a time (equal-length batches are safe too)",
        )
        return
    ids = [tok(s) for s in seqs]
    if len({len(i) for i in ids}) < 2:
        report.add("padding invariance", None, "not exercised: every sequence has the same number of tokens")
        return
    batch = embedder.pooled(ids)
    how = (
        "with its attention mask"
        if takes_mask
        else "right-padded, with a masked mean (causal model, no mask)"
    )
    for i, seq_ids in enumerate(ids):
        alone = embedder.pooled([seq_ids])
        if not _close(alone[0], batch[i], rtol, atol):
            diff, where = _diff(alone[0].cpu(), batch[i].cpu())
            hint = (
                "the model takes an attention mask but its output still depends on the padding, or the "
                "pooling averages padding positions"
                if takes_mask
                else "the model takes no attention mask, so the padding tokens mix into the real ones; use "
                "smoke_test.batching: unpadded (or auto) for this model"
            )
            report.add(
                "padding invariance",
                False,
                f"sequence {i} ({len(seq_ids)} tokens) alone differs from it inside a padded batch of "
                f"{len(ids)} (largest difference {diff:.3g} at channel {where[0] if where else 0}): "
                f"padding leaks into the embedding; {hint}",
            )
            return
    report.add(
        "padding invariance",
        True,
        f"each of {len(ids)} sequences alone equals it inside the padded batch ({how})",
    )


def reverse_complement_check(
    report: Any,
    card: Any,
    embed: Callable[[list[str]], torch.Tensor],
    embedder: Any,
    tok: Any,
    seqs: list[str],
    rtol: float,
    atol: float,
) -> None:
    """The pooled embedding of a sequence equals that of its reverse complement, where claimed."""
    mode = card.pooling.reverse_complement
    claimed = card.smoke_test.rc_invariant
    if claimed is None:
        claimed = mode != "none"
    fwd = embed(seqs)
    rev = embed([reverse_complement(s) for s in seqs])
    diff, where = _diff(fwd.cpu(), rev.cpu())
    same = _close(fwd, rev, rtol, atol)
    raw = ""
    if mode == "average":
        # Averaging is invariant by construction; say how far the model itself is from it.
        f1 = embedder.pooled([tok(s) for s in seqs])
        r1 = embedder.pooled([tok(reverse_complement(s)) for s in seqs])
        raw = f" (the model alone differs by up to {_diff(f1.cpu(), r1.cpu())[0]:.3g} between strands)"
    if not claimed:
        report.add(
            "reverse complement",
            None,
            f"not claimed: the card declares no RC handling; forward and reverse-complement embeddings "
            f"differ by up to {diff:.3g}",
        )
        return
    if same:
        how = {
            "average": "forward and RC embeddings averaged",
            "split": "one-pass split of 2 x d channels",
            "none": "the model itself",
        }[mode]
        report.add("reverse complement", True, f"RC-invariant ({how}){raw}")
        return
    fix = {
        "none": "set pooling.reverse_complement: average (models trained with RC augmentation, e.g. "
        "Caduceus-PH) or split (RC-equivariant models, e.g. Caduceus-PS)",
        "split": "the model is not RC-equivariant in the channel layout 'split' assumes (second half = "
        "reverse-complement strand); use average instead",
        "average": "check the tokenizer's reverse complement",
    }[mode]
    source = (
        "smoke_test.rc_invariant: true"
        if card.smoke_test.rc_invariant
        else f"pooling.reverse_complement: {mode}"
    )
    report.add(
        "reverse complement",
        False,
        f"the card claims an RC-invariant embedding ({source}), but a sequence "
        f"and its reverse complement give embeddings that differ by up to {diff:.3g} (sequence "
        f"{where[0] if where else 0}, channel {where[1] if len(where) > 1 else 0}); {fix}",
    )


def zero_shot(
    report: Any, card: Any, embed: Callable[[list[str]], torch.Tensor], embedder: Any, tok: Any, seq: str
) -> None:
    """The card's zero-shot method on a reference/alternate pair.

    Identical sequences score 0; a single-base substitution scores a finite, non-zero value."""
    method = card.evaluation.zero_shot_method or (
        "log-likelihood-ratio" if card.architecture.model_type == "causal" else "cosine-distance"
    )
    pos = len(seq) // 2
    alt = substitute(seq, pos)
    change = f"{seq[pos]}>{alt[pos]} at position {pos}"
    if method == "cosine-distance":
        ref, same, var = (embed([s]).double()[0] for s in (seq, seq, alt))
        cosine = torch.nn.functional.cosine_similarity
        identical = float(1 - cosine(ref, same, dim=0))
        substituted = float(1 - cosine(ref, var, dim=0))
    else:
        try:
            # Scored twice for the identical pair, so that nondeterminism would show as a non-zero score.
            ll_ref, ll_same, ll_alt = (embedder.log_likelihood(tok(s)) for s in (seq, seq, alt))
        except Exception as exc:  # the model cannot score sequences: report it, do not crash
            report.add("zero-shot", False, f"log-likelihood ratio: {exc}")
            return
        identical, substituted = ll_same - ll_ref, ll_alt - ll_ref
    ok = abs(identical) <= 1e-6 and np.isfinite(substituted) and substituted != 0.0
    report.add(
        "zero-shot",
        bool(ok),
        f"{method}: identical sequences {identical:.3g}, "
        f"single-base substitution ({change}) {substituted:.3g}"
        + (
            ""
            if ok
            else " (expected 0 for identical sequences and a finite non-zero score for the substitution)"
        ),
    )


def golden(
    report: Any,
    project: Any,
    path: Path,
    pooled: np.ndarray,
    projected: np.ndarray,
    record: bool,
    tol: tuple[float, float],
    loose: tuple[float, float],
    low_precision: bool,
    meta: dict[str, Any],
) -> None:
    """Record, or compare with, the stored pooled and projected outputs of the fixed seeded input."""
    rel = project.rel(path)
    if record:
        if report.failures:
            report.add("golden reference", False, f"not recorded to {rel}: other checks failed")
            return
        buf = io.BytesIO()
        np.savez(buf, pooled=pooled, projected=projected, meta=np.array(json.dumps(meta, sort_keys=True)))
        atomic_write_bytes(path, buf.getvalue())
        report.add("golden reference", True, f"recorded to {rel}")
        return
    if not path.is_file():
        report.add("golden reference", None, f"none recorded yet: kb smoke --record {report.id} writes {rel}")
        return
    try:
        with np.load(path, allow_pickle=False) as data:
            golden_pooled, golden_projected = data["pooled"], data["projected"]
            golden_meta = json.loads(str(data["meta"])) if "meta" in data else {}
    except (OSError, ValueError, KeyError) as exc:
        report.add("golden reference", False, f"cannot read {rel}: {exc}; record it again with --record")
        return
    rtol, atol = loose if low_precision or golden_meta.get("dtype", "float32") != meta["dtype"] else tol
    problems = []
    for name, now, then in (("pooled", pooled, golden_pooled), ("projected", projected, golden_projected)):
        if now.shape != then.shape:
            problems.append(f"{name} has shape {list(now.shape)}, the golden reference {list(then.shape)}")
            continue
        bad = ~np.isclose(now, then, rtol=rtol, atol=atol)
        if bad.any():
            diff, where = _diff(now, then)
            problems.append(
                f"{name}: {int(bad.sum())} of {bad.size} values outside tolerance, largest "
                f"difference {diff:.3g} at {list(where)} (golden {float(then[where]):.6g}, "
                f"now {float(now[where]):.6g})"
            )
    recorded_on = f"recorded on {golden_meta.get('device', '?')} in {golden_meta.get('dtype', '?')}"
    if problems:
        report.add(
            "golden reference",
            False,
            f"outputs no longer match {rel} ({recorded_on}; rtol={rtol}, "
            f"atol={atol}): " + "; ".join(problems) + ". If the change is intended, record again with "
            f"kb smoke --record {report.id}",
        )
    else:
        report.add("golden reference", True, f"matches {rel} ({recorded_on}) within rtol={rtol}, atol={atol}")

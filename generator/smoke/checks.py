"""The smoke test's checks. Each is `check(run, report)`: it reads the run (`generator.smoke.run`) and
adds one named outcome to the report; a failure's message says what was expected, what was measured
and what to change on the card.

`CHECKS` is the ordered list the runner goes through, each entry saying which input kinds it applies
to. Adding a check is one function and one line there.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from generator.io import atomic_write_bytes
from generator.schema.common import param_count_value
from generator.smoke.inputs import reverse_complement, substitute
from generator.smoke.report import Report
from generator.smoke.run import SmokeRun
from generator.smoke.tying import Ties

LAYER_KEYS = ("num_hidden_layers", "n_layer", "num_layers", "n_layers")
CONTEXT_KEYS = ("max_position_embeddings", "max_seq_len", "n_positions", "seq_len", "max_seqlen")
CONTEXT_SLACK = 2
"""Position tables may hold a few more rows than the usable context (special tokens, padding offset)."""


def config_value(config: Any, keys: tuple[str, ...]) -> tuple[str, int] | None:
    for key in keys:
        value = getattr(config, key, None) if config is not None else None
        if isinstance(value, int) and not isinstance(value, bool):
            return key, value
    return None


def _count(module: Any) -> int:
    return sum(p.numel() for p in module.parameters())


def _not_checked(report: Report, name: str, why: str) -> None:
    report.add(name, None, f"not checked: {why}")


def _against_card(
    report: Report, name: str, ok: bool, measured: str, card_says: str, sep: str = ", but"
) -> None:
    """`measured` (what the model shows) and, when it disagrees, what the card says instead."""
    report.add(name, ok, measured + ("" if ok else f"{sep} the card says {card_says}"))


def _config_claim(
    run: SmokeRun,
    report: Report,
    name: str,
    claimed: int | None,
    card_field: str,
    keys: tuple[str, ...],
    no_config: str,
) -> tuple[int, str, int] | None:
    """(claimed, config key, config value) when both the card (at `card_field`) and the model's config
    (under one of `keys`) state the value; otherwise the check is not checked, saying which does not."""
    found = config_value(run.model.config, keys)
    if claimed is None or found is None:
        _not_checked(report, name, f"the card states no {card_field}" if claimed is None else no_config)
        return None
    return claimed, *found


# --- the card's claims against the loaded model --------------------------------------------------------


def weights(run: SmokeRun, report: Report) -> None:
    """Every weight came from the checkpoint: transformers fills missing ones at random, silently.
    Weights the model's code shares count as loaded once one of their names is in the checkpoint
    (`generator.smoke.tying`)."""
    model = run.model
    ties = model.ties
    missing = [k for k in model.missing_keys if "pooler" not in k.split(".")[0:2]]
    if ties is not None and ties.conflicts:
        name, other = ties.conflicts[0]
        report.add(
            "weights",
            False,
            f"the checkpoint stores {name} and {other}, which the model's code ties (one weight), with "
            f"different values{f' ({len(ties.conflicts)} such pairs)' if len(ties.conflicts) > 1 else ''}: "
            "it was not saved from this model",
        )
        return
    if not missing:
        note = " (an unused pooler head was initialised at random)" if model.missing_keys else ""
        report.add("weights", True, f"every weight came from the checkpoint{note}{_tied_note(ties)}")
        return
    shown = ", ".join(missing[:4]) + ("..." if len(missing) > 4 else "")
    unread = (
        f" ({ties.undetermined}, so weights it ties may be among them)" if ties and ties.undetermined else ""
    )
    report.add(
        "weights",
        False,
        f"{len(missing)} weight(s) are not in the checkpoint and were initialised at "
        f"random ({shown}): wrong loader or class for this checkpoint (smoke_test.loader){unread}",
    )


def _tied_note(ties: Ties | None) -> str:
    if ties is None or not ties.tied:
        return ""
    name, source = next(iter(ties.tied.items()))
    return (
        f"; {len(ties.tied)} weight(s) the model's code shares with others were tied after loading "
        f"({name} is {source}{', ...' if len(ties.tied) > 1 else ''})"
    )


def hidden_width(run: SmokeRun, report: Report) -> None:
    """Hidden width: measured on the hidden states, not read from the config."""
    arch, measured = run.card.architecture, run.out.hidden_width
    split = run.card.pooling.reverse_complement == "split"
    if arch.hidden_size is None:
        report.add("hidden width", None, f"the card states no architecture.hidden_size (measured {measured})")
        return
    expected = 2 * arch.hidden_size if split else arch.hidden_size
    ok = measured == expected
    if ok:
        where = f" (2 x hidden_size {arch.hidden_size}: RC-equivariant channels)" if split else ""
        message = f"hidden states are {measured} wide, as the card says{where}"
    elif split:
        message = (
            f"the card says architecture.hidden_size {arch.hidden_size}, so an RC-equivariant model "
            f"(reverse_complement 'split') should give {expected} channels, but the model's hidden "
            f"states are {measured} wide"
        )
    else:
        message = (
            f"the card says architecture.hidden_size {arch.hidden_size}, "
            f"but the model's hidden states are {measured} wide"
        )
    report.add("hidden width", ok, message)


def embedding_width(run: SmokeRun, report: Report) -> None:
    """architecture.embedding_dim, where stated, is the measured pooled width."""
    claimed, width = run.card.architecture.embedding_dim, run.pooled_width
    if claimed is None:
        return  # nothing claimed; the projector check below compares the measured width anyway
    _against_card(
        report,
        "embedding width",
        claimed == width,
        f"pooled embedding is {width} wide",
        f"architecture.embedding_dim {claimed}",
    )


def projector_width(run: SmokeRun, report: Report) -> None:
    """integration.projector.in_dim is the measured pooled width (the projector is sized from it)."""
    claimed, width = run.card.integration.projector.in_dim, run.pooled_width
    ok = claimed == width
    report.add(
        "projector width",
        ok,
        f"integration.projector.in_dim {claimed} matches the pooled width"
        if ok
        else f"the card says integration.projector.in_dim {claimed}, but the pooled embedding is "
        f"{width} wide: set integration.projector.in_dim: {width}",
    )


def layers(run: SmokeRun, report: Report) -> None:
    stated = _config_claim(
        run,
        report,
        "layers",
        run.card.architecture.layers,
        "architecture.layers",
        LAYER_KEYS,
        "the model's config states no layer count",
    )
    if stated:
        claimed, key, value = stated
        _against_card(
            report, "layers", value == claimed, f"config.{key} is {value}", f"architecture.layers {claimed}"
        )


def vocabulary(run: SmokeRun, report: Report) -> None:
    tokens = run.card.tokenization
    if tokens is None or tokens.vocab_size is None:
        _not_checked(report, "vocabulary", "the card states no tokenization.vocab_size")
        return
    config_vocab, tokenizer_len = getattr(run.model.config, "vocab_size", None), run.vocab
    seen = {v for v in (config_vocab, tokenizer_len) if isinstance(v, int)}
    _against_card(
        report,
        "vocabulary",
        tokens.vocab_size in seen,
        f"config.vocab_size {config_vocab}, tokenizer {tokenizer_len} tokens",
        f"tokenization.vocab_size {tokens.vocab_size}",
        ";",
    )


def parameters(run: SmokeRun, report: Report) -> None:
    arch = run.card.architecture
    claimed = param_count_value(arch.parameters)
    if claimed is None:
        _not_checked(report, "parameters", "the card states no architecture.parameters")
        return
    counts = {"with head": _count(run.model.full), "encoder": _count(run.model.encoder)}
    tol = run.smoke.parameter_tolerance
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


def context(run: SmokeRun, report: Report) -> None:
    tokens = run.card.tokenization
    stated = _config_claim(
        run,
        report,
        "context",
        tokens.context.tokens if tokens else None,
        "tokenization.context.tokens",
        CONTEXT_KEYS,
        "the config states no maximum length",
    )
    if stated:
        claimed, key, value = stated
        _against_card(
            report,
            "context",
            0 <= value - claimed <= CONTEXT_SLACK,
            f"config.{key} is {value}",
            f"tokenization.context.tokens {claimed}",
        )


# --- the projected output ------------------------------------------------------------------------------


def shape(run: SmokeRun, report: Report) -> None:
    got, batch = list(run.out.projected.shape), run.smoke.input.batch_size
    ok = got == [batch, 512]
    expected = "" if ok else f", expected [{batch}, 512]"
    report.add("shape", ok, f"projected output has shape {got}{expected}")


def finite(run: SmokeRun, report: Report) -> None:
    projected = run.out.projected
    ok = bool(torch.isfinite(projected).all())
    report.add(
        "finite",
        ok,
        "all values finite"
        if ok
        else f"{int((~torch.isfinite(projected)).sum())} value(s) are NaN or infinite",
    )


def not_constant(run: SmokeRun, report: Report) -> None:
    projected = run.out.projected
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


def layernorm(run: SmokeRun, report: Report) -> None:
    """LayerNorm rows with mean ~0 and std ~1."""
    projected = run.out.projected.float()
    means, stds = projected.mean(-1), projected.std(-1, unbiased=False)
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


def _close(run: SmokeRun, a: torch.Tensor, b: torch.Tensor) -> bool:
    tol = run.tolerances
    return bool(torch.allclose(a.float().cpu(), b.float().cpu(), rtol=tol.rtol, atol=tol.atol))


# --- behaviour: determinism, padding, reverse complement, zero-shot --------------------------------------


def determinism(run: SmokeRun, report: Report) -> None:
    """A second run gives the same pooled and projected outputs (eval mode: no dropout, no masking)."""
    out, tol = run.out, run.tolerances
    pooled2 = run.embed(out.samples, fresh=True)
    projected2 = run.project_(pooled2)
    if tol.exact:
        ok = torch.equal(out.pooled, pooled2) and torch.equal(out.projected, projected2)
    else:
        ok = _close(run, out.pooled, pooled2) and _close(run, out.projected, projected2)
    diff, where = _diff(out.pooled.cpu(), pooled2.cpu())
    agree = f"two runs agree within rtol={tol.rtol}, atol={tol.atol}"
    report.add(
        "determinism",
        ok,
        ("two runs give identical outputs" if tol.exact else agree)
        if ok
        else f"two runs differ (largest pooled difference {diff:.3g} at {list(where)}): dropout or random "
        "masking is active at inference (eval mode, mask_ratio 0)",
    )


def _alone_differs(run: SmokeRun, items: list[Any]) -> tuple[int, float, int] | None:
    """The first item whose pooled output alone differs from its output inside one batch of all the
    items: (its index, the largest difference, its channel); None when every one agrees."""
    batch = run.embedder.pooled(items)
    for i, item in enumerate(items):
        alone = run.embedder.pooled([item])
        if not _close(run, alone[0], batch[i]):
            diff, where = _diff(alone[0].cpu(), batch[i].cpu())
            return i, diff, where[0] if where else 0
    return None


def _batch_invariance(run: SmokeRun, report: Report) -> None:
    """Fixed-size tensors: nothing is padded, but the batch must not matter."""
    seqs = run.samples
    differs = _alone_differs(run, seqs)
    if differs:
        i, diff, channel = differs
        report.add(
            "batch invariance",
            False,
            f"sample {i} alone differs from it inside a batch of {len(seqs)} (largest difference "
            f"{diff:.3g} at channel {channel}): the model mixes samples of a batch "
            "(batch statistics in train mode?)",
        )
        return
    report.add("batch invariance", True, f"each of {len(seqs)} samples alone equals it inside the batch")


def padding(run: SmokeRun, report: Report) -> None:
    """Each sequence alone equals it inside a padded batch."""
    if run.batching == "batch":
        _batch_invariance(run, report)
        return
    if run.batching == "unpadded":
        report.add(
            "padding invariance",
            None,
            "not applicable: the model takes no attention mask, so padding would change its outputs; "
            "sequences are fed one at a time (equal-length batches are safe too)",
        )
        return
    ids = [run.tokenize(s) for s in run.samples]
    if len({len(i) for i in ids}) < 2:
        report.add("padding invariance", None, "not exercised: every sequence has the same number of tokens")
        return
    differs = _alone_differs(run, ids)
    if differs:
        i, diff, channel = differs
        report.add(
            "padding invariance",
            False,
            f"sequence {i} ({len(ids[i])} tokens) alone differs from it inside a padded batch of "
            f"{len(ids)} (largest difference {diff:.3g} at channel {channel}): "
            f"padding leaks into the embedding; {_padding_hint(run.model.takes_mask)}",
        )
        return
    how = (
        "with its attention mask"
        if run.model.takes_mask
        else "right-padded, with a masked mean (causal model, no mask)"
    )
    report.add(
        "padding invariance",
        True,
        f"each of {len(ids)} sequences alone equals it inside the padded batch ({how})",
    )


def _padding_hint(takes_mask: bool) -> str:
    if takes_mask:
        return (
            "the model takes an attention mask but its output still depends on the padding, or the "
            "pooling averages padding positions"
        )
    return (
        "the model takes no attention mask, so the padding tokens mix into the real ones; use "
        "smoke_test.batching: unpadded (or auto) for this model"
    )


RC_HOW = {
    "average": "forward and RC embeddings averaged",
    "split": "one-pass split of 2 x d channels",
    "none": "the model itself",
}
RC_FIX = {
    "none": "set pooling.reverse_complement: average (models trained with RC augmentation, e.g. "
    "Caduceus-PH) or split (RC-equivariant models, e.g. Caduceus-PS)",
    "split": "the model is not RC-equivariant in the channel layout 'split' assumes (second half = "
    "reverse-complement strand); use average instead",
    "average": "check the tokenizer's reverse complement",
}


def reverse_complement_check(run: SmokeRun, report: Report) -> None:
    """The pooled embedding of a sequence equals that of its reverse complement, where claimed. Both are
    tokenized as the card's smoke input says (`add_special_tokens`), which the message names."""
    mode, claimed_flag = run.card.pooling.reverse_complement, run.smoke.rc_invariant
    claimed = mode != "none" if claimed_flag is None else claimed_flag
    seqs = run.samples
    fwd = run.embed(seqs)
    rev = run.embed([reverse_complement(s) for s in seqs])
    diff, where = _diff(fwd.cpu(), rev.cpu())
    added = run.dna().added(seqs[0])
    tokens = (
        "no special tokens (add_special_tokens: false)"
        if not run.dna().add_special_tokens
        else f"with the {' '.join(added)} the tokenizer adds"
        if added
        else "the tokenizer adds no special tokens"
    )
    if not claimed:
        report.add(
            "reverse complement",
            None,
            f"not claimed: the card declares no RC handling; forward and reverse-complement embeddings "
            f"differ by up to {diff:.3g}",
        )
        return
    if _close(run, fwd, rev):
        report.add("reverse complement", True, f"RC-invariant ({RC_HOW[mode]}; {tokens}){_raw_rc(run, mode)}")
        return
    source = "smoke_test.rc_invariant: true" if claimed_flag else f"pooling.reverse_complement: {mode}"
    fix = RC_FIX[mode]
    if mode == "split" and added:
        fix = (
            f"the tokenizer adds {' '.join(added)} to each sequence, at the same place for a sequence and "
            "its reverse complement, so no strand symmetry holds for the token sequence; tokenize as the "
            "walkthrough does with smoke_test.input.add_special_tokens: false"
        )
    report.add(
        "reverse complement",
        False,
        f"the card claims an RC-invariant embedding ({source}), but a sequence "
        f"and its reverse complement give embeddings that differ by up to {diff:.3g} (sequence "
        f"{where[0] if where else 0}, channel {where[1] if len(where) > 1 else 0}; {tokens}); {fix}",
    )


def _raw_rc(run: SmokeRun, mode: str) -> str:
    """Averaging is invariant by construction; say how far the model itself is from it."""
    if mode != "average":
        return ""
    tok, seqs = run.dna(), run.samples
    f1 = run.embedder.pooled([tok(s) for s in seqs])
    r1 = run.embedder.pooled([tok(reverse_complement(s)) for s in seqs])
    return f" (the model alone differs by up to {_diff(f1.cpu(), r1.cpu())[0]:.3g} between strands)"


def zero_shot(run: SmokeRun, report: Report) -> None:
    """The card's zero-shot method on a reference/alternate pair.

    Identical sequences score 0; a single-base substitution scores a finite, non-zero value."""
    card, seq = run.card, run.samples[0]
    method = card.evaluation.zero_shot_method or (
        "log-likelihood-ratio" if card.architecture.model_type == "causal" else "cosine-distance"
    )
    pos = len(seq) // 2
    alt = substitute(seq, pos)
    change = f"{seq[pos]}>{alt[pos]} at position {pos}"
    if method == "cosine-distance":
        ref, same, var = (run.embed([s]).double()[0] for s in (seq, seq, alt))
        cosine = torch.nn.functional.cosine_similarity
        identical = float(1 - cosine(ref, same, dim=0))
        substituted = float(1 - cosine(ref, var, dim=0))
    else:
        scores = _log_likelihoods(run, (seq, seq, alt), report)
        if scores is None:
            return
        ll_ref, ll_same, ll_alt = scores
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


def _log_likelihoods(run: SmokeRun, seqs: tuple[str, ...], report: Report) -> list[float] | None:
    """Scored twice for the identical pair, so that nondeterminism would show as a non-zero score."""
    from generator.smoke.encode import Embedder

    embedder, tok = run.embedder, run.dna()
    if not isinstance(embedder, Embedder):
        report.add("zero-shot", False, "log-likelihood ratio: the model takes no token ids")
        return None
    try:
        return [embedder.log_likelihood(tok(s)) for s in seqs]
    except Exception as exc:  # the model cannot score sequences: report it, do not crash
        report.add("zero-shot", False, f"log-likelihood ratio: {exc}")
        return None


# --- the golden reference --------------------------------------------------------------------------------


def golden(run: SmokeRun, report: Report) -> None:
    """Record, or compare with, the stored pooled and projected outputs of the fixed seeded input."""
    path, rel = run.golden_path, run.project.rel(run.golden_path)
    pooled, projected = run.out.pooled.float().cpu().numpy(), run.out.projected.float().cpu().numpy()
    if run.record:
        if report.failures:
            report.add("golden reference", False, f"not recorded to {rel}: other checks failed")
            return
        buf = io.BytesIO()
        meta = np.array(json.dumps(run.meta, sort_keys=True))
        np.savez(buf, pooled=pooled, projected=projected, meta=meta)
        atomic_write_bytes(path, buf.getvalue())
        report.add("golden reference", True, f"recorded to {rel}")
        return
    if not path.is_file():
        report.add("golden reference", None, f"none recorded yet: kb smoke --record {report.id} writes {rel}")
        return
    try:
        with np.load(path, allow_pickle=False) as data:
            then = {"pooled": data["pooled"], "projected": data["projected"]}
            golden_meta = json.loads(str(data["meta"])) if "meta" in data else {}
    except (OSError, ValueError, KeyError) as exc:
        report.add("golden reference", False, f"cannot read {rel}: {exc}; record it again with --record")
        return
    tol = run.tolerances
    loose = tol.low_precision or golden_meta.get("dtype", "float32") != run.meta["dtype"]
    rtol, atol = tol.loose if loose else (tol.rtol, tol.atol)
    problems = _golden_problems({"pooled": pooled, "projected": projected}, then, rtol, atol)
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


def _golden_problems(
    now: dict[str, np.ndarray], then: dict[str, np.ndarray], rtol: float, atol: float
) -> list[str]:
    problems = []
    for name in ("pooled", "projected"):
        a, b = now[name], then[name]
        if a.shape != b.shape:
            problems.append(f"{name} has shape {list(a.shape)}, the golden reference {list(b.shape)}")
            continue
        bad = ~np.isclose(a, b, rtol=rtol, atol=atol)
        if bad.any():
            diff, where = _diff(a, b)
            problems.append(
                f"{name}: {int(bad.sum())} of {bad.size} values outside tolerance, largest "
                f"difference {diff:.3g} at {list(where)} (golden {float(b[where]):.6g}, "
                f"now {float(a[where]):.6g})"
            )
    return problems


# --- the list the runner goes through --------------------------------------------------------------------

ALL_INPUTS = frozenset({"dna", "token-ids", "roi-timeseries"})
DNA = frozenset({"dna"})


@dataclass(frozen=True)
class CheckSpec:
    """One entry of `CHECKS`: the function, the input kinds it applies to, and its name when skipped."""

    run: Callable[[SmokeRun, Report], None]
    inputs: frozenset[str] = ALL_INPUTS
    name: str = ""
    """The outcome's name, for the 'not applicable' entry on other input kinds."""
    skipped: str = ""
    """Why it does not apply to other input kinds (appended to 'not applicable to <kind> input')."""


CHECKS: list[CheckSpec] = [
    CheckSpec(weights),
    CheckSpec(hidden_width),
    CheckSpec(embedding_width),
    CheckSpec(projector_width),
    CheckSpec(layers),
    CheckSpec(vocabulary),
    CheckSpec(parameters),
    CheckSpec(context),
    CheckSpec(shape),
    CheckSpec(finite),
    CheckSpec(not_constant),
    CheckSpec(layernorm),
    CheckSpec(determinism),
    CheckSpec(padding),
    CheckSpec(reverse_complement_check, DNA, "reverse complement"),
    CheckSpec(zero_shot, DNA, "zero-shot", " (reference/alternate DNA pairs only)"),
    CheckSpec(golden),
]
"""Every check, in the order the report lists them."""

"""The smoke test of one card, top to bottom: load, tokenize, encode, pool, project, check, report.

`smoke_card` never raises for a problem with the card, its checkpoint or the model's own code: every
problem becomes a failed check in the report, named by the card and the stage (`SmokeStage`) or the
check. It raises only for problems of the machine (torch missing, CUDA requested where there is none).
"""

from __future__ import annotations

import contextlib
import platform
import resource
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from generator.exceptions import KBError, MissingDependency, SmokeError, SmokeStage, UsageError
from generator.io import sha256_file
from generator.settings import DEFAULTS, Project
from generator.smoke.fingerprint import card_inputs_hash, checkpoint_files, verify
from generator.smoke.pinned import entry_point_file
from generator.smoke.report import Check, Report
from generator.smoke.trust import checkpoint_dir, require_pinned_clean, upstream_commit

if TYPE_CHECKING:
    from pathlib import Path

    from generator.knowledge import LoadedCard
    from generator.schema.model_card import ModelCard
    from generator.smoke.encode import Embedder, TensorEmbedder
    from generator.smoke.inputs import Identity, Tokenize
    from generator.smoke.loader import LoadedModel
    from generator.smoke.run import Encoded, SmokeRun, Tolerances

__all__ = ["Check", "Report", "resolve_device", "smoke_card"]

MODEL_CODE_RAISES = (Exception, SystemExit)
"""What the model's code may raise that is a failed check of its card: `SystemExit` too (a `sys.exit()`
in hub code must not end `kb smoke` for the other cards). Ctrl-C (`KeyboardInterrupt`) still stops."""


def resolve_device(choice: str) -> tuple[str, bool]:
    """('cpu' | 'cuda', cuda_available). Asking for CUDA where there is none is a usage error."""
    import torch

    has_cuda = torch.cuda.is_available()
    if choice == "cuda" and not has_cuda:
        raise UsageError(
            "--device cuda: no CUDA device is available on this machine (torch "
            f"{torch.__version__}); use --device cpu or auto"
        )
    if choice == "auto":
        return ("cuda" if has_cuda else "cpu"), has_cuda
    return choice, has_cuda


def smoke_card(
    project: Project,
    loaded: LoadedCard[ModelCard],
    device_choice: str = DEFAULTS.smoke_device,
    record: bool = False,
    step: Callable[[str], None] | None = None,
    kernels_mode: str = "auto",
) -> Report:
    """Run every check on one card and return its report (not yet written).

    `kernels_mode`: `--kernels` (auto, native or reference; see `generator.smoke.kernels`)."""
    from generator.smoke.kernels import choose, covers_cuda, replaceable

    card: ModelCard = loaded.card
    step = step or (lambda _s: None)
    report = Report(id=card.id)
    if card.smoke_test is None:
        report.add("smoke_test", None, "the card has no smoke_test section")
        return report.finish("skipped")
    device, has_cuda = resolve_device(device_choice)
    report.device = device
    kernels = choose(card, device, kernels_mode)
    if replaceable(card):
        report.kernels = kernels.to_json()  # the load reads it back: the report records what ran
    needs_cuda = card.smoke_test.requires_cuda or card.deployment.requires_cuda
    on_reference = kernels.kind == "reference" and covers_cuda(card)
    if needs_cuda and device != "cuda" and not on_reference:
        why = "no CUDA device on this machine" if not has_cuda else "--device cpu was asked for"
        if covers_cuda(card):
            why += "; --kernels native refuses the reference kernels that would run it on CPU"
        report.add(
            "device",
            None,
            f"the card needs CUDA (smoke_test.requires_cuda) and {why}; never counted as passed",
        )
        report.summary = f"needs CUDA ({why}); not counted as passed"
        report.inputs_hash = card_inputs_hash(project, loaded)
        return report.finish("skipped")
    try:
        run = prepare(project, loaded, report, device, record, step)
        step("check")
        check(run, report)
        report.memory = _memory(device)
    except SmokeError as exc:
        report.add(exc.stage.value, False, str(exc).removeprefix(f"card '{card.id}': "))
    except MissingDependency as exc:
        report.add(SmokeStage.DEPENDENCIES.value, False, str(exc))
    report.inputs_hash = card_inputs_hash(project, loaded)
    return report.finish()


def check(run: SmokeRun, report: Report) -> None:
    """Every check of `CHECKS` that applies to the run's input kind, in order; a check that raises is a
    failed check (the model's code misbehaved), never a traceback."""
    from generator.smoke.checks import CHECKS
    from generator.smoke.diagnose import explain

    for spec in CHECKS:
        name = spec.name or spec.run.__name__.replace("_", " ")
        if run.kind not in spec.inputs:
            report.add(name, None, f"not applicable to {run.kind} input{spec.skipped}")
            continue
        try:
            spec.run(run, report)
        except KBError as exc:
            report.add(name, False, str(exc))
        except MODEL_CODE_RAISES as exc:
            report.add(name, False, explain(exc, SmokeStage.CHECK, run.device))


@contextlib.contextmanager
def stage(card_id: str, which: SmokeStage, device: str) -> Iterator[None]:
    """Anything the model's code raises in this stage becomes a SmokeError of that stage, explained."""
    from generator.smoke.diagnose import explain

    try:
        yield
    except KBError:
        raise
    except MODEL_CODE_RAISES as exc:
        raise SmokeError(f"card '{card_id}': {explain(exc, which, device)}", which) from exc


def prepare(
    project: Project,
    loaded: LoadedCard[ModelCard],
    report: Report,
    device: str,
    record: bool,
    step: Callable[[str], None],
) -> SmokeRun:
    """Load, tokenize, encode and project: the run every check reads (the report gets upstream,
    checkpoint, timings and embedding)."""
    import torch

    from generator.smoke.projector import seeded_projector
    from generator.smoke.run import SmokeRun

    card: ModelCard = loaded.card
    smoke = card.smoke_test
    assert smoke is not None
    with stage(card.id, SmokeStage.REMOTE_CODE, device):
        ckpt, runs_code = _upstream(project, card, report)
    with stage(card.id, SmokeStage.CHECKPOINT, device):
        _checkpoint_files(project, loaded, ckpt, report)
    tol, dtype = _tolerances(card, device)
    report.dtype = str(dtype).removeprefix("torch.")
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    step("load")
    model = _load(project, card, ckpt, device, dtype, runs_code, report)
    with stage(card.id, SmokeStage.TOKENIZE, device):
        tok, embedder, samples, batching = _inputs(card, model, torch.device(device), dtype)
        _fits_positions(card, model, tok, samples)
    run = SmokeRun(project, loaded, model, tok, embedder, batching, device, report.dtype, tol, record)
    step("encode")
    run.encoded = _encode(run, samples, report)
    step("project")
    with stage(card.id, SmokeStage.PROJECT, device):
        projector = seeded_projector(card.integration.projector, run.pooled_width, smoke.input.seed)
        run.projector = projector.to(device).eval()
        run.encoded.projected = run.project_(run.encoded.pooled)
    sizes = report.embedding["sample_sizes"]
    run.meta = {"device": device, "dtype": report.dtype, "seed": smoke.input.seed, "sizes": sizes}
    return run


def _upstream(project: Project, card: ModelCard, report: Report) -> tuple[Path, bool]:
    """The checkpoint folder, and whether upstream code runs (refused unless pinned and clean)."""
    smoke = card.smoke_test
    assert smoke is not None
    ckpt = checkpoint_dir(project, card)
    runs_code = smoke.trust_remote_code or smoke.loader == "entry-point"
    if smoke.loader == "entry-point" and not smoke.trust_remote_code:
        raise SmokeError(
            f"card '{card.id}': refusing to run the upstream entry point {smoke.entry_point}: the "
            "card does not opt in (set smoke_test.trust_remote_code: true after reviewing the code)",
            SmokeStage.REMOTE_CODE,
        )
    repo_dir = project.repo_dir(card.repo.name)
    commit = (
        require_pinned_clean(project, card, ckpt, "the checkpoint's own code (trust_remote_code)")
        if runs_code
        else upstream_commit(repo_dir)
    )
    report.upstream = {
        "repo": card.repo.name,
        "url": card.repo.url,
        "pinned": card.repo.commit,
        "commit": commit,
        "remote_code": runs_code,
    }
    if smoke.loader == "entry-point":
        entry_point_file(project, card, ckpt)  # the module imported is the pinned one, or refused
    if runs_code:
        report.add("remote code", True, f"upstream at the pinned commit {str(commit)[:12]} with a clean tree")
    return ckpt, runs_code


def _checkpoint_files(project: Project, loaded: LoadedCard[ModelCard], ckpt: Path, report: Report) -> None:
    """sha256 of every file in the report; a checkpoint pulled by `kb checkpoints pull` must still
    match what was recorded then."""
    import hashlib

    files, _ = checkpoint_files(ckpt, project.repo_dir(loaded.card.repo.name))  # links out: refused already
    digests = {p.relative_to(ckpt).as_posix(): sha256_file(p) for p in files}
    combined = hashlib.sha256("".join(f"{k}\0{v}\n" for k, v in digests.items()).encode()).hexdigest()
    report.checkpoint = {"path": project.rel(ckpt), "sha256": combined, "files": digests}
    verified = verify(project, loaded, ckpt, digests)
    if verified:
        report.checkpoint["revision"] = verified
        message = f"every file matches what kb checkpoints pull recorded at {verified[:12]}"
        report.add("checkpoint files", True, message)


def _tolerances(card: ModelCard, device: str) -> tuple[Tolerances, Any]:
    import torch

    from generator.smoke.run import Tolerances

    smoke = card.smoke_test
    assert smoke is not None
    low = device == "cuda" and smoke.dtype != "float32"
    dtype = getattr(torch, smoke.dtype) if device == "cuda" else torch.float32
    loose = (smoke.low_precision_rtol, smoke.low_precision_atol)
    rtol, atol = loose if low else (smoke.rtol, smoke.atol)
    return Tolerances(rtol, atol, loose, low, exact=device == "cpu"), dtype


def _load(
    project: Project, card: ModelCard, ckpt: Path, device: str, dtype: Any, runs_code: bool, report: Report
) -> LoadedModel:
    import torch

    from generator.smoke.kernels import Kernels
    from generator.smoke.loader import load

    kernels = Kernels.from_json(report.kernels)
    t0 = time.perf_counter()
    with stage(card.id, SmokeStage.LOAD, device):
        repo_dir = project.repo_dir(card.repo.name)
        model = load(card, ckpt, repo_dir, torch.device(device), dtype, runs_code, kernels)
    report.timings["load_s"] = round(time.perf_counter() - t0, 4)
    report.versions = _versions()
    return model


def _fits_positions(
    card: ModelCard, model: LoadedModel, tok: Tokenize | Identity, samples: list[Any]
) -> None:
    """Refuse, before the forward pass, an input longer than the checkpoint's positions or the card's
    context (the model would fail with an index error deep in its code, or silently wrap)."""
    from generator.smoke.checks import CONTEXT_KEYS, config_value

    if not samples or card.smoke_test is None or card.smoke_test.input.kind == "roi-timeseries":
        return
    longest = max(len(tok(s)) for s in samples)
    found = config_value(model.config, CONTEXT_KEYS)
    context = card.tokenization.context.tokens if card.tokenization else None
    limits = []
    if found is not None:
        limits.append((found[1], f"the checkpoint has {found[1]} positions (config.{found[0]})"))
    if context:
        limits.append((context, f"the card says tokenization.context.tokens {context}"))
    for limit, what in limits:
        if longest > limit:
            raise SmokeError(
                f"card '{card.id}': the longest seeded input is {longest} tokens, but {what}; lower "
                f"smoke_test.input.length ({card.smoke_test.input.length})",
                SmokeStage.TOKENIZE,
            )


def _encode(run: SmokeRun, samples: list[Any], report: Report) -> Encoded:
    """The forward pass on the seeded batch, timed; the report gets the embedding's description."""
    import torch

    from generator.smoke.run import Encoded

    card, model = run.card, run.model
    with stage(card.id, SmokeStage.ENCODE, run.device):
        width = run.embedder.hidden_width(run.tokenize(samples[0]))  # also warms up
        t0 = time.perf_counter()
        pooled = run.embed(samples, fresh=True)
        if run.device == "cuda":
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - t0
        rc_note = tokenized = ""
        if run.kind == "dna":
            tokenized = run.dna().describe(samples[0])
            if card.pooling.reverse_complement == "average":
                rc_note = run.dna().reverse_complement_ids(samples[0])[1]
    report.timings["forward_per_sample_ms"] = round(1000 * elapsed / len(samples), 3)
    pooling = card.pooling
    report.embedding = {
        "input": run.kind,
        "hidden_width": width,
        "pooled_width": int(pooled.shape[1]),
        "batching": run.batching,
        "takes_attention_mask": model.takes_mask,
        "pooling": pooling.strategy,
        "layer": pooling.layer,
        "reverse_complement": pooling.reverse_complement,
        "rc_tokens": rc_note or None,
        "tokenized": tokenized or None,
        "sample_sizes": [list(getattr(s, "shape", [len(s)])) for s in samples],
        "config_overrides": model.overrides,
    }
    return Encoded(samples, width, pooled, pooled, rc_note)


def _inputs(
    card: ModelCard, model: LoadedModel, device: Any, dtype: Any
) -> tuple[Tokenize | Identity, Embedder | TensorEmbedder, list[Any], str]:
    """(tokenize, embedder, samples, batching) for the card's input kind."""
    from generator.smoke.encode import Embedder, TensorEmbedder
    from generator.smoke.inputs import Identity, Tokenize, dna_batch, roi_batch

    smoke, pooling = card.smoke_test, card.pooling
    assert smoke is not None
    spec = smoke.input
    samples: list[Any]
    if spec.kind == "roi-timeseries":
        assert spec.rois is not None  # the schema requires rois for this kind
        samples = roi_batch(spec.rois, spec.length, spec.batch_size, spec.seed, spec.shape)
        tensors = TensorEmbedder(model, pooling.strategy, pooling.layer, pooling.hub_tokens, device, dtype)
        vocab = getattr(model.config, "vocab_size", 0) or 0
        return Identity(0, vocab), tensors, samples, "batch"
    batching = smoke.batching
    if batching == "auto":
        causal = card.architecture.model_type == "causal"
        batching = "padded" if (model.takes_mask or causal) else "unpadded"
    tok: Tokenize | Identity
    if spec.kind == "dna":
        if model.tokenizer is None:
            raise SmokeError(
                f"card '{card.id}': DNA input needs the checkpoint's tokenizer "
                "(smoke_test.tokenizer: checkpoint)",
                SmokeStage.TOKENIZE,
            )
        kind = card.tokenization.kind if card.tokenization else None
        tok = Tokenize(model.tokenizer, kind, spec.add_special_tokens)
        samples = dna_batch(spec.length, spec.batch_size, spec.seed)
    else:
        tok, samples = _token_ids(card, model)
    embedder = Embedder(
        model,
        pooling.strategy,
        pooling.layer,
        pooling.reverse_complement,
        pooling.hub_tokens,
        batching,
        tok.pad_id,
        device,
    )
    return tok, embedder, samples, batching


def _token_ids(card: ModelCard, model: LoadedModel) -> tuple[Identity, list[Any]]:
    from generator.smoke.inputs import Identity, token_batch

    assert card.smoke_test is not None
    spec = card.smoke_test.input
    vocab = int(getattr(model.config, "vocab_size", 0) or 0)
    if not vocab:
        raise SmokeError(
            f"card '{card.id}': token-ids input needs config.vocab_size in the checkpoint",
            SmokeStage.TOKENIZE,
        )
    pad = getattr(model.config, "pad_token_id", None)
    special = set(getattr(model.tokenizer, "all_special_ids", []) or [])
    if pad is not None:
        special.add(pad)
    samples = token_batch(vocab, spec.length, spec.batch_size, spec.seed, special)
    return Identity(int(pad or 0), vocab), samples


def _memory(device: str) -> dict[str, Any]:
    import torch

    if device == "cuda":
        return {"kind": "cuda_max_allocated", "peak_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1)}
    # ru_maxrss is KiB on Linux, bytes on macOS; it is the process's peak, all cards so far included.
    scale = 1 if platform.system() == "Darwin" else 1024
    return {
        "kind": "process_peak_rss",
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20, 1),
    }


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for dist in ("torch", "transformers", "numpy", "tokenizers", "foundation-model-kb", "mamba-ssm"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            continue
    return out

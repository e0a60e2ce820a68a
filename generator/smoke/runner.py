"""The smoke test of one card, top to bottom: load, tokenize, encode, pool, project, check, report.

`smoke_card` never raises for a problem with the card or its checkpoint: every problem becomes a
failed check in the report, named by the card and the check. It raises only for problems of the
machine (torch missing, CUDA requested where there is none).
"""

from __future__ import annotations

import platform
import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from generator.exceptions import MissingDependency, SmokeError, UsageError
from generator.settings import Project
from generator.smoke.fingerprint import golden_path, inputs_hash
from generator.smoke.trust import checkpoint_dir, require_pinned_clean, sha256_file, upstream_commit


@dataclass
class Check:
    """One check's outcome."""

    name: str
    status: str  # passed | failed | skipped
    message: str


@dataclass
class Report:
    """What `artifacts/smoke/<id>.json` holds."""

    id: str
    status: str = "passed"
    summary: str = ""
    checks: list[Check] = field(default_factory=list)
    device: str | None = None
    dtype: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    checkpoint: dict[str, Any] = field(default_factory=dict)
    upstream: dict[str, Any] = field(default_factory=dict)
    embedding: dict[str, Any] = field(default_factory=dict)
    inputs_hash: str | None = None
    finished_at: str | None = None

    def add(self, name: str, ok: bool | None, message: str) -> None:
        """ok None: not applicable here (skipped, with the reason)."""
        self.checks.append(Check(name, "skipped" if ok is None else "passed" if ok else "failed", message))

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status == "failed"]

    def finish(self, status: str | None = None) -> Report:
        self.status = status or ("failed" if self.failures else "passed")
        if self.status == "failed":
            self.summary = "; ".join(f"{c.name}: {c.message}" for c in self.failures)
        elif not self.summary:
            passed = sum(c.status == "passed" for c in self.checks)
            self.summary = f"{passed} check(s) passed on {self.device}"
        self.finished_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return self

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


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
    loaded: Any,
    device_choice: str = "auto",
    record: bool = False,
    step: Callable[[str], None] | None = None,
) -> Report:
    """Run every check on one card and return its report (not yet written)."""
    step = step or (lambda _s: None)
    card = loaded.card
    report = Report(card.id)
    smoke = card.smoke_test
    if smoke is None:
        report.add("smoke_test", None, "the card has no smoke_test section")
        return report.finish("skipped")
    device, has_cuda = resolve_device(device_choice)
    report.device = device
    needs_cuda = smoke.requires_cuda or card.deployment.requires_cuda
    if needs_cuda and device != "cuda":
        why = "no CUDA device on this machine" if not has_cuda else "--device cpu was asked for"
        report.add(
            "device",
            None,
            f"the card needs CUDA (smoke_test.requires_cuda) and {why}; never counted as passed",
        )
        report.summary = f"needs CUDA ({why}); not counted as passed"
        report.inputs_hash = inputs_hash(card, _maybe_dir(project, card), golden_path(loaded.path, card.id))
        return report.finish("skipped")
    try:
        _run(project, loaded, report, device, record, step)
    except (SmokeError, MissingDependency) as exc:
        name = (
            "remote code"
            if "refusing to run" in str(exc)
            else ("dependencies" if isinstance(exc, MissingDependency) else "load")
        )
        report.add(name, False, str(exc).removeprefix(f"card '{card.id}': "))
    report.inputs_hash = inputs_hash(card, _maybe_dir(project, card), golden_path(loaded.path, card.id))
    return report.finish()


def _maybe_dir(project: Project, card: Any) -> Path:
    return project.repo_dir(card.repo.name) / "checkpoints" / card.smoke_test.checkpoint


def _run(
    project: Project, loaded: Any, report: Report, device: str, record: bool, step: Callable[[str], None]
) -> None:
    import hashlib

    import torch

    from generator.smoke import checks
    from generator.smoke.encode import PoolingError
    from generator.smoke.loader import load
    from generator.smoke.projector import seeded_projector

    card, smoke = loaded.card, loaded.card.smoke_test
    repo_dir = project.repo_dir(card.repo.name)
    ckpt = checkpoint_dir(project, card)
    runs_code = smoke.trust_remote_code or smoke.loader == "entry-point"
    if smoke.loader == "entry-point" and not smoke.trust_remote_code:
        raise SmokeError(
            f"card '{card.id}': refusing to run the upstream entry point {smoke.entry_point}: the "
            "card does not opt in (set smoke_test.trust_remote_code: true after reviewing the code)"
        )
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
    if runs_code:
        report.add("remote code", True, f"upstream at the pinned commit {str(commit)[:12]} with a clean tree")
    files = sorted(p for p in ckpt.rglob("*") if p.is_file())
    digests = {p.relative_to(ckpt).as_posix(): sha256_file(p) for p in files}
    combined = hashlib.sha256("".join(f"{k}\0{v}\n" for k, v in digests.items()).encode()).hexdigest()
    report.checkpoint = {"path": project.rel(ckpt), "sha256": combined, "files": digests}

    low_precision = device == "cuda" and smoke.dtype != "float32"
    dtype = getattr(torch, smoke.dtype) if device == "cuda" else torch.float32
    report.dtype = str(dtype).removeprefix("torch.")
    rtol, atol = (
        (smoke.low_precision_rtol, smoke.low_precision_atol) if low_precision else (smoke.rtol, smoke.atol)
    )
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()

    step("load")
    t0 = time.perf_counter()
    model = load(card, ckpt, repo_dir, torch.device(device), dtype, runs_code)
    report.timings["load_s"] = round(time.perf_counter() - t0, 4)
    report.versions = _versions()

    pooling = card.pooling
    kind = smoke.input.kind
    embedder, tok, samples, batching = _inputs(card, model, torch.device(device), dtype)
    rc_note = ""

    def embed(items: list[Any]) -> torch.Tensor:
        nonlocal rc_note
        pooled = embedder.pooled([tok(s) for s in items])
        if kind == "dna" and pooling.reverse_complement == "average":
            rc = [tok.reverse_complement_ids(s) for s in items]
            rc_note = rc[0][1]
            pooled = 0.5 * (pooled + embedder.pooled([ids for ids, _ in rc]))
        return pooled

    step("encode")
    try:
        hidden_width = embedder.hidden_width(tok(samples[0]))  # also warms up
        t0 = time.perf_counter()
        pooled = embed(samples)
        if device == "cuda":
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - t0
    except PoolingError as exc:
        report.add("pooling", False, str(exc))
        return
    report.timings["forward_per_sample_ms"] = round(1000 * elapsed / len(samples), 3)
    sizes = [list(getattr(s, "shape", [len(s)])) for s in samples]
    report.embedding = {
        "input": kind,
        "hidden_width": hidden_width,
        "pooled_width": int(pooled.shape[1]),
        "batching": batching,
        "takes_attention_mask": model.takes_mask,
        "pooling": pooling.strategy,
        "layer": pooling.layer,
        "reverse_complement": pooling.reverse_complement,
        "rc_tokens": rc_note or None,
        "sample_sizes": sizes,
        "config_overrides": model.overrides,
    }

    step("project")
    projector = seeded_projector(card.integration.projector, int(pooled.shape[1]), smoke.input.seed)
    projector = projector.to(device).eval()

    def project_(x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return projector(x.float())

    projected = project_(pooled)

    step("check")
    checks.weights(report, model)
    vocab = len(tok.tokenizer) if kind == "dna" else len(tok)
    checks.claims(report, card, model, hidden_width, int(pooled.shape[1]), vocab)
    checks.output(report, projected, smoke.input.batch_size)
    checks.determinism(
        report, embed, project_, samples, pooled, projected, exact=device == "cpu", rtol=rtol, atol=atol
    )
    checks.padding(report, embedder, tok, samples, model.takes_mask, batching, rtol, atol)
    if kind == "dna":
        checks.reverse_complement_check(report, card, embed, embedder, tok, samples, rtol, atol)
        checks.zero_shot(report, card, embed, embedder, tok, samples[0])
    else:
        report.add("reverse complement", None, f"not applicable to {kind} input")
        report.add("zero-shot", None, f"not applicable to {kind} input (reference/alternate DNA pairs only)")
    gpath = golden_path(loaded.path, card.id)
    pooled_np, projected_np = pooled.float().cpu().numpy(), projected.float().cpu().numpy()
    checks.golden(
        report,
        project,
        gpath,
        pooled_np,
        projected_np,
        record,
        (rtol, atol),
        (smoke.low_precision_rtol, smoke.low_precision_atol),
        low_precision,
        meta={"device": device, "dtype": report.dtype, "seed": smoke.input.seed, "sizes": sizes},
    )
    report.memory = _memory(device)


def _inputs(card: Any, model: Any, device: Any, dtype: Any) -> tuple[Any, Any, list[Any], str]:
    """(embedder, tokenize, samples, batching) for the card's input kind."""
    from generator.smoke.encode import Embedder, TensorEmbedder
    from generator.smoke.inputs import Identity, Tokenize, dna_batch, roi_batch, token_batch

    smoke, pooling, spec = card.smoke_test, card.pooling, card.smoke_test.input
    if spec.kind == "roi-timeseries":
        samples = roi_batch(spec.rois, spec.length, spec.batch_size, spec.seed, spec.shape)
        tensors = TensorEmbedder(model, pooling.strategy, pooling.layer, pooling.hub_tokens, device, dtype)
        vocab = getattr(model.config, "vocab_size", 0) or 0
        return tensors, Identity(0, vocab), samples, "batch"
    batching = smoke.batching
    if batching == "auto":
        causal = card.architecture.model_type == "causal"
        batching = "padded" if (model.takes_mask or causal) else "unpadded"
    if spec.kind == "dna":
        if model.tokenizer is None:
            raise SmokeError(
                f"card '{card.id}': DNA input needs the checkpoint's tokenizer "
                "(smoke_test.tokenizer: checkpoint)"
            )
        tok: Any = Tokenize(model.tokenizer, card.tokenization.kind if card.tokenization else None)
        samples = dna_batch(spec.length, spec.batch_size, spec.seed)
    else:
        vocab = int(getattr(model.config, "vocab_size", 0) or 0)
        if not vocab:
            raise SmokeError(f"card '{card.id}': token-ids input needs config.vocab_size in the checkpoint")
        pad = getattr(model.config, "pad_token_id", None)
        special = set(getattr(model.tokenizer, "all_special_ids", []) or []) | (
            {pad} if pad is not None else set()
        )
        tok = Identity(int(pad or 0), vocab)
        samples = token_batch(vocab, spec.length, spec.batch_size, spec.seed, special)
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
    return embedder, tok, samples, batching


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

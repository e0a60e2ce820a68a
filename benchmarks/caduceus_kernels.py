"""Caduceus on the reference kernels (CPU) and on mamba-ssm's native kernels (CUDA), real size.

    .venv/bin/python benchmarks/caduceus_kernels.py smoke [--variants ps ph] [--length 1024] [--threads 1]
    .venv/bin/python benchmarks/caduceus_kernels.py memory [--variants ps ph] [--length 131072]
    .venv/bin/python benchmarks/caduceus_kernels.py kernels --device cuda [--lengths 1024 8192]
        [--kernels native reference] [--upstream DIR]

All build a random-weight model with the hub checkpoints' configuration (d_model 256, 16 layers,
vocab 16, ssm_cfg d_state 16 / d_conv 4 / expand 2 / dt_rank auto, fused_add_norm and rms_norm on,
residual_in_fp32 off) from the upstream-shaped stand-in of the tests
(`tests/data/smoke/modeling_caduceus_standin.py`), or with `--upstream DIR` from a checkout of
kuleshov-group/caduceus (e.g. external_repos/caduceus after `kb repos sync`).

- `smoke`: for each variant, a checkpoint saved as the hub stores one (tied projections once, a
  tokenizer appending [SEP]) and a card with the shipped cards' smoke_test section; then, in one process
  with `--threads` torch threads: one forward of a batch of 2 x `--length` on the sequential scan
  (transformers' position-by-position loop, the old reference) and on the chunked scan, and the whole
  `kb smoke --device cpu` of that card. The goal: the whole smoke test in at most twice the sequential
  forward.
- `memory`: one chunked forward at the cards' full context (131,072 bases, batch 1) per variant, each
  in a fresh process: its peak resident memory and time.
- `kernels`: the same weights on each kernel set: load time, throughput and peak memory per length,
  and the largest difference between native and reference outputs (needs mamba-ssm for `native`:
  `pip install -e ".[gpu]"` on a CUDA machine). This is the GPU check of issue 14, in one call.

Results are written as JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import resource
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HUB = {
    "vocab_size": 16,
    "d_model": 256,
    "n_layer": 16,
    "ssm_cfg": {"d_state": 16, "d_conv": 4, "expand": 2, "dt_rank": "auto", "bias": False, "conv_bias": True},
    "residual_in_fp32": False,
}
"""The hub config.json of kuleshov-group/caduceus-{ph,ps}_seqlen-131k_d_model-256_n_layer-16 (FACTS.md)."""


def _machine() -> dict[str, Any]:
    import os

    import torch
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()),
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
    }


def smoke(variants: list[str], length: int, threads: int) -> list[dict[str, Any]]:
    """`kb smoke --device cpu` on real-size random-weight Caduceus checkpoints, against one forward of
    the same checkpoint on a batch of 2 x `length` on the sequential scan (the goal: the whole smoke
    test in at most twice that), in one process with `threads` threads; wall and CPU time each (CPU
    time is the steadier on a shared machine)."""
    import torch

    from benchmarks.project import new_project
    from generator.knowledge import load_knowledge_base
    from generator.settings import Project
    from generator.smoke.runner import smoke_card
    from tests.factory import write_card
    from tests.smoke.standins import _card, build_caduceus, git_commit_all

    torch.set_num_threads(threads)
    rows = []
    with tempfile.TemporaryDirectory(prefix="kb-caduceus-bench-") as tmp:
        root = new_project(Path(tmp))
        layout = Project.load(root).layout
        cards = []
        for variant in variants:
            t0 = time.perf_counter()
            folder = layout.checkpoint_dir("caduceus", variant)
            n = build_caduceus(folder, rcps=variant == "ps", fused=True, **HUB)
            build_s = time.perf_counter() - t0
            card = _card(
                f"caduceus-{variant}-bench",
                "caduceus",
                variant,
                n,
                architecture={
                    "model_type": "encoder",
                    "family": "mamba",
                    "hidden_size": 256,
                    "layers": 16,
                    "parameters": "7.7M",
                    "embedding_dim": 256,
                },
                tokenization={"kind": "character", "vocab_size": 16},
                pooling={"strategy": "mean", "reverse_complement": "split" if variant == "ps" else "average"},
                evaluation={"zero_shot_method": "cosine-distance"},
                smoke_test={  # the shipped cards' smoke_test section
                    "checkpoint": variant,
                    "trust_remote_code": True,
                    "requires_cuda": True,
                    "requires": ["mamba-ssm"],
                    "rc_invariant": True,
                    "batching": "unpadded",
                    "input": {"kind": "dna", "length": length, "batch_size": 2, "add_special_tokens": False},
                },
            )
            card["integration"]["projector"]["in_dim"] = 256
            cards.append((card, n, build_s))
        commit = git_commit_all(layout.repo_dir("caduceus"))
        for card, _, _ in cards:
            card["repo"]["commit"] = commit
            write_card(root, card)
        project = Project.load(root)
        kb, _ = load_knowledge_base(root, None, project.kb_dir)
        for loaded, (_, n, build_s) in zip(
            sorted(kb.models, key=lambda c: c.id), sorted(cards, key=lambda c: c[0]["id"]), strict=True
        ):
            forwards = _forwards(project, loaded, length)
            t0, c0 = time.perf_counter(), time.process_time()
            report = smoke_card(project, loaded, "cpu")
            total, cpu = time.perf_counter() - t0, time.process_time() - c0
            rows.append(
                {
                    "card": loaded.id,
                    "status": report.status,
                    "summary": report.summary,
                    "kernels": report.kernels.get("label"),
                    "threads": threads,
                    "input_length": length,
                    "batch": 2,
                    "parameters": n,
                    "build_s": round(build_s, 2),
                    **forwards,
                    "load_s": report.timings.get("load_s"),
                    "forward_per_sample_ms": report.timings.get("forward_per_sample_ms"),
                    "smoke_total_s": round(total, 1),
                    "smoke_total_cpu_s": round(cpu, 1),
                    "smoke_over_sequential_forward": round(total / forwards["sequential_forward_s"], 2),
                    "smoke_over_sequential_forward_cpu": round(cpu / forwards["sequential_forward_cpu_s"], 2),
                    "peak_memory": report.memory,
                    "checks": {c.name: c.status for c in report.checks},
                }
            )
    return rows


def _forwards(project: Any, loaded: Any, length: int) -> dict[str, Any]:
    """One forward of a batch of 2 x `length` on the chunked scan and on the sequential scan (the
    checkpoint loaded by the product's loader on the reference kernels), and how far apart they are."""
    import torch

    from generator.smoke.kernels import Kernels
    from generator.smoke.loader import load
    from generator.smoke.reference.mamba import sequential_scan
    from generator.smoke.trust import checkpoint_dir

    card = loaded.card
    ckpt, repo = checkpoint_dir(project, card), project.layout.repo_dir(card.repo.name)
    model = load(
        card, ckpt, repo, torch.device("cpu"), torch.float32, True, Kernels("reference", ("mamba-ssm",))
    )
    ids = torch.randint(7, 11, (2, length), generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        t0, c0 = time.perf_counter(), time.process_time()
        chunked = model.encoder(input_ids=ids).last_hidden_state
        chunked_s, chunked_cpu = time.perf_counter() - t0, time.process_time() - c0
        with sequential_scan():
            t0, c0 = time.perf_counter(), time.process_time()
            sequential = model.encoder(input_ids=ids).last_hidden_state
            sequential_s, sequential_cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "sequential_forward_s": round(sequential_s, 2),
        "sequential_forward_cpu_s": round(sequential_cpu, 2),
        "chunked_forward_s": round(chunked_s, 2),
        "chunked_forward_cpu_s": round(chunked_cpu, 2),
        "chunked_vs_sequential_max_abs_diff": float((chunked - sequential).abs().max()),
    }


def memory(variants: list[str], length: int, threads: int) -> list[dict[str, Any]]:
    """Peak memory and time of one chunked forward at `length` (batch 1) per variant, each in a fresh
    process so that its peak is this forward's alone."""
    return [_long_forward(variant, length, threads) for variant in variants]


def _long_forward(variant: str, length: int, threads: int) -> dict[str, Any]:
    import subprocess

    child = [sys.executable, __file__, "long-child", variant, str(length), str(threads)]
    done = subprocess.run(child, capture_output=True, text=True, check=True)
    row: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return row


def _high_water_mb() -> float:
    """This process's peak resident memory: VmHWM, which (unlike ru_maxrss) starts afresh at exec."""
    try:
        status = Path("/proc/self/status").read_text()
        return int(next(ln for ln in status.splitlines() if ln.startswith("VmHWM:")).split()[1]) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def long_child(variant: str, length: int, threads: int) -> dict[str, Any]:
    import torch

    from generator.smoke.reference import installed

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    with installed():
        model = _model_class(None, Path(tempfile.gettempdir()))(variant == "ps").eval()
    ids = torch.randint(7, 11, (1, length), generator=torch.Generator().manual_seed(0))
    before = _high_water_mb()
    with torch.inference_mode():
        t0, c0 = time.perf_counter(), time.process_time()
        hidden = model(input_ids=ids).last_hidden_state
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = _high_water_mb()
    d_inner, d_state = 2 * HUB["d_model"], HUB["ssm_cfg"]["d_state"]
    return {
        "long_forward": f"caduceus-{variant}, one chunked forward",
        "threads": threads,
        "length": length,
        "batch": 1,
        "forward_s": round(elapsed, 1),
        "forward_cpu_s": round(cpu, 1),
        "peak_rss_mb": round(peak, 1),
        "peak_rss_before_forward_mb": round(before, 1),
        "hidden_shape": list(hidden.shape),
        # What the sequential scan of transformers allocates per layer call before its loop: exp(delta A)
        # and delta B u for the whole sequence, (batch, d_inner, length, d_state) float32 each.
        "sequential_scan_would_allocate_mb": round(2 * length * d_inner * d_state * 4 / 2**20, 1),
    }


def _model_class(upstream: Path | None, layout_tmp: Path) -> Any:
    """A function building the model (under whatever mamba-ssm is importable at the call)."""
    if upstream is not None:

        def build(rcps: bool) -> Any:
            for name in [n for n in sys.modules if n == "caduceus" or n.startswith("caduceus.")]:
                del sys.modules[name]
            sys.path.insert(0, str(upstream))
            try:
                from caduceus.configuration_caduceus import CaduceusConfig  # type: ignore[import-not-found]
                from caduceus.modeling_caduceus import Caduceus  # type: ignore[import-not-found]
            finally:
                sys.path.remove(str(upstream))
            from tests.smoke.standins import COMPLEMENT

            cfg = CaduceusConfig(
                **HUB,
                rms_norm=True,
                fused_add_norm=True,
                pad_vocab_size_multiple=8,
                rcps=rcps,
                complement_map={i: COMPLEMENT.get(i, i) for i in range(16)},
            )
            return Caduceus(cfg)

        return build

    from tests.smoke.standins import CADUCEUS_COMPLEMENT_MAP, DATA

    def build_standin(rcps: bool) -> Any:
        name = f"_kb_bench_caduceus_{time.monotonic_ns()}"
        spec = importlib.util.spec_from_file_location(name, DATA / "modeling_caduceus_standin.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module.CaduceusStandinModel(
            module.CaduceusStandinConfig(
                **HUB,
                rms_norm=True,
                fused_add_norm=True,
                rcps=rcps,
                complement_map=dict(CADUCEUS_COMPLEMENT_MAP),
            )
        )

    return build_standin


def kernels(
    device: str, lengths: list[int], modes: list[str], variant: str, upstream: Path | None, batch: int
) -> list[dict[str, Any]]:
    """Native and reference kernels on the same weights: timings, memory, agreement."""
    import contextlib

    import torch

    from generator.smoke.reference import installed

    build = _model_class(upstream, Path(tempfile.gettempdir()))
    torch.manual_seed(0)
    with installed():
        weights = build(variant == "ps").state_dict()
    rows: list[dict[str, Any]] = []
    outputs: dict[tuple[str, int], torch.Tensor] = {}
    gen = torch.Generator().manual_seed(1)
    inputs = {n: torch.randint(7, 11, (batch, n), generator=gen) for n in lengths}
    for mode in modes:
        ctx = installed() if mode == "reference" else contextlib.nullcontext()
        if device == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        with ctx:
            model = build(variant == "ps")
        model.load_state_dict(weights)
        model = model.to(device).eval()
        load_s = time.perf_counter() - t0
        for n, ids in inputs.items():
            ids = ids.to(device)
            with torch.inference_mode():
                model(input_ids=ids)  # warm-up (kernel compilation, caches)
                if device == "cuda":
                    torch.cuda.synchronize()
                    torch.cuda.reset_peak_memory_stats()
                t0 = time.perf_counter()
                hidden = model(input_ids=ids).last_hidden_state
                if device == "cuda":
                    torch.cuda.synchronize()
                elapsed = time.perf_counter() - t0
            outputs[(mode, n)] = hidden.float().cpu()
            peak = (
                torch.cuda.max_memory_allocated() / 2**20
                if device == "cuda"
                else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            )
            rows.append(
                {
                    "kernels": mode,
                    "variant": variant,
                    "device": device,
                    "length": n,
                    "batch": batch,
                    "load_s": round(load_s, 3),
                    "forward_s": round(elapsed, 4),
                    "bases_per_s": round(batch * n / elapsed),
                    "peak_mb": round(peak, 1),
                    "peak_kind": "cuda_max_allocated" if device == "cuda" else "process_peak_rss",
                }
            )
        del model
    if {"native", "reference"} <= set(modes):
        for n in lengths:
            a, b = outputs[("native", n)], outputs[("reference", n)]
            rows.append(
                {
                    "compare": "native vs reference",
                    "length": n,
                    "max_abs_diff": float((a - b).abs().max()),
                    "within_low_precision_tolerance": bool(torch.allclose(a, b, rtol=2e-2, atol=2e-2)),
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    s = sub.add_parser("smoke", help="kb smoke --device cpu on real-size checkpoints")
    s.add_argument("--variants", nargs="+", default=["ps", "ph"], choices=("ps", "ph"))
    s.add_argument("--length", type=int, default=1024, help="the shipped cards' smoke_test.input.length")
    m = sub.add_parser("memory", help="peak memory of one chunked forward at the cards' full context")
    m.add_argument("--variants", nargs="+", default=["ps", "ph"], choices=("ps", "ph"))
    m.add_argument("--length", type=int, default=131072, help="the cards' context")
    for p in (s, m):
        p.add_argument("--threads", type=int, default=1, help="torch threads, the same for every measurement")
    c = sub.add_parser("long-child", help=argparse.SUPPRESS)
    c.add_argument("variant", choices=("ps", "ph"))
    c.add_argument("length", type=int)
    c.add_argument("threads", type=int)
    k = sub.add_parser("kernels", help="native vs reference kernels on the same weights")
    k.add_argument("--device", choices=("cpu", "cuda"), default="cuda")
    k.add_argument("--lengths", nargs="+", type=int, default=[1024, 8192])
    k.add_argument("--kernels", nargs="+", default=["native", "reference"], choices=("native", "reference"))
    k.add_argument("--variant", choices=("ps", "ph"), default="ps")
    k.add_argument("--batch", type=int, default=2)
    k.add_argument("--upstream", type=Path, default=None, help="a kuleshov-group/caduceus checkout")
    for p in (s, k, m):
        p.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if args.what == "long-child":
        print(json.dumps(long_child(args.variant, args.length, args.threads)))
        return 0
    if args.what == "smoke":
        rows = smoke(args.variants, args.length, args.threads)
        out = args.out or ROOT / "benchmarks" / "results" / "caduceus_smoke_cpu.json"
    elif args.what == "memory":
        rows = memory(args.variants, args.length, args.threads)
        out = args.out or ROOT / "benchmarks" / "results" / "caduceus_memory_cpu.json"
    else:
        rows = kernels(args.device, args.lengths, args.kernels, args.variant, args.upstream, args.batch)
        out = args.out or ROOT / "benchmarks" / "results" / f"caduceus_kernels_{args.device}.json"
    result = {"started": started, "machine": _machine(), "rows": rows}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(rows, indent=2))
    print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

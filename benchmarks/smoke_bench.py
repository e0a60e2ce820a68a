"""Benchmark of the embedding smoke test: load time, forward throughput and peak memory per stand-in.

    .venv/bin/python benchmarks/smoke_bench.py [--device auto|cpu|cuda] [--real-size] [--out FILE]

Builds the tiny random-weight stand-ins the tests use (BERT, ESM/NT, Mamba, Hyena-like, Caduceus-like
PH and PS, ViT-MAE) in a temporary project and runs the full `kb smoke` pipeline on each. With CUDA
(or `--real-size`), it also times a real-size random-weight Nucleotide Transformer v2 500M-shaped
encoder (EsmForMaskedLM: 1024 wide, 29 layers, 16 heads, vocab 4107; the GELU FFN is 6144 wide so that
parameters and FLOPs match NT v2's 4096-wide SwiGLU, which native transformers does not implement).
Results are written as JSON under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def standins(device: str) -> list[dict[str, Any]]:
    from generator.knowledge import load_knowledge_base
    from generator.settings import Project
    from generator.smoke.runner import smoke_card
    from tests.factory import write_card
    from tests.smoke.standins import build_all

    rows = []
    with tempfile.TemporaryDirectory(prefix="kb-smoke-bench-") as tmp:
        root = Path(tmp) / "project"
        (root / "kb" / "model_cards").mkdir(parents=True)
        t0 = time.perf_counter()
        specs = build_all(root)
        build_s = time.perf_counter() - t0
        for spec in specs.values():
            write_card(root, spec.card)
        project = Project.load(root)
        kb, _ = load_knowledge_base(root, None, project.kb_dir)
        for loaded in kb.models:
            t0 = time.perf_counter()
            report = smoke_card(project, loaded, device)
            rows.append(
                {
                    "card": loaded.id,
                    "status": report.status,
                    "device": report.device,
                    "dtype": report.dtype,
                    "load_s": report.timings.get("load_s"),
                    "forward_per_sample_ms": report.timings.get("forward_per_sample_ms"),
                    "smoke_total_s": round(time.perf_counter() - t0, 3),
                    "peak_memory": report.memory,
                    "hidden_width": report.embedding.get("hidden_width"),
                }
            )
        rows.append({"card": "(building all stand-ins)", "build_s": round(build_s, 3)})
    return rows


def nt_v2_500m(device: str, batch: int, bases: int) -> dict[str, Any]:
    """Save, load and run a real-size random-weight NT v2 500M-shaped encoder."""
    import torch
    from transformers import EsmConfig, EsmForMaskedLM

    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    config = EsmConfig(
        vocab_size=4107,
        hidden_size=1024,
        num_hidden_layers=29,
        num_attention_heads=16,
        intermediate_size=6144,
        max_position_embeddings=2050,
        position_embedding_type="rotary",
        pad_token_id=1,
        mask_token_id=2,
        token_dropout=False,
        emb_layer_norm_before=False,
    )
    with tempfile.TemporaryDirectory(prefix="kb-nt500m-") as tmp:
        t0 = time.perf_counter()
        EsmForMaskedLM(config).save_pretrained(tmp)
        build_s = time.perf_counter() - t0
        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        model = EsmForMaskedLM.from_pretrained(tmp, dtype=dtype).to(device).eval()
        if device == "cuda":
            torch.cuda.synchronize()
        load_s = time.perf_counter() - t0
    params = sum(p.numel() for p in model.parameters())
    tokens = bases // 6 + 1
    ids = torch.randint(6, 4102, (batch, tokens), device=device)
    ids[:, 0] = 3  # <cls>
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        model.esm(input_ids=ids, attention_mask=mask)  # warm-up
        if device == "cuda":
            torch.cuda.synchronize()
        reps = 5 if device == "cuda" else 1
        t0 = time.perf_counter()
        for _ in range(reps):
            h = model.esm(input_ids=ids, attention_mask=mask).last_hidden_state
            pooled = (h.float() * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True)
        if device == "cuda":
            torch.cuda.synchronize()
        elapsed = (time.perf_counter() - t0) / reps
    peak = (
        {"kind": "cuda_max_allocated", "peak_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1)}
        if device == "cuda"
        else {"kind": "process_peak_rss", "peak_mb": _rss_mb()}
    )
    return {
        "card": "nt-v2-500m-shaped (random weights)",
        "device": device,
        "dtype": str(dtype).removeprefix("torch."),
        "parameters": params,
        "build_and_save_s": round(build_s, 2),
        "load_s": round(load_s, 2),
        "batch": batch,
        "tokens_per_sequence": tokens,
        "forward_s": round(elapsed, 4),
        "sequences_per_s": round(batch / elapsed, 2),
        "tokens_per_s": round(batch * tokens / elapsed, 1),
        "pooled_shape": list(pooled.shape),
        "peak_memory": peak,
    }


def _rss_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument(
        "--real-size", action="store_true", help="also time the NT v2 500M-shaped encoder on CPU"
    )
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--bases", type=int, default=6000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    import torch
    import transformers

    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    result: dict[str, Any] = {
        "benchmark": "smoke",
        "finished_at": None,
        "machine": {
            "platform": platform.platform(),
            "cpus": torch.get_num_threads(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        },
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
        "standins": standins(device),
    }
    if device == "cuda" or args.real_size:
        result["real_size"] = nt_v2_500m(device, args.batch, args.bases)
    result["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    out = args.out or ROOT / "benchmarks" / "results" / f"smoke_{device}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    print(f"written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

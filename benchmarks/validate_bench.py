"""Validation of N cards against PyYAML's C loader merely loading the same files.

    python benchmarks/validate_bench.py [N]      (default 500)

Target (issue 2/8): `kb validate` of 500 cards within 2x of PyYAML's CSafeLoader. Prints a table and
writes benchmarks/results/validate-<N>.json. Medians of several runs, in-process, warm imports.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.synthetic import make_kb
from generator.knowledge import card_files, load_knowledge_base

RUNS = 5


def _median(fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(n: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_kb(root / "kb", n)
        files = [p for _, p in card_files(root / "kb")]

        def pyyaml() -> None:
            for p in files:
                with p.open("rb") as fh:
                    yaml.load(fh, Loader=yaml.CSafeLoader)

        def kb_validate() -> None:
            _, problems = load_knowledge_base(root)
            assert not [p for p in problems if p.is_error], problems[:3]

        t_yaml = _median(pyyaml)
        t_kb = _median(kb_validate)
    result = {
        "cards": len(files),
        "model_cards": n,
        "pyyaml_cloader_s": round(t_yaml, 4),
        "kb_validate_s": round(t_kb, 4),
        "ratio": round(t_kb / t_yaml, 2),
        "target_ratio": 2.0,
        "machine": f"{platform.processor() or platform.machine()}, {platform.python_version()}",
    }
    out = Path(__file__).parent / "results" / f"validate-{n}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"| cards | PyYAML CSafeLoader | kb validate | ratio (target <= 2) |\n|---|---|---|---|\n"
        f"| {len(files)} | {t_yaml:.3f} s | {t_kb:.3f} s | {t_kb / t_yaml:.1f}x |"
    )
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)

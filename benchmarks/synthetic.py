"""Synthetic knowledge bases of N model cards, made by varying the shipped ones (realistic size:
walkthrough steps with code, tables, citations). Related cards are copied as they are.

    python benchmarks/synthetic.py N DEST
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def make_kb(dest: Path, n: int, source: Path = REPO_ROOT / "kb") -> list[str]:
    """Write a kb/ with `n` model cards into `dest` (replacing it); returns the model ids."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("model_cards"))
    models = dest / "model_cards"
    models.mkdir()
    originals = sorted((source / "model_cards").glob("*.yaml"))
    originals = [p for p in originals if not p.name.endswith(".lock.yaml")]
    if not originals:
        raise SystemExit(f"no model cards under {source}/model_cards to vary")
    ids = []
    for i in range(n):
        src = originals[i % len(originals)]
        # The first round keeps the shipped ids, so references between model cards resolve.
        new_id = src.stem if i < len(originals) else f"{src.stem}-s{i:04d}"
        text = src.read_text(encoding="utf-8")
        text = re.sub(r"(?m)^id: .*$", f"id: {new_id}", text, count=1)
        text = re.sub(r"(?m)^name: (.*)$", lambda m, i=i: f"name: {m.group(1)} (variant {i})", text, count=1)
        (models / f"{new_id}.yaml").write_text(text, encoding="utf-8")
        lock = src.with_name(src.stem + ".lock.yaml")
        if lock.exists():
            shutil.copy(lock, models / f"{new_id}.lock.yaml")
        ids.append(new_id)
    return ids


if __name__ == "__main__":
    make_kb(Path(sys.argv[2]), int(sys.argv[1]))

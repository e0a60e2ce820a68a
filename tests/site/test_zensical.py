"""Portability: after `kb render`, Zensical (the successor of MkDocs by Material's authors, which reads
mkdocs.yml) builds every page of the shipped knowledge base."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.cli import main
from tests.factory import new_project


@pytest.mark.slow
def test_kb_render_then_zensical_build_builds_every_page(tmp_path: Path) -> None:
    zensical = shutil.which("zensical", path=str(Path(sys.executable).parent)) or shutil.which("zensical")
    if zensical is None:
        pytest.skip("zensical is not installed (pip install zensical)")
    root = new_project(tmp_path, with_shipped_kb=True)
    assert main(["-C", str(root), "render"]) == 0
    run = subprocess.run(
        [zensical, "build"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    pages = sorted(
        p.relative_to(root / "site_src").with_suffix("").as_posix() for p in (root / "site_src").rglob("*.md")
    )
    missing = [
        p
        for p in pages
        if not (
            root / "site" / (p.removesuffix("index") if p.endswith("index") else p + "/") / "index.html"
        ).is_file()
    ]
    assert missing == []

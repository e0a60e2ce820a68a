"""Bounded everywhere: an imported README goes through the cards' bounded YAML loading (no aliases, size
and depth limits), in bounded time and memory; an exception while validating a card is a located error
of that card, never "internal error" (SECURITY.md, "Bounded input"). Lock files and smoke reports are
read the same way (tests/foundation/test_side_files.py)."""

from __future__ import annotations

import os
import resource
import subprocess
from pathlib import Path

import pytest

from tests.factory import make_card, new_project, write_card
from tests.security.conftest import KB

TIMEOUT_S = 30
MEMORY_BYTES = 2 * 1024**3
"""As tests/foundation/test_bounded_loading.py: the issue saw a README's aliases grow to 1.5 GB in 40 s."""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def kb_bounded(root: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [str(KB), *argv],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        preexec_fn=_limit_memory,
        check=False,
    )


def alias_bomb() -> str:
    lines = ['a0: &a0 "lol"']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "front_matter,where,message",
    [
        (alias_bomb(), "README.md:3:", "aliases (*name) make this file stand for more than 100,000 values"),
        ("tags: " + "[" * 200 + "]" * 200 + "\n", "README.md:2:", "the YAML nests deeper than 50 levels"),
        ("x: &x 1\ny: *x\n", "README.md:2:", "YAML anchors (&name) are not allowed in imported files"),
    ],
)
def test_an_imported_readme_is_read_boundedly(
    tmp_path: Path, front_matter: str, where: str, message: str
) -> None:
    root = new_project(tmp_path)
    readme = root / "upload" / "README.md"
    readme.parent.mkdir()
    readme.write_text(
        f"---\n{front_matter}---\n# Bomb\n\n## Model details\n\n- Modality: dna\n", encoding="utf-8"
    )
    done = kb_bounded(root, "import", "upload/README.md")
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    line = next(ln for ln in done.stdout.splitlines() if message in ln)
    assert line.startswith(f"upload/{where}") and ": error: " in line, line


def test_an_exception_while_validating_is_a_located_error_of_that_card(tmp_path: Path) -> None:
    root = new_project(tmp_path)
    write_card(root, make_card(id="other", alias="other"))
    card = make_card(name=5)
    path = write_card(root, card)
    path.write_text(path.read_text() + '"a[b]": 1\n', encoding="utf-8")
    done = kb_bounded(root, "validate")
    assert done.returncode == 1
    assert "internal error" not in done.stdout and "Traceback" not in done.stdout + done.stderr
    lines = [ln for ln in done.stdout.splitlines() if "tiny-bert.yaml" in ln]
    assert any(": error: a[b]: unknown key 'a[b]' (allowed keys: " in ln for ln in lines), lines
    assert any(": error: name: input should be a valid string, got 5" in ln for ln in lines), lines
    assert "2 card(s) checked: 2 error(s)" in done.stderr

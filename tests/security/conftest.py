"""What a pull request controls, tried as an attacker would: each test works in a temporary project,
runs the real commands (the `kb` console script, `python -m generator`) in a subprocess, and checks
what an attack would leave: a marker file that must not appear, victim files outside the project that
must stay as they were, a forged report or snippet that must not pass."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from benchmarks.project import _generated_pages
from tests.factory import REPO_ROOT
from tests.smoke.conftest import smoke_project, standin_template  # noqa: F401  (the stand-in projects)

KB = Path(sys.executable).parent / "kb"
"""The `kb` console script of the environment the tests run in."""

UNTRUSTED_ENV = (
    "KB_SIGNING_KEY",
    "KB_SIGNER",
    "KB_TRUSTED_REF",
    "KB_ALLOWED_SIGNERS",
    "PYTHONSAFEPATH",
    "PYTHONPATH",
)
"""Never inherited from the shell that runs the tests: each test sets what it means to."""


def run(
    root: Path, *argv: str, env: dict[str, str] | None = None, module: bool = False, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """`kb ARGV...` (or `python -m generator ARGV...`) in the project folder `root`, as a user runs it."""
    command = [sys.executable, "-m", "generator", *argv] if module else [str(KB), *argv]
    environment = {k: v for k, v in os.environ.items() if k not in UNTRUSTED_ENV}
    environment.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", NO_MKDOCS_2_WARNING="1")
    environment.update(env or {})
    return subprocess.run(
        command, cwd=root, env=environment, capture_output=True, text=True, timeout=timeout, check=False
    )


def with_site(root: Path) -> Path:
    """Give a project (a stand-in one has only kb/ and external_repos/) what a site build needs."""
    if not (root / "mkdocs.yml").exists():
        shutil.copy(REPO_ROOT / "mkdocs.yml", root / "mkdocs.yml")
    for folder in ("templates", "site_src"):
        if not (root / folder).exists():
            shutil.copytree(REPO_ROOT / folder, root / folder, ignore=_generated_pages)
    return root


@dataclass
class Victims:
    """Files outside the project that an attack would read, change or delete."""

    folder: Path
    files: dict[Path, bytes] = field(default_factory=dict)

    def add(self, name: str, data: bytes) -> Path:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.files[path] = data
        return path

    def intact(self) -> bool:
        return all(p.is_file() and p.read_bytes() == data for p, data in self.files.items())

    def untouched_folder(self, name: str) -> bool:
        """A folder of the victims that must stay empty (nothing written into it)."""
        return not any((self.folder / name).iterdir())


@pytest.fixture
def victims(tmp_path: Path) -> Victims:
    v = Victims(tmp_path / "victims")
    v.add("secret.txt", b"the maintainer's secret\n")
    v.add("notes/keep.md", b"# notes\n")
    (v.folder / "site-packages").mkdir()
    return v


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    """The file an attack that runs code would write: it must never exist."""
    return tmp_path / "PWNED"

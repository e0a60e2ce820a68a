from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.factory import new_project

DATA = Path(__file__).resolve().parent.parent / "data" / "interop"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throwaway project, with the sample model folders copied in as `models/`; cwd is the project."""
    root = new_project(tmp_path)
    (root / "mkdocs.yml").touch()
    shutil.copytree(DATA / "models", root / "models")
    monkeypatch.chdir(root)
    return root

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pdf.helpers import small_project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A throwaway project with two model cards (one rich: citations, long table, related card)."""
    return small_project(tmp_path)

"""CI restores `artifacts/pdf/` (the PDFs and their manifest) from its cache into a fresh clone; the
manifest's input hashes decide what is current, so a restored cache renders nothing that did not
change, and a stale entry is never published."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.pdf.helpers import edit_card, kb_pdf, pdf_dir, small_project

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.org",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.org",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_SYSTEM": os.devnull,
}


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env={**os.environ, **GIT_ENV})


def _clone(origin: Path, dest: Path) -> Path:
    _git(origin.parent, "clone", "-q", str(origin), str(dest))
    return dest


def _restore(cache: Path, clone: Path) -> None:
    """What actions/cache does: the cached folder put back at its path in the new checkout."""
    shutil.copytree(cache, pdf_dir(clone))


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    (tmp_path / "origin").mkdir()
    root = small_project(tmp_path / "origin")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "cards")
    return root


def test_a_fresh_clone_with_the_restored_cache_renders_nothing(
    origin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _clone(origin, tmp_path / "run-1")
    assert kb_pdf(first) == 0
    assert "2 rendered, 0 unchanged, 0 failed" in capsys.readouterr().err
    cache = tmp_path / "cache"
    shutil.copytree(pdf_dir(first), cache)

    second = _clone(origin, tmp_path / "run-2")
    _restore(cache, second)
    assert kb_pdf(second) == 0
    assert "0 rendered, 2 unchanged, 0 failed" in capsys.readouterr().err
    assert sorted(p.name for p in pdf_dir(second).glob("*.pdf")) == ["rich-model.pdf", "tiny-bert.pdf"]


def test_a_push_that_changes_one_card_renders_that_card_only(
    origin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _clone(origin, tmp_path / "run-1")
    assert kb_pdf(first) == 0
    cache = tmp_path / "cache"
    shutil.copytree(pdf_dir(first), cache)

    edit_card(origin / "kb/model_cards/tiny-bert.yaml", summary="A changed summary.")
    _git(origin, "commit", "-q", "-am", "one card changed")
    second = _clone(origin, tmp_path / "run-2")
    _restore(cache, second)
    capsys.readouterr()
    assert kb_pdf(second) == 0
    err = capsys.readouterr().err
    assert "1 rendered, 1 unchanged, 0 failed" in err


@pytest.mark.parametrize("workflow", ["ci.yml", "pages.yml"])
def test_the_workflows_restore_and_save_the_pdfs(workflow: str) -> None:
    import yaml

    from tests.factory import REPO_ROOT

    data = yaml.safe_load((REPO_ROOT / ".github" / "workflows" / workflow).read_text())
    steps = [s for job in data["jobs"].values() for s in job.get("steps", [])]
    caches = [s for s in steps if str(s.get("uses", "")).startswith("actions/cache@")]
    assert any("artifacts/pdf" in s["with"]["path"] and s["with"].get("restore-keys") for s in caches)
    checkout = next(s for s in steps if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout.get("with", {}).get("fetch-depth") == 0  # PDFs print each card's last commit date

"""A real `mkdocs build` of a tiny project: the checks find nothing on what MkDocs and Material make."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.checks.links import scan_site
from generator.cli import main
from tests.factory import make_card, new_project, write_card
from tests.site.conftest import mkdocs_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = new_project(tmp_path_factory.mktemp("built"))
    write_card(root, make_card())
    write_card(root, make_card(id="tiny-two", name="Tiny Two", repo__name="tiny-two"))
    run = mkdocs_cli(root, "build", "-q")
    assert run.returncode == 0, run.stderr
    return root


def test_the_built_site_has_no_link_findings(built: Path) -> None:
    report = scan_site(built / "site")
    assert report.problems == []
    assert report.pages >= 5 and (built / "site" / "404.html").exists()


def test_kb_check_all_passes_and_prints_one_summary(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(built), "check", "all"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("kb check all:\n  validation")
    assert "  links       0 error(s), 0 warning(s)\nall checks passed\n" in err


def test_a_planted_broken_link_fails_kb_check_all(built: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = built / "site" / "models" / "tiny-two" / "index.html"
    original = page.read_text()
    try:
        page.write_text(original.replace("</article>", '<a href="../nope/">x</a></article>', 1))
        assert main(["-C", str(built), "check", "all", "--format", "github"]) == 1
        captured = capsys.readouterr()
        assert "::error file=models/tiny-two/index.html" in captured.out
        assert "FAILED: links" in captured.err
    finally:
        page.write_text(original)


def test_the_shipped_site_passes_every_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The repository's own cards, built with MkDocs: zero link findings, zero license errors."""
    root = new_project(tmp_path, with_shipped_kb=True)
    run = mkdocs_cli(root, "build", "-q", timeout=600)
    assert run.returncode == 0, run.stderr
    assert scan_site(root / "site").problems == []
    assert main(["-C", str(root), "check", "licenses"]) == 0, capsys.readouterr().out

"""Zensical (MkDocs' successor by Material's authors) as an engine: `kb build --engine zensical` gives
the site `kb build` gives with MkDocs: every page, the product's navigation in the reader's order,
the PDFs and the cards' YAML where the pages link them, the link check on the result, and no live
markup from card text (Zensical runs no MkDocs plugin: `generator.engines` does their work)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import html

from generator.cli import main
from tests.factory import new_project
from tests.hostile import LINKS_TO_NOWHERE, placements
from tests.site.test_hostile import MARKERS, check_site

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("zensical", path=str(Path(sys.executable).parent)) is None,
        reason="zensical is not installed (pip install zensical)",
    ),
]


def _pages(site: Path) -> set[str]:
    """The site's pages (not the theme's own files)."""
    return {
        p.relative_to(site).as_posix()
        for p in site.rglob("*.html")
        if not p.relative_to(site).as_posix().startswith(("assets/", "search/")) and p.name != "404.html"
    }


def _nav(site: Path) -> list[tuple[str, str]]:
    """The primary navigation of the home page: (label, link) in order."""
    doc = html.parse(str(site / "index.html")).getroot()
    nav = doc.xpath("//nav[contains(@class, 'md-nav--primary')]")[0]
    out = []
    for a in nav.xpath(".//a[contains(@class, 'md-nav__link')]"):
        link = re.sub(r"^\./", "", a.get("href") or "")
        out.append((" ".join(a.text_content().split()), "" if link == "." else link))
    return out


def _heading(site: Path, page: str) -> str:
    doc = html.parse(str(site / page)).getroot()
    return " ".join(doc.xpath("//article//h1")[0].text_content().replace("¶", "").split())


def _files_under(site: Path, folder: str) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in (site / folder).rglob("*") if p.is_file()}


def test_kb_build_with_zensical_gives_the_mkdocs_site(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zensical = tmp_path / "zensical"
    shutil.copytree(project, zensical)
    assert main(["-C", str(project), "build"]) == 0, capsys.readouterr().err[-3000:]
    capsys.readouterr()
    assert main(["-C", str(zensical), "build", "--engine", "zensical"]) == 0, capsys.readouterr().err[-3000:]
    said = capsys.readouterr().err
    assert "kb: site: every page built by Zensical" in said
    assert "kb: link check: every internal link, anchor and PDF of site/ resolves" in said
    assert not (zensical / ".kb-zensical.yml").exists()  # its configuration went with it

    mkdocs_site, zensical_site = project / "site", zensical / "site"
    assert _pages(zensical_site) == _pages(mkdocs_site)
    # The product's navigation (Home, Models by modality, Compare, ...), not folders in alphabetical order.
    assert _nav(zensical_site) == _nav(mkdocs_site)
    assert [label for label, _ in _nav(zensical_site)][:1] == ["Home"]
    for page in sorted(p for p in _pages(mkdocs_site) if p.startswith("models/")):
        assert _heading(zensical_site, page) == _heading(mkdocs_site, page)
    # The PDFs and each card's YAML, where the pages link them.
    pdfs = _files_under(zensical_site, "pdf")
    assert pdfs and pdfs == _files_under(mkdocs_site, "pdf")
    assert _files_under(zensical_site, "kb") == _files_under(mkdocs_site, "kb")
    card = (zensical_site / "models" / "tiny-bert" / "index.html").read_text(encoding="utf-8")
    assert 'href="../../pdf/tiny-bert.pdf"' in card
    assert 'href="../../kb/model_cards/tiny-bert.yaml"' in card

    # Without rendering PDFs (`--no-pdf`), the pages still link the PDFs already made, and the site
    # still holds them, as MkDocs' does.
    capsys.readouterr()
    code = main(["-C", str(zensical), "build", "--engine", "zensical", "--force", "--no-pdf"])
    assert code == 0, capsys.readouterr().err[-3000:]
    assert _files_under(zensical_site, "pdf") == pdfs


def test_kb_build_with_zensical_refuses_a_broken_link_and_keeps_the_last_site(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-C", str(project), "build", "--no-pdf", "--engine", "zensical"]) == 0
    before = (project / "site" / "index.html").read_bytes()
    (project / "site_src" / "contributing.md").write_text("# Contributing\n\n[gone](nowhere.md)\n")
    capsys.readouterr()
    assert main(["-C", str(project), "build", "--no-pdf", "--engine", "zensical"]) == 1
    err = capsys.readouterr().err
    assert "nowhere" in err and "the link check found 1 broken link(s)" in err
    assert (project / "site" / "index.html").read_bytes() == before


def test_kb_build_with_zensical_publishes_no_live_markup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = new_project(tmp_path)
    placements(root, links_to_nowhere=False)
    code = main(["-C", str(root), "build", "--no-pdf", "--force", "--engine", "zensical"])
    assert code == 0, capsys.readouterr().err[-3000:]
    check_site(root / "site", [m for m in MARKERS if m not in LINKS_TO_NOWHERE])


def test_zensical_reads_the_rendered_pages_with_mkdocs_yml_alone(tmp_path: Path) -> None:
    """Portability without the engine: after `kb render`, plain `zensical build` builds every page."""
    root = new_project(tmp_path, with_shipped_kb=True)
    assert main(["-C", str(root), "render"]) == 0
    run = subprocess.run(
        [sys.executable, "-m", "zensical", "build"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    pages = {
        p.relative_to(root / "site_src").with_suffix("").as_posix() for p in (root / "site_src").rglob("*.md")
    }
    built = {p.removesuffix("index") if p.endswith("index") else p + "/" for p in pages}
    assert [p for p in sorted(built) if not (root / "site" / p / "index.html").is_file()] == []

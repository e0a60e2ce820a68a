"""The link check on small built sites with one planted problem each, and on what MkDocs builds."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.checks.links import check_site, scan_site
from generator.cli import main
from tests.checks.conftest import PDF, write_site

GOOD_PAGES = {
    "index.html": '<h1 id="home">Home</h1><a href="models/a/">A</a> <a href="models/a/#usage">usage</a> '
    '<a href="tags/#tag:dna">dna</a> <a href="#home">top</a> <a href="#top">top</a> '
    '<a href="https://github.com/example/a">code</a> <a href="sitemap.xml">map</a>',
    "models/a/index.html": '<h1 id="a">A</h1><h2 id="usage">Usage</h2><a name="old-anchor"></a>'
    '<a href="../../">home</a> <a href="../..">home</a> <a href="./">self</a> '
    '<a href="../../pdf/a.pdf">PDF</a> <a href="../../index.html#home">home</a> '
    '<a href="#old-anchor">old</a> <a href="../../assets/main.css?v=3">css</a> '
    '<a href="../../models/a/#__codelineno-0-1">line</a>',
    "tags/index.html": '<h1 id="tags">Tags</h1><h2 id="tag:dna">dna</h2><a href="../models/a/">A</a>',
    "404.html": '<h1>Not found</h1><a href="/">home</a> <a href="/models/a/">A</a> <a href="..">up</a>',
}
GOOD_FILES = {"pdf/a.pdf": PDF, "sitemap.xml": b"<urlset/>", "search/search_index.json": b"{}"}


def good_site(root: Path, extra: dict[str, str] | None = None) -> Path:
    """The good site, with `extra` HTML appended to some of its pages."""
    pages = dict(GOOD_PAGES)
    for rel, body in (extra or {}).items():
        pages[rel] = pages.get(rel, "") + body
    return write_site(root, pages, dict(GOOD_FILES))


def test_a_good_site_has_no_findings(tmp_path: Path) -> None:
    report = scan_site(good_site(tmp_path), site_url="https://example.org/")
    assert report.problems == []
    assert report.pages == 4
    assert list(report.external) == ["https://github.com/example/a"]


@pytest.mark.parametrize(
    ("planted", "message"),
    [
        ('<a href="../b/">B</a>', "link '../b/' is broken: no such file 'models/b' in the site"),
        ('<a href="../../missing.html">x</a>', "no such file 'missing.html'"),
        (
            '<a href="#nowhere">x</a>',
            "link '#nowhere' is broken: no anchor '#nowhere' on models/a/index.html",
        ),
        ('<a href="../../tags/#tag:rna">x</a>', "no anchor '#tag:rna' on tags/index.html"),
        ('<a href="../../pdf/b.pdf">PDF</a>', "link '../../pdf/b.pdf' is broken: no such file 'pdf/b.pdf'"),
        (
            '<a href="../../pdf/fake.pdf">PDF</a>',
            "'pdf/fake.pdf' is not a PDF (it does not start with %PDF-)",
        ),
        ('<a href="file:///home/me/a.pdf">x</a>', "points at a local file (file:)"),
        ('<a href="http://localhost:8000/models/a/">x</a>', "points at the local machine (localhost)"),
        ('<img src="http://127.0.0.1/x.png">', "points at the local machine (localhost)"),
        ('<a href="https://exa mple.org/">x</a>', "the URL contains whitespace"),
        ('<a href="https://-bad-.example/">x</a>', "'-bad-.example' is not a valid host name"),
        ('<a href="/elsewhere/">x</a>', "absolute path outside the site (the site is served under /kb/)"),
    ],
)
def test_each_planted_problem_is_reported_with_its_page(tmp_path: Path, planted: str, message: str) -> None:
    site = good_site(tmp_path, {"models/a/index.html": planted})
    (site / "pdf" / "fake.pdf").write_text("<html>not a pdf</html>")
    site_url = "https://example.org/kb/" if planted.startswith('<a href="/') else "https://example.org/"
    problems = check_site(site, site_url=site_url)
    if site_url.endswith("/kb/"):  # the pages' own `/assets/...` links are outside /kb/ too
        problems = [p for p in problems if p.file == "models/a/index.html" and "/assets/" not in p.message]
    assert len(problems) == 1, problems
    assert problems[0].file == "models/a/index.html"
    assert message in problems[0].message
    assert problems[0].line > 0


def test_the_canonical_link_to_site_url_is_checked_inside_the_site(tmp_path: Path) -> None:
    site = good_site(
        tmp_path,
        {
            "models/a/index.html": '<link rel="canonical" href="https://example.org/models/a/">'
            '<a href="https://example.org/models/zz/">x</a>'
        },
    )
    problems = check_site(site, site_url="https://example.org/")
    assert [p.message for p in problems] == [
        "link 'https://example.org/models/zz/' is broken: no such file 'models/zz' in the site"
    ]


def test_a_broken_navigation_link_is_reported_on_every_page(tmp_path: Path) -> None:
    pages = {f"models/m{i}/index.html": '<a href="../gone/">Gone</a>' for i in range(3)}
    site = write_site(tmp_path, {"index.html": "home", **pages})
    problems = check_site(site, jobs=1)
    assert sorted(p.file for p in problems) == [f"models/m{i}/index.html" for i in range(3)]


def test_parallel_parsing_gives_the_same_findings(tmp_path: Path) -> None:
    pages = {
        f"models/m{i}/index.html": f'<h1 id="m{i}">M</h1><a href="../m{(i + 1) % 120}/#m{(i + 1) % 120}'
        f'">n</a><a href="../m{i}/#gone">x</a>'
        for i in range(120)
    }
    site = write_site(tmp_path, {"index.html": "home", **pages})
    one = sorted(p.format() for p in check_site(site, jobs=1))
    two = sorted(p.format() for p in check_site(site, jobs=2))
    assert one == two
    assert len(one) == 120


def test_kb_check_links_exits_1_and_names_page_and_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = good_site(tmp_path / "site", {"models/a/index.html": '<a href="../../pdf/b.pdf">PDF</a>'})
    assert main(["-C", str(tmp_path), "check", "links", "--site", str(site), "--format", "github"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("::error file=models/a/index.html,line=")
    assert "link '../../pdf/b.pdf' is broken: no such file 'pdf/b.pdf' in the site" in out


def test_kb_check_links_passes_on_a_good_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = good_site(tmp_path / "site")
    assert main(["-C", str(tmp_path), "check", "links", "--site", str(site)]) == 0
    assert "0 error(s), 0 warning(s)" in capsys.readouterr().err


def test_kb_check_links_without_a_built_site_says_how_to_build_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-C", str(tmp_path), "check", "links"]) == 2
    assert "no built site at site: run `kb build` (or `mkdocs build`) first" in capsys.readouterr().err

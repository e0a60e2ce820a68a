"""Building the site with MkDocs: strict builds, the plugin, untrusted card text, the publishing gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import html

from generator.cli import main
from tests.factory import REPO_ROOT, new_project, write_card
from tests.site.conftest import build, mkdocs_cli, model

SITE_PAGES = ["index.html", "models/index.html", "models/tiny-bert/index.html",
              "models/tiny-hyena/index.html", "models/tiny-brain/index.html",
              "datasets/synthetic-dna/index.html", "catalog/index.html",
              "catalog/comparison/index.html", "catalog/selection/index.html", "catalog/tags/index.html",
              "catalog/downloads/index.html", "reference/card-format/index.html"]


def test_plain_mkdocs_build_strict_renders_and_builds_everything(project: Path) -> None:
    result = mkdocs_cli(project, "build", "--strict")
    assert result.returncode == 0, result.stderr
    for rel in SITE_PAGES:
        assert (project / "site" / rel).is_file(), rel
    doc = html.parse(str(project / "site" / "models" / "tiny-bert" / "index.html"))
    assert doc.findtext(".//h1") == "Tiny Bert"
    assert "This walkthrough references tiny-bert under Apache-2.0." in doc.getroot().text_content()


@pytest.mark.slow
def test_shipped_knowledge_base_builds_strict(tmp_path: Path) -> None:
    if not any((REPO_ROOT / "kb" / "model_cards").glob("*.yaml")):
        pytest.skip("no shipped cards yet")
    root = new_project(tmp_path, with_shipped_kb=True)
    result = mkdocs_cli(root, "build", "--strict")
    assert result.returncode == 0, result.stderr
    for card in (root / "kb" / "model_cards").glob("*.yaml"):
        if not card.name.endswith(".lock.yaml"):
            assert (root / "site" / "models" / card.stem / "index.html").is_file()


def test_plugin_fails_the_build_with_located_messages_on_an_invalid_card(project: Path) -> None:
    card = write_card(project, model("broken", pooling={"strategy": "mean", "layerr": -1}))
    line = card.read_text(encoding="utf-8").splitlines().index("  layerr: -1") + 1
    result = mkdocs_cli(project, "build")
    assert result.returncode == 1
    assert (f"kb/model_cards/broken.yaml:{line}:3: error: pooling.layerr: unknown key 'layerr' "
            "(did you mean 'layer'?)") in result.stderr
    assert not (project / "site" / "index.html").exists()


XSS_NAME = "Evil <script>alert(1)</script> <img src=x onerror=alert(2)> &lt;/title&gt;&lt;b&gt;"
XSS_PROSE = ("Look: <script>alert(1)</script> and <img src=x onerror=alert(2)> and "
             "[click](javascript:alert(3)) and *styled*{: onclick=\"alert(4)\" }\n\n"
             "## Heading\" onmouseover=\"alert(6)\n\n### Child &quot; onclick=&quot;alert(7)\n\nText.")


def test_card_text_cannot_inject_markup(project: Path) -> None:
    write_card(project, model(
        "evil", name=XSS_NAME, alias=XSS_NAME, summary=XSS_PROSE, purpose__summary=XSS_PROSE,
        pooling__notes=XSS_PROSE, strengths=[XSS_NAME], limitations=[XSS_PROSE],
        unverified=[XSS_NAME],
        walkthrough=[{"title": XSS_NAME, "prose": XSS_PROSE,
                      "code": {"language": "python\" onload=\"x",
                               "source": "```\n</code><script>alert(5)</script>"}}],
        citations=[{"title": XSS_NAME, "authors": [XSS_NAME], "year": 2024}],
        related={"models": ["tiny-bert"], "datasets": ["synthetic-dna"]}))
    build(project, strict=False)  # `<script>` reads as a leftover placeholder: a warning, rightly

    pages = sorted((project / "site").rglob("*.html"))
    evil = project / "site" / "models" / "evil" / "index.html"
    assert evil in pages
    for path in pages:
        doc = html.parse(str(path)).getroot()
        for script in doc.iter("script"):
            assert "alert(" not in (script.text or ""), path
        for el in doc.iter():
            if not isinstance(el.tag, str):
                continue
            assert not any(a.lower().startswith("on") for a in el.attrib), (path, el.tag, dict(el.attrib))
            href = el.get("href", "").replace(" ", "").lower()
            assert not href.startswith(("javascript:", "data:")), (path, href)
        assert not doc.xpath("//img[@src='x']"), path

    doc = html.parse(str(evil)).getroot()
    text = doc.text_content()
    assert doc.findtext(".//h1") == XSS_NAME
    assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(2)>" in text
    assert "</code><script>alert(5)</script>" in text
    assert doc.findtext(".//title") == f"{XSS_NAME} - Foundation Model Knowledge Base"
    assert not doc.xpath("//b[contains(., 'Evil')]") and not doc.xpath("//body//title")
    # The catalog shows the name literally too.
    comparison = html.parse(str(project / "site" / "catalog" / "comparison" / "index.html")).getroot()
    assert XSS_NAME in comparison.text_content()


def test_pdfs_are_published_with_the_site(project: Path) -> None:
    """Plain `mkdocs build` renders the PDFs, copies them into the site and links them from every
    card page and the downloads page; the PDF of a card that no longer exists goes away."""
    pdf_dir = project / "artifacts" / "pdf" / "code_walkthroughs"
    pdf_dir.mkdir(parents=True)
    (pdf_dir / "no-such-card.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    result = mkdocs_cli(project, "build", "--strict")
    assert result.returncode == 0, result.stderr
    assert not (project / "site" / "pdf" / "no-such-card.pdf").exists()
    downloads = html.parse(str(project / "site" / "catalog" / "downloads" / "index.html")).getroot()
    listed = {a.get("href") for a in downloads.iter("a")}
    for card_id in ("tiny-bert", "tiny-hyena", "tiny-brain"):
        published = project / "site" / "pdf" / f"{card_id}.pdf"
        assert published.read_bytes() == (pdf_dir / f"{card_id}.pdf").read_bytes()
        assert published.read_bytes().startswith(b"%PDF-")
        doc = html.parse(str(project / "site" / "models" / card_id / "index.html")).getroot()
        buttons = doc.xpath("//a[contains(@class, 'md-button') and contains(., 'Download PDF')]")
        assert [b.get("href") for b in buttons] == [f"../../pdf/{card_id}.pdf"]
        assert f"../../pdf/{card_id}.pdf" in listed


def test_kb_render_and_kb_build_commands(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(project), "render"]) == 0
    out = capsys.readouterr()
    assert "wrote site_src/models/tiny-bert.md" in out.out
    assert "12 page(s) written, 0 unchanged, 0 removed" in out.err

    assert main(["-C", str(project), "build", "--strict", "--no-pdf"]) == 0
    assert (project / "site" / "models" / "tiny-bert" / "index.html").is_file()
    assert "0 page(s) written" in capsys.readouterr().err


def test_require_smoke_refuses_unverified_cards_and_names_them(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    smoke = project / "artifacts" / "smoke"
    smoke.mkdir(parents=True)
    (smoke / "tiny-bert.json").write_text(json.dumps({"status": "passed"}), encoding="utf-8")
    (smoke / "tiny-hyena.json").write_text(json.dumps({"status": "failed"}), encoding="utf-8")
    assert main(["-C", str(project), "build", "--no-pdf", "--require-smoke"]) == 1
    err = capsys.readouterr().err
    assert "2 model card(s) are not verified" in err
    assert "kb/model_cards/tiny-hyena.yaml: smoke test failed" in err
    assert "kb/model_cards/tiny-brain.yaml: smoke test not run" in err
    assert "tiny-bert.yaml" not in err
    assert not (project / "site").exists()

    for card_id in ("tiny-hyena", "tiny-brain"):
        (smoke / f"{card_id}.json").write_text(json.dumps({"status": "passed"}), encoding="utf-8")
    assert main(["-C", str(project), "build", "--no-pdf", "--require-smoke"]) == 0


def test_a_stale_smoke_report_blocks_publishing_and_shows_on_the_page(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_card(project, model("tiny-bert", smoke_test={
        "checkpoint": "tiny-bert", "input": {"kind": "dna", "length": 64}}))
    smoke = project / "artifacts" / "smoke"
    smoke.mkdir(parents=True)
    for card_id in ("tiny-bert", "tiny-hyena", "tiny-brain"):
        (smoke / f"{card_id}.json").write_text(json.dumps({"status": "passed"}), encoding="utf-8")
    # A report made for other inputs (the card, its checkpoint or the projector changed since).
    (smoke / "tiny-bert.json").write_text(json.dumps(
        {"status": "passed", "inputs_hash": "0" * 64, "finished_at": "2026-01-02T03:04:05Z",
         "device": "cpu"}), encoding="utf-8")
    assert main(["-C", str(project), "build", "--no-pdf", "--require-smoke"]) == 1
    err = capsys.readouterr().err
    assert "1 model card(s) are not verified" in err
    assert "kb/model_cards/tiny-bert.yaml: smoke test stale" in err

    assert main(["-C", str(project), "build", "--no-pdf"]) == 0
    row = next(line for line in (project / "site_src" / "models" / "tiny-bert.md").read_text().splitlines()
               if line.startswith("| Smoke test |"))
    assert row.startswith("| Smoke test | stale, 2026-01-02")


def test_kb_build_runs_the_link_check_and_names_the_broken_link(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(project), "build", "--no-pdf"]) == 0
    good = {p.relative_to(project / "site"): p.read_bytes() for p in (project / "site").rglob("*")
            if p.is_file()}
    (project / "site_src" / "notes.md").write_text(
        "# Notes\n\nSee [the old page](old-page.md) and [a section](index.md#no-such-anchor).\n",
        encoding="utf-8")
    assert main(["-C", str(project), "build", "--no-pdf"]) == 1
    err = capsys.readouterr().err
    assert "notes/index.html" in err and "old-page.md" in err
    assert "the link check found" in err
    # The failed build left the last good site exactly as it was, and nothing half-built beside it.
    assert {p.relative_to(project / "site"): p.read_bytes() for p in (project / "site").rglob("*")
            if p.is_file()} == good
    assert sorted(p.name for p in project.iterdir() if "site" in p.name) == ["site", "site_src"]

    (project / "site_src" / "notes.md").write_text("# Notes\n\nSee [the home page](index.md).\n",
                                                   encoding="utf-8")
    assert main(["-C", str(project), "build", "--no-pdf"]) == 0


UP_TO_DATE = "is up to date: nothing MkDocs reads changed since the last build"


def test_a_build_with_nothing_changed_skips_mkdocs_until_an_input_or_the_site_changes(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def kb_build(*extra: str) -> str:
        assert main(["-C", str(project), "build", "--no-pdf", *extra]) == 0
        return capsys.readouterr().err

    page = project / "site" / "models" / "tiny-bert" / "index.html"
    assert UP_TO_DATE not in kb_build()
    built = page.stat().st_mtime_ns
    assert UP_TO_DATE in kb_build()
    assert page.stat().st_mtime_ns == built

    # A card edited: its page changes, so MkDocs runs and the site shows the edit.
    write_card(project, model("tiny-bert", name="Tiny BERT Renamed"))
    assert UP_TO_DATE not in kb_build()
    assert html.parse(str(page)).findtext(".//h1") == "Tiny BERT Renamed"
    assert UP_TO_DATE in kb_build()

    # Something removed from site/ by hand: built again.
    (project / "site" / "catalog" / "index.html").unlink()
    assert UP_TO_DATE not in kb_build()
    assert (project / "site" / "catalog" / "index.html").is_file()

    # --strict is another build; --force always builds.
    assert UP_TO_DATE not in kb_build("--strict")
    assert UP_TO_DATE not in kb_build("--strict", "--force")
    assert UP_TO_DATE in kb_build("--strict")


def test_the_stamp_sees_theme_overrides_pdfs_and_mkdocs_yml(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def up_to_date() -> bool:
        assert main(["-C", str(project), "build", "--no-pdf"]) == 0
        return UP_TO_DATE in capsys.readouterr().err

    assert not up_to_date()
    assert up_to_date()
    main_html = project / "templates" / "theme" / "main.html"
    main_html.write_text(main_html.read_text(encoding="utf-8") + "\n{# edited #}\n", encoding="utf-8")
    assert not up_to_date()
    pdf = project / "artifacts" / "pdf" / "code_walkthroughs" / "tiny-bert.pdf"
    pdf.parent.mkdir(parents=True)
    pdf.write_bytes(b"%PDF-1.7\n%%EOF\n")
    assert not up_to_date()
    assert (project / "site" / "pdf" / "tiny-bert.pdf").read_bytes() == pdf.read_bytes()
    config = project / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("site_name:", "site_name: New", 1),
                      encoding="utf-8")
    assert not up_to_date()
    assert up_to_date()


def test_a_plain_string_theme_builds_and_a_missing_mkdocs_yml_is_a_clear_error(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    # `theme: material` instead of the mapping (custom_dir, features...): MkDocs accepts both.
    kept: list[str] = []
    skipping = False
    for line in text.splitlines():
        if line.startswith("theme:"):
            kept.append("theme: material")
            skipping = True
        elif skipping and (line.startswith(" ") or not line.strip()):
            continue
        else:
            skipping = False
            kept.append(line)
    config.write_text("\n".join(kept) + "\n", encoding="utf-8")
    assert main(["-C", str(project), "build", "--no-pdf"]) == 0
    assert main(["-C", str(project), "build", "--no-pdf"]) == 0
    assert UP_TO_DATE in capsys.readouterr().err

    config.unlink()
    assert main(["-C", str(project), "build", "--no-pdf"]) == 1
    err = capsys.readouterr().err
    assert "mkdocs.yml" in err and "Traceback" not in err

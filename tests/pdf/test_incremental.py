"""`kb pdf` renders only what changed, reproducibly, and reports a broken card without stopping."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader

from generator.knowledge import load_knowledge_base
from generator.pdf import PdfRun, build_pdfs
from generator.settings import Project
from tests.factory import make_card, write_card
from tests.pdf.helpers import edit_card, kb_pdf, pdf_dir, rich_commit

IDS = ["rich-model", "tiny-bert"]


def build(root: Path, ids: list[str] | None = None, *, jobs: int = 1, force: bool = False) -> PdfRun:
    project = Project.load(root)
    kb, _ = load_knowledge_base(project.root, None, project.kb_dir)
    return build_pdfs(project, kb, ids, jobs=jobs, force=force, progress=False)


def test_only_changed_cards_are_rendered(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kb_pdf(project) == 0
    out = capsys.readouterr()
    assert "wrote artifacts/pdf/code_walkthroughs/rich-model.pdf" in out.out
    assert "2 rendered, 0 unchanged, 0 failed" in out.err

    # Nothing changed: nothing rendered, files untouched.
    before = {p.name: p.stat().st_mtime_ns for p in pdf_dir(project).glob("*.pdf")}
    assert kb_pdf(project) == 0
    assert "0 rendered, 2 unchanged, 0 failed" in capsys.readouterr().err
    assert {p.name: p.stat().st_mtime_ns for p in pdf_dir(project).glob("*.pdf")} == before

    # One card changed: exactly that one.
    edit_card(project / "kb/model_cards/tiny-bert.yaml", summary="Changed summary.")
    run = build(project)
    assert (run.rendered, run.skipped) == (["tiny-bert"], ["rich-model"])

    # Its lock file changed what the PDF shows (the pin's date, once synced): that card again.
    lock = project / "kb/model_cards/rich-model.lock.yaml"
    lock.write_text(
        f"commit: {rich_commit(project)}\ncommitted: '2024-03-01T12:00:00+00:00'\ncitations: []\n"
    )
    assert build(project).rendered == ["rich-model"]

    # A print template changed: all of them.
    css = project / "templates/pdf/print.css"
    css.write_text(css.read_text() + "\n/* changed */\n")
    assert build(project).rendered == IDS

    # --force renders everything even when nothing changed.
    assert build(project, force=True).rendered == IDS
    assert build(project).rendered == []


def test_asking_for_some_ids_renders_only_those(project: Path) -> None:
    run = build(project, ids=["tiny-bert"])
    assert run.rendered == ["tiny-bert"]
    assert not (pdf_dir(project) / "rich-model.pdf").exists()


def test_two_clean_runs_give_byte_identical_files(project: Path) -> None:
    assert kb_pdf(project, "--jobs", "2") == 0
    first = {p.name: p.read_bytes() for p in pdf_dir(project).iterdir()}
    shutil.rmtree(project / "artifacts")
    assert kb_pdf(project) == 0
    second = {p.name: p.read_bytes() for p in pdf_dir(project).iterdir()}
    assert set(first) == {"manifest.json", "rich-model.pdf", "tiny-bert.pdf"}
    assert first == second


def test_unknown_id_is_a_usage_error_listing_known_ids(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kb_pdf(project, "tiny-bret") == 2
    assert capsys.readouterr().err.strip() == (
        "kb pdf: error: unknown card id(s): tiny-bret; known ids: rich-model, tiny-bert"
    )
    assert not pdf_dir(project).exists()


def test_a_broken_card_is_reported_and_the_others_are_written(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = project / "kb/model_cards/broken.yaml"
    write_card(project, make_card(id="broken", name="Broken"))
    broken.write_text(broken.read_text().replace("license: Apache-2.0", "license: Not-A-License"))
    assert kb_pdf(project) == 1
    err = capsys.readouterr().err
    assert "error: kb/model_cards/broken.yaml: invalid card:" in err
    assert "Not-A-License" in err
    assert "2 rendered, 0 unchanged, 1 failed" in err
    assert sorted(p.name for p in pdf_dir(project).glob("*.pdf")) == ["rich-model.pdf", "tiny-bert.pdf"]


def test_a_card_that_fails_to_render_does_not_stop_the_others(project: Path) -> None:
    assert build(project).rendered == IDS
    # An override template that fails for one card only (a template error, not a validation error).
    overrides = project / "my_templates" / "pdf"
    overrides.mkdir(parents=True)
    shutil.copy(project / "templates/pdf/card.html.j2", overrides / "model.html.j2")
    text = (overrides / "model.html.j2").read_text()
    (overrides / "model.html.j2").write_text(
        text.replace(
            "{% block sections %}",
            "{% block sections %}{% if card.id == 'tiny-bert' %}{{ card.no_such_field }}{% endif %}",
            1,
        )
    )
    (project / "mkdocs.yml").write_text(
        "site_name: t\nplugins:\n  - kb:\n      template_overrides: my_templates\n"
    )
    run = build(project, jobs=2)
    assert run.rendered == ["rich-model"]
    assert list(run.failed) == ["tiny-bert"]
    assert run.failed["tiny-bert"].startswith("kb/model_cards/tiny-bert.yaml: ")
    assert "no_such_field" in run.failed["tiny-bert"]
    # Its old PDF no longer matches the card, so it is not left to be published.
    assert not (pdf_dir(project) / "tiny-bert.pdf").exists()
    # The failed card has no manifest entry: it is retried on the next run.
    assert build(project).rendered == []
    assert list(build(project).failed) == ["tiny-bert"]


def test_the_pdf_of_a_deleted_card_is_removed(project: Path) -> None:
    build(project)
    (project / "kb/model_cards/rich-model.yaml").unlink()
    run = build(project)
    # tiny-bert listed rich-model among its related cards (links go both ways), so it changed too.
    assert (run.removed, run.rendered) == (["rich-model"], ["tiny-bert"])
    assert not (pdf_dir(project) / "rich-model.pdf").exists()


def test_the_date_is_the_cards_last_commit_not_the_clock(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    stamp = "2021-03-04T05:06:07Z"
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    for cmd in (["init", "-q"], ["add", "kb"], ["commit", "-q", "-m", "cards"]):
        subprocess.run(["git", *cmd], cwd=project, env=env, check=True)
    run = build(project, ["tiny-bert"])
    assert run.rendered == ["tiny-bert"]
    cover = PdfReader(run.paths["tiny-bert"]).pages[0].extract_text()
    assert "Printed 2021-03-04" in cover
    assert PdfReader(run.paths["tiny-bert"]).metadata["/CreationDate"].startswith("D:20210304050607")


def test_parallel_rendering_from_a_process_running_threads(project: Path) -> None:
    # `mkdocs serve` runs a server thread: workers must then be started clean, not forked.
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        run = build(project, jobs=2)
    finally:
        stop.set()
    assert run.rendered == IDS and run.failed == {}

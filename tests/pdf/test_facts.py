"""A PDF's cache key covers every fact it shows: change one, and exactly the PDFs showing it re-render."""

from __future__ import annotations

import json
from pathlib import Path

from generator.knowledge import load_knowledge_base
from generator.pdf import PdfRun, build_pdfs
from generator.settings import Project
from tests.factory import make_card, write_card, write_yaml
from tests.pdf.helpers import COMMIT, edit_card, pdf_dir, pdf_text, small_project
from tests.signing import allow, new_key, sign_file


def build(root: Path) -> PdfRun:
    project = Project.load(root)
    kb, _ = load_knowledge_base(project.root, None, project.kb_dir)
    return build_pdfs(project, kb, jobs=1, progress=False)


def test_a_changed_fact_re_renders_exactly_the_pdfs_that_show_it(tmp_path: Path) -> None:
    root = small_project(tmp_path)  # rich-model lists tiny-bert as related (so tiny-bert lists it back)
    write_card(root, make_card(id="lone-model", name="Lone Model"))
    assert build(root).rendered == ["lone-model", "rich-model", "tiny-bert"]
    assert build(root).rendered == []

    # A related card's name: that card's own PDF, and the one listing it; not the unrelated one.
    edit_card(root / "kb/model_cards/tiny-bert.yaml", name="Tiny BERT Renamed")
    assert build(root).rendered == ["rich-model", "tiny-bert"]
    assert "Tiny BERT Renamed" in pdf_text(pdf_dir(root) / "rich-model.pdf")

    # A pin date (known once `kb repos sync` wrote it into the lock file).
    write_yaml(
        root / "kb/model_cards/lone-model.lock.yaml",
        {"commit": COMMIT, "committed": "2024-03-01T12:00:00+00:00", "citations": []},
    )
    assert build(root).rendered == ["lone-model"]
    assert "pinned at 0123456 (v1.0), 2024-03-01" in pdf_text(pdf_dir(root) / "lone-model.pdf")

    # The smoke status (a new report from `kb smoke`).
    smoke = root / "artifacts" / "smoke"
    smoke.mkdir(parents=True)
    (smoke / "lone-model.json").write_text(
        json.dumps({"status": "passed", "finished_at": "2026-11-20T10:00:00Z", "device": "cpu"}),
        encoding="utf-8",
    )
    assert build(root).rendered == ["lone-model"]
    assert "passed, not verified, 2026-11-20, on cpu" in pdf_text(pdf_dir(root) / "lone-model.pdf")
    assert build(root).rendered == []

    # The same report signed by an allowed signer: the PDF, like the page, says who vouches for it.
    key = new_key(tmp_path / "keys")
    allow(root, ("smoke-ci", key))
    when = sign_file(smoke / "lone-model.json", key)["signature"]["signed_at"]
    assert "lone-model" in build(root).rendered
    text = " ".join(pdf_text(pdf_dir(root) / "lone-model.pdf").split())  # lines joined
    assert "passed, 2026-11-20, on cpu" in text and "not verified" not in text
    assert f"Signed by smoke-ci on {when.replace('T', ' ').removesuffix('+00:00')} UTC." in text

"""A new card kind, added as ARCHITECTURE.md says and nothing else: its schema class, one `CardKind` in
`CARD_KINDS`, and its skeleton template (here in a temporary project). It gets a page and a place in
the navigation, a PDF, a skeleton from `kb new`, a JSON Schema from `kb schema`, and its place in the
hostile-text corpus, with no other file of the product edited."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest
from lxml import html

from generator.cli import main
from generator.knowledge import load_knowledge_base
from generator.pdf.build import print_jobs
from generator.pdf.document import render_html
from generator.render.nav import site_nav
from generator.schema import CARD_KINDS, CardKind
from generator.schema.card import Card, HasCitations, HasLicense
from generator.schema.common import Citation, Markdown, Slug, Spdx
from generator.settings import Project
from tests.factory import new_project
from tests.hostile import markers_in, placements
from tests.site.conftest import build
from tests.site.test_hostile import check_site, problems_in

pytestmark = pytest.mark.slow


class ProtocolCard(Card, HasLicense, HasCitations):
    """A lab protocol card (`kb/protocols/<id>.yaml`)."""

    schema_version: Literal[1]
    """Card format version."""
    id: Slug
    """Slug; equals the file name."""
    name: str
    """Protocol name."""
    summary: Markdown = ""
    """One sentence shown in catalogs."""
    description: Markdown = ""
    """What the protocol is for."""
    steps: list[Markdown] = []
    """Steps, in order."""
    materials: list[str] = []
    """What it needs."""
    duration: str = ""
    """How long it takes."""
    license: Spdx | None = None
    """License of the protocol's text."""
    citations: list[Citation] = []
    """Papers to cite."""


EXAMPLE = {
    "schema_version": 1,
    "id": "example-protocol",
    "name": "Example protocol",
    "summary": "Extract DNA, then embed it.",
    "description": "A protocol that shows every field.",
    "steps": ["Extract.", "Embed."],
    "materials": ["Pipette"],
    "duration": "2 hours",
    "license": "CC-BY-4.0",
    "citations": [{"title": "A paper", "authors": ["Doe, J."], "year": 2024, "doi": "10.1234/x.1"}],
}

PROTOCOL = CardKind(
    "protocol", "protocols", ProtocolCard, "Lab protocols", "lab protocol", "Protocols", EXAMPLE, printed=True
)

SKELETON = """# yaml-language-server: $schema={{ schema }}
# A lab protocol card. Replace every <placeholder>. `kb validate --strict {{ card_file }}` checks it.
schema_version: 1
id: {{ id }}
name: <Protocol name>
summary: <One sentence for the catalog>
description: <What the protocol is for>
steps:
  - <The first step>
license: <SPDX license expression>
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project whose product knows the kind: its declaration, and its skeleton among the templates."""
    monkeypatch.setitem(CARD_KINDS, PROTOCOL.name, PROTOCOL)
    root = new_project(tmp_path)
    (root / "templates" / PROTOCOL.skeleton_template).write_text(SKELETON, encoding="utf-8")
    return root


def test_kb_new_writes_its_skeleton_which_validates_once_filled(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-C", str(project), "new", "--kind", "protocol", "my-protocol"]) == 0
    card = project / "kb" / "protocols" / "my-protocol.yaml"
    text = card.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../../schemas/protocol_card.schema.json\n")
    assert "kb validate --strict kb/protocols/my-protocol.yaml" in text
    capsys.readouterr()
    assert main(["-C", str(project), "validate", "--strict"]) == 1  # the placeholders are reported
    assert "leftover placeholder '<Protocol name>'" in capsys.readouterr().out
    for old, new in (
        ("<Protocol name>", "My protocol"),
        ("<One sentence for the catalog>", "Short."),
        ("<What the protocol is for>", "Testing."),
        ("<The first step>", "Start."),
        ("<SPDX license expression>", "MIT"),
    ):
        text = text.replace(old, new)
    card.write_text(text, encoding="utf-8")
    assert main(["-C", str(project), "validate", "--strict"]) == 0, capsys.readouterr().out


def test_kb_schema_writes_its_json_schema_where_the_declaration_says(project: Path) -> None:
    target = project / PROTOCOL.schema_file
    assert main(["-C", str(project), "schema", "--kind", "protocol", "-o", str(target)]) == 0
    schema = json.loads(target.read_text(encoding="utf-8"))
    assert set(schema["properties"]) >= {"steps", "materials", "duration", "license"}
    assert schema["properties"]["steps"]["description"] == "Steps, in order."


def test_its_cards_get_a_page_a_place_in_the_navigation_and_a_pdf(project: Path) -> None:
    placements(project, kinds=[])  # every kind's example card (the protocol's too), no hostile text
    build(project)
    page = html.parse(str(project / "site" / "protocols" / "example-protocol" / "index.html")).getroot()
    article = page.find(".//article")
    headings = [" ".join(h.text_content().split()).rstrip("¶").strip() for h in article.iter("h2")]
    assert headings == [
        "Metadata",
        "Details",
        "Description",
        "Steps",
        "Materials",
        "Citations",
        "Related Cards",
    ]
    text = " ".join(article.text_content().split())
    for shown in (
        "Lab protocol",
        "2 hours",
        "Extract.",
        "Pipette",
        "CC-BY-4.0",
        "kb/protocols/example-protocol.yaml",
    ):
        assert shown in text, shown
    project_ = Project.load(project)
    kb, _ = load_knowledge_base(project_.root, None, project_.kb_dir)
    nav = site_nav(kb, project_.docs_dir)
    titles = [next(iter(entry)) for entry in nav if isinstance(entry, dict)]
    assert titles.index("Protocols") == titles.index("Reference") - 1
    protocols = ["protocols/index.md", "protocols/example-protocol.md"]
    assert nav[titles.index("Protocols")]["Protocols"] == [{"Lab protocols": protocols}]
    (job,) = [j for j in print_jobs(project_, kb) if j.facts.kind == "protocol"]
    document, _ = render_html(job)
    body = html.document_fromstring(document)
    assert [" ".join(h.text_content().split()) for h in body.xpath("//main//h2")] == headings[1:]


def test_it_is_in_the_hostile_corpus_and_holds_no_live_markup(project: Path) -> None:
    held = placements(project, kinds=["protocol"])
    ids = [i for i in held if i.startswith("hostile-protocol-")]
    assert len(ids) >= 3 and all(held[i] for i in ids)  # every text field took payloads
    build(project, strict=False)  # some payloads are links to nowhere, which --strict refuses
    markers = markers_in(p for i in ids for p in held[i])
    check_site(project / "site", markers)
    project_ = Project.load(project)
    kb, _ = load_knowledge_base(project_.root, None, project_.kb_dir)
    found: list[str] = []
    for job in print_jobs(project_, kb):
        if job.facts.kind == "protocol":
            document, _ = render_html(job)
            found += problems_in(html.document_fromstring(document).body, job.rel, images=True)
    assert found == []

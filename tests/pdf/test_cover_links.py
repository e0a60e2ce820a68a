"""The PDF's cover links what it names: the repository, the pinned commit, the card's YAML on the forge
(or in the published site), the checkpoints on the model hub and the paper, as real PDF link
annotations a reader can click."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factory import make_card, new_project, write_card
from tests.pdf.helpers import kb_pdf, pdf_dir

COMMIT = "0123456789abcdef0123456789abcdef01234567"
REVISION = "89abcdef0123456789abcdef0123456789abcdef"


def cover_links(pdf: Path) -> list[str]:
    """The URIs of the link annotations on the first page (the cover)."""
    from pypdf import PdfReader

    uris = []
    for annot in PdfReader(pdf).pages[0].get("/Annots") or []:
        action = annot.get_object().get("/A") or {}
        if "/URI" in action:
            uris.append(str(action["/URI"]))
    return uris


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = new_project(tmp_path)
    write_card(
        root,
        make_card(
            id="linked",
            related={},
            links={"paper": "https://example.org/paper"},
            checkpoints=[
                {"name": "a", "path": "a", "hub_id": "example/linked-a", "revision": REVISION},
                {"name": "b", "path": "b", "hub_id": "example/linked-b"},
            ],
        ),
    )
    return root


def test_the_cover_links_repository_commit_card_hub_and_paper(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KB_REPO_URL", "https://github.com/example/kb")  # as the Pages workflow sets it
    assert kb_pdf(project, "linked") == 0
    links = cover_links(pdf_dir(project) / "linked.pdf")
    for url in (
        "https://github.com/example/tiny-bert",  # the repository
        f"https://github.com/example/tiny-bert/tree/{COMMIT}",  # the pinned commit
        "https://github.com/example/kb/blob/main/kb/model_cards/linked.yaml",  # the card's YAML
        f"https://huggingface.co/example/linked-a/tree/{REVISION}",  # the hub, at the revision
        "https://huggingface.co/example/linked-b",
        "https://example.org/paper",
    ):
        assert url in links, (url, links)


def test_without_a_forge_the_card_links_into_the_published_site(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KB_REPO_URL", raising=False)
    config = project / "mkdocs.yml"
    config.write_text(config.read_text() + "\nsite_url: https://kb.example.org/\n")
    assert kb_pdf(project, "linked") == 0
    links = cover_links(pdf_dir(project) / "linked.pdf")
    assert "https://kb.example.org/kb/model_cards/linked.yaml" in links
    assert not any("github.com/example/kb" in u for u in links)


def test_without_a_forge_or_site_url_the_card_path_is_text_and_the_paper_comes_from_the_citation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KB_REPO_URL", raising=False)
    root = new_project(tmp_path)
    write_card(root, make_card(related={}))  # cites arXiv 2403.03234, no links.paper
    assert kb_pdf(root, "tiny-bert") == 0
    links = cover_links(pdf_dir(root) / "tiny-bert.pdf")
    assert "https://arxiv.org/abs/2403.03234" in links
    assert not any("model_cards" in u for u in links)

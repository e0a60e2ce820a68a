"""Helpers for the PDF tests: small projects with a couple of cards, running `kb pdf`, reading PDFs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from generator.cli import main
from tests.factory import make_card, new_project, upstream_clone, write_card, write_yaml

COMMIT = "0123456789abcdef0123456789abcdef01234567"

SNIPPET = "def forward(self, x):\n    h = self.embed(x)\n    return self.encoder(h)\n"


def rich_card(table_rows: int = 2) -> dict[str, Any]:
    """A card with a cited snippet (lock file), a training table of `table_rows` rows and a related card."""
    sources = [
        {"name": f"Genome {i}", "samples": f"{i * 1000} sequences", "description": "Reference assembly."}
        for i in range(1, table_rows + 1)
    ]
    return make_card(
        id="rich-model",
        name="Rich Model",
        alias="RichM",
        related={"models": ["tiny-bert"]},
        architecture__family="striped-hyena",
        training={"sources": sources},
        walkthrough=[
            {
                "title": "Encode",
                "stage": "encode",
                "prose": "Run the **encoder**.",
                "cite": {"path": "model/net.py", "lines": [10, 12]},
            },
            {
                "title": "Project",
                "stage": "project",
                "prose": "Pool, then project.",
                "cite": {"path": "model/head.py", "lines": [3, 4]},
            },
        ],
    )


def write_lock(project: Path, card_id: str, commit: str = COMMIT) -> None:
    write_yaml(
        project / "kb" / "model_cards" / f"{card_id}.lock.yaml",
        {
            "commit": commit,
            "citations": [{"path": "model/net.py", "lines": [10, 12], "snippet": SNIPPET}],
        },
    )


RICH_REPO = "tiny-bert"
"""The rich card's upstream clone: `model/net.py` holds SNIPPET at lines 10-12 (the snippet a page shows
is read there, at the pinned commit, never from the lock file alone); `model/head.py` is not there."""


def small_project(tmp: Path, table_rows: int = 2) -> Path:
    root = new_project(tmp)
    write_card(root, make_card())
    net = "".join(f"# line {n}\n" for n in range(1, 10)) + SNIPPET
    commit = upstream_clone(root, RICH_REPO, {"model/net.py": net})
    card = rich_card(table_rows)
    card["repo"] = {**card["repo"], "name": RICH_REPO, "commit": commit}
    write_card(root, card)
    write_lock(root, "rich-model", commit)
    return root


def rich_commit(root: Path) -> str:
    """The commit the rich card pins (its upstream clone's)."""
    from git import Repo

    return str(Repo(root / "external_repos" / RICH_REPO).head.commit.hexsha)


def kb_pdf(root: Path, *args: str) -> int:
    return main(["-C", str(root), "pdf", "--no-progress", "--jobs", "1", *args])


def pdf_dir(root: Path) -> Path:
    return root / "artifacts" / "pdf" / "code_walkthroughs"


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def outline_titles(path: Path) -> list[str]:
    from pypdf import PdfReader

    def walk(items: Any) -> Iterator[str]:
        for item in items:
            if isinstance(item, list):
                yield from walk(item)
            else:
                yield str(item.title)

    return list(walk(PdfReader(path).outline))


def edit_card(path: Path, **changes: Any) -> None:
    yaml = YAML(typ="safe", pure=True)
    data = yaml.load(path.read_text(encoding="utf-8"))
    data.update(changes)
    write_yaml(path, data)

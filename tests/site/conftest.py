"""Fixtures for the site tests: a throwaway project with a few related cards, and ways to build it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from generator.build import prepare, run_mkdocs
from generator.knowledge import load_knowledge_base
from generator.render.site import RenderReport
from generator.settings import Project
from tests.factory import make_card, new_project, write_card, write_yaml

SITE_PAGES = [  # pages every build of the `project` fixture makes
    "index.html",
    "models/index.html",
    "models/tiny-bert/index.html",
    "models/tiny-hyena/index.html",
    "models/tiny-brain/index.html",
    "datasets/synthetic-dna/index.html",
    "catalog/index.html",
    "catalog/comparison/index.html",
    "catalog/selection/index.html",
    "catalog/tags/index.html",
    "catalog/downloads/index.html",
    "reference/card-format/index.html",
]


DATASET = {
    "schema_version": 1,
    "id": "synthetic-dna",
    "name": "Synthetic DNA",
    "modality": "dna",
    "summary": "Random sequences for the tests.",
    "description": "Uniform random bases.",
}


def model(card_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid model card with the given id; related to nothing unless told (no empty-section warning)."""
    base: dict[str, Any] = {
        "id": card_id,
        "name": card_id.replace("-", " ").title(),
        "related": {"datasets": ["synthetic-dna"]},
    }
    base.update(overrides)
    return make_card(**base)


TINY_HYENA: dict[str, Any] = {
    "related": {"models": ["tiny-bert"], "datasets": ["synthetic-dna"]},
    "architecture__model_type": "causal",
    "architecture__family": "hyena",
}
"""The project's causal DNA model, relating to tiny-bert and the dataset (for tests that write it again)."""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with two DNA models and one fMRI model (one relating to another) and a dataset card."""
    root = new_project(tmp_path)
    write_yaml(root / "kb" / "datasets" / "synthetic-dna.yaml", DATASET)
    write_card(
        root,
        model("tiny-bert", selection={"best_for": ["short variant effects"], "avoid_for": ["long contexts"]}),
    )
    write_card(
        root,
        model("tiny-hyena", **TINY_HYENA),
    )
    write_card(root, model("tiny-brain", modality="fmri", tokenization__kind="roi-tensors"))
    return root


def render(root: Path, **kwargs: Any) -> RenderReport:
    """Validate and render the project's pages, as `kb render` does."""
    project = Project.load(root)
    kb, _ = load_knowledge_base(project.root, None, project.kb_dir)
    report = prepare(project, kb, pdf=False, **kwargs).render
    assert report is not None
    return report


def build(root: Path, *, strict: bool = True) -> None:
    """Validate, render and build site/ in-process (the `kb build --no-pdf` path: MkDocs is handed
    what was prepared, as `kb build` does)."""
    project = Project.load(root)
    kb, _ = load_knowledge_base(project.root, None, project.kb_dir)
    run_mkdocs(project, strict=strict, prepared=prepare(project, kb, pdf=False))


def mkdocs_cli(root: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real `mkdocs` command line in the project, as a user does."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def page(root: Path, rel: str) -> str:
    return (root / "site_src" / rel).read_text(encoding="utf-8")

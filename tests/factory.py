"""Test helpers: a minimal valid model card, `make_card(**overrides)`, and throwaway projects."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from benchmarks.project import new_project as make_project

REPO_ROOT = Path(__file__).resolve().parent.parent

MINIMAL_MODEL_CARD: dict[str, Any] = {
    "schema_version": 1,
    "id": "tiny-bert",
    "name": "Tiny BERT",
    "alias": "tiny-bert",
    "summary": "A tiny BERT-like DNA encoder used by the tests.",
    "modality": "dna",
    "license": "Apache-2.0",
    "repo": {
        "name": "tiny-bert",
        "url": "https://github.com/example/tiny-bert",
        "commit": "0123456789abcdef0123456789abcdef01234567",
        "tag": "v1.0",
    },
    "purpose": {
        "summary": "DNA sequence embeddings for tests.",
        "intended_tasks": ["embedding"],
        "out_of_scope": ["clinical use"],
    },
    "architecture": {
        "model_type": "encoder",
        "family": "transformer",
        "backbone": "BERT encoder",
        "layers": 2,
        "hidden_size": 32,
        "attention_heads": 2,
        "parameters": 50000,
        "embedding_dim": 32,
    },
    "tokenization": {
        "kind": "k-mer",
        "k": 6,
        "vocab_size": 4101,
        "context": {"tokens": 512, "description": "512 tokens"},
    },
    "pooling": {"strategy": "mean", "notes": "Mean over non-padding tokens."},
    "training": {"sources": [{"name": "Synthetic DNA", "samples": "1,000 sequences"}]},
    "checkpoints": [{"name": "tiny-bert", "path": "tiny-bert"}],
    "walkthrough": [
        {
            "title": "Preprocess",
            "stage": "preprocess",
            "prose": "Upper-case the sequence.",
            "code": {"language": "python", "source": "seq = seq.upper()\n"},
        },
    ],
    "integration": {"projector": {"in_dim": 32, "hidden_dim": 64, "out_dim": 512, "dropout": 0.1}},
    "strengths": ["Fast."],
    "limitations": ["Random weights."],
    "citations": [{"title": "A paper", "authors": ["Doe, J."], "year": 2024, "arxiv": "2403.03234"}],
    "links": {"docs": "https://example.org/docs", "issues": "https://github.com/example/tiny-bert/issues"},
    "related": {},
}


def make_card(**overrides: Any) -> dict[str, Any]:
    """A valid model card with top-level keys replaced; `a__b=v` sets nested key `a.b`."""
    card = copy.deepcopy(MINIMAL_MODEL_CARD)
    for key, value in overrides.items():
        target = card
        parts = key.split("__")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        if value is _DELETE:
            target.pop(parts[-1], None)
        else:
            target[parts[-1]] = value
    return card


_DELETE = object()
DELETE = _DELETE
"""Pass as an override value to remove a key."""


def write_yaml(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    with path.open("w", encoding="utf-8") as fh:
        yaml.dump(data, fh)
    return path


def write_card(project: Path, card: dict[str, Any], folder: str = "model_cards") -> Path:
    return write_yaml(project / "kb" / folder / f"{card['id']}.yaml", card)


def new_project(tmp_path: Path, *, with_shipped_kb: bool = False) -> Path:
    """A throwaway project: the repository's mkdocs.yml, templates and hand-written pages, and a kb/
    (`benchmarks.project.new_project`, which the benchmarks measure too)."""
    return make_project(tmp_path, with_shipped_kb=with_shipped_kb)


def set_kb_options(root: Path, **options: Any) -> None:
    """Add options to the `kb` plugin's section of a throwaway project's mkdocs.yml (values as JSON,
    which YAML reads as flow style)."""
    import json
    import re

    config = root / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    for key in options:  # a later call replaces what an earlier one set
        text = re.sub(rf"(?m)^      {re.escape(key)}: .*\n", "", text)
    lines = "".join(f"      {key}: {json.dumps(value)}\n" for key, value in options.items())
    if "\n  - kb\n" in text:
        text = text.replace("\n  - kb\n", f"\n  - kb:\n{lines}", 1)
    else:
        assert "\n  - kb:\n" in text, "the project's mkdocs.yml lists no kb plugin"
        text = text.replace("\n  - kb:\n", f"\n  - kb:\n{lines}", 1)
    config.write_text(text, encoding="utf-8")


FORGE = "https://github.com/example/"
"""Where the tests' upstream repositories live, as cards name them; `mirror_forge` points it at a local
folder through the `repo_mirrors` setting (a card's `repo.url` is always a forge's https URL)."""


def mirror_forge(root: Path, folder: Path) -> None:
    """Clone `https://github.com/example/<name>` from `<folder>/<name>` in the project at `root`."""
    set_kb_options(root, repo_mirrors={FORGE: f"{folder}/"})


def upstream_clone(root: Path, name: str, files: dict[str, str]) -> str:
    """`external_repos/<name>` as `kb repos sync` leaves it: a git repository holding `files` in one
    commit, checked out; returns the commit (for the card's `repo.commit`)."""
    from git import Repo

    path = root / "external_repos" / name
    path.mkdir(parents=True, exist_ok=True)
    repo = Repo.init(path)
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Upstream Dev").set_value("user", "email", "dev@example.org")
    for rel, text in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text, encoding="utf-8")
        repo.index.add([rel])
    return str(repo.index.commit("upstream").hexsha)

"""Upstream repositories for the `kb repos` tests: real local git repositories built with gitpython."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.factory import FORGE, make_card, mirror_forge, new_project, write_card

MODEL_V1 = "".join(f"line {n}\n" for n in range(1, 11))
"""src/model.py at v1.0: ten numbered lines."""
MODEL_V2 = "# header added in v1.1\n# second header line\n" + MODEL_V1.replace("line 4\n", "line four\n")
"""src/model.py at v1.1: two lines inserted at the top, and (old) line 4 edited."""


@dataclass
class Upstream:
    """A local git repository standing in for an upstream project (with `git` identity set)."""

    path: Path
    shas: dict[str, str] = field(default_factory=dict)

    @property
    def repo(self) -> Any:
        from git import Repo

        return Repo(self.path)

    def commit(
        self,
        name: str,
        files: dict[str, str],
        remove: tuple[str, ...] = (),
        tag: str | None = None,
        date: str = "2024-03-01T12:00:00 +0000",
    ) -> str:
        repo = self.repo
        for rel, text in files.items():
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            repo.index.add([rel])
        if remove:
            repo.index.remove(list(remove), working_tree=True)
        sha = repo.index.commit(name, author_date=date, commit_date=date).hexsha
        if tag:
            repo.create_tag(tag, ref=sha)
        self.shas[name] = sha
        return sha


@pytest.fixture
def upstream(tmp_path: Path) -> Upstream:
    """v1.0: LICENSE, src/model.py, src/util.py. v1.1: model.py shifted and edited, util.py moved to pkg/."""
    from git import Repo

    path = tmp_path / "upstream"
    repo = Repo.init(path, initial_branch="main")
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Upstream Dev")
        cw.set_value("user", "email", "dev@example.org")
    up = Upstream(path)
    up.commit(
        "v1",
        {
            "LICENSE": "Apache License 2.0\n",
            "src/model.py": MODEL_V1,
            "src/util.py": "def helper():\n    return 42\n",
        },
        tag="v1.0",
    )
    up.commit(
        "v2",
        {"src/model.py": MODEL_V2, "pkg/util.py": "def helper():\n    return 42\n"},
        remove=("src/util.py",),
        tag="v1.1",
        date="2024-06-01T12:00:00 +0000",
    )
    return up


UPSTREAM_URL = f"{FORGE}upstream"
"""The upstream repository as cards name it (cloned from the `upstream` fixture's folder)."""

STEPS = [
    {
        "title": "Encode",
        "stage": "encode",
        "prose": "The model.",
        "cite": {"path": "src/model.py", "lines": [3, 5]},
    },
    {
        "title": "Helper",
        "stage": "other",
        "prose": "A helper.",
        "cite": {"path": "src/util.py", "lines": [1, 2]},
    },
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project whose cards' `https://github.com/example/<name>` clone from `tmp_path/<name>`."""
    root = new_project(tmp_path)
    mirror_forge(root, tmp_path)
    return root


@pytest.fixture
def card_for(project: Path, upstream: Upstream) -> Callable[..., Path]:
    """Write a model card pinned to the upstream at a named commit; returns the card file."""

    def write(
        card_id: str = "tiny",
        at: str = "v1",
        steps: list[dict[str, Any]] | None = None,
        url: str | None = None,
        **repo: Any,
    ) -> Path:
        pin = {"name": "upstream", "url": url or UPSTREAM_URL, "commit": upstream.shas[at], **repo}
        pin = {k: v for k, v in pin.items() if v is not None}
        card = make_card(id=card_id, alias=card_id, repo=pin, walkthrough=STEPS if steps is None else steps)
        return write_card(project, card)

    return write

"""Fixtures of the smoke tests: the stand-in checkpoints are built once per session, in git
repositories under a template project; each test works on its own copy."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from generator.cli import main
from tests.factory import write_card
from tests.smoke.slurm_cluster import SlurmCluster, missing
from tests.smoke.standins import StandIn, build_all, git_commit_all

PROBES_SYS_PATH = '''"""Upstream's loader, which also writes down where its process imports from."""
import json
import os
import sys

from transformers import AutoModel, AutoTokenizer


def load(checkpoint):
    with open({out!r}, "w") as fh:
        json.dump({{"sys_path": sys.path, "cwd": os.getcwd()}}, fh)
    return (AutoModel.from_pretrained(checkpoint, local_files_only=True),
            AutoTokenizer.from_pretrained(checkpoint, local_files_only=True))
'''


def project_on_sys_path(root: Path, probe: Path) -> list[str]:
    """The entries of a job's `sys.path` (written by the `PROBES_SYS_PATH` loader) that would import
    from the project's tree or the job's working directory: the project root, the working directory,
    or '' (which Python reads as the working directory). There must be none."""
    seen = json.loads(probe.read_text(encoding="utf-8"))
    cwd = Path(seen["cwd"]).resolve()
    return [
        entry
        for entry in seen["sys_path"]
        if entry in ("", ".") or Path(entry).resolve() in (root.resolve(), cwd)
    ]


@dataclass
class SmokeProject:
    """A throwaway project holding every stand-in, its card and its upstream git repository."""

    root: Path
    standins: dict[str, StandIn]
    capsys: pytest.CaptureFixture[str]

    def card(self, card_id: str) -> dict[str, Any]:
        return self.standins[card_id].card

    def write(self, card: dict[str, Any]) -> None:
        write_card(self.root, card)

    def repo(self, card_id: str) -> Path:
        return self.root / "external_repos" / self.standins[card_id].repo

    def checkpoint(self, card_id: str) -> Path:
        spec = self.standins[card_id]
        return self.repo(card_id) / "checkpoints" / spec.checkpoint

    def entry_point(self, card_id: str, source: str, message: str, *, trust: bool = True) -> dict[str, Any]:
        """Commit a package `upstream` to the card's upstream repository whose `upstream/loading.py` is
        `source`, and point the card's smoke test at its `load` (`loader: entry-point`, pinned at that
        commit, `trust_remote_code` as given): the card, written."""
        repo = self.repo(card_id)
        (repo / "upstream").mkdir()
        (repo / "upstream" / "__init__.py").write_text("")
        (repo / "upstream" / "loading.py").write_text(source)
        card = self.card(card_id)
        card["repo"]["commit"] = git_commit_all(repo, message)
        card["smoke_test"].update(
            loader="entry-point", entry_point="upstream.loading:load", trust_remote_code=trust
        )
        self.write(card)
        return card

    def probe_sys_path(self, card_id: str, out: Path) -> dict[str, Any]:
        """Point the card at a pinned upstream loader that loads the checkpoint as usual and writes down
        its process's `sys.path` and working directory (`out`, JSON): the card, written."""
        return self.entry_point(card_id, PROBES_SYS_PATH.format(out=str(out)), "a loader that looks around")

    def kb(self, *args: str) -> tuple[int, str, str]:
        """Run `kb -C <root> ARGS...`: (exit status, stdout, stderr)."""
        self.capsys.readouterr()
        code = main(["-C", str(self.root), *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def report(self, card_id: str) -> dict[str, Any]:
        return json.loads((self.root / "artifacts" / "smoke" / f"{card_id}.json").read_text())


@pytest.fixture(scope="session")
def standin_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, StandIn]]:
    root = tmp_path_factory.mktemp("smoke-template") / "project"
    (root / "kb" / "model_cards").mkdir(parents=True)
    standins = build_all(root)
    for spec in standins.values():
        write_card(root, spec.card)
    return root, standins


@pytest.fixture
def smoke_project(
    standin_template: tuple[Path, dict[str, StandIn]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> SmokeProject:
    template, standins = standin_template
    root = tmp_path / "project"
    shutil.copytree(template, root, symlinks=True)
    import copy

    return SmokeProject(root, copy.deepcopy(standins), capsys)


def _cluster(accounting: bool) -> Iterator[SlurmCluster]:
    why = missing(accounting)
    if why:
        pytest.skip(why)
    cluster = SlurmCluster(accounting)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[SlurmCluster]:
    """A single-node SLURM without accounting (`sacct` cannot answer), shared by the session."""
    yield from _cluster(accounting=False)


@pytest.fixture(scope="session")
def slurm_accounting() -> Iterator[SlurmCluster]:
    """A single-node SLURM with accounting (slurmdbd on MariaDB), shared by the session."""
    yield from _cluster(accounting=True)


@pytest.fixture
def on_slurm(slurm_cluster: SlurmCluster, monkeypatch: pytest.MonkeyPatch) -> SlurmCluster:
    """The cluster without accounting, with `sbatch`, `squeue`... of this process pointed at it."""
    monkeypatch.setenv("SLURM_CONF", str(slurm_cluster.conf))
    return slurm_cluster

"""Paths stay in their folder: lock file entries, checkpoint folders, ids read from imported READMEs and
anything under an upstream clone are resolved (symbolic links included) and refused when they leave
their folder (SECURITY.md, "Paths")."""

from __future__ import annotations

import json
import os
from pathlib import Path

import git
import pytest
from ruamel.yaml import YAML

from tests.security.conftest import Victims, run, with_site
from tests.smoke.conftest import SmokeProject
from tests.smoke.test_checkpoints import COMMIT, HUB_ID, hub, on_hub  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


def _record(project: SmokeProject, files: dict[str, str]) -> Path:
    """A lock file (committed by a pull request, as `git add -f` allows) whose checkpoint record lists
    `files` with sha256 values that match nothing: `kb checkpoints pull` would take them as changed."""
    path = project.root / "kb" / "model_cards" / "tiny-hyena.lock.yaml"
    data = {"checkpoints": {"hyena-tiny": {"hub_id": HUB_ID, "revision": COMMIT, "files": files}}}
    with path.open("w", encoding="utf-8") as fh:
        YAML(typ="safe", pure=True).dump(data, fh)
    return path


def test_pull_deletes_no_file_a_lock_file_names_outside_the_checkpoint(
    on_hub: SmokeProject,  # noqa: F811
    victims: Victims,
) -> None:
    secret = victims.folder / "secret.txt"
    relative = os.path.relpath(secret, on_hub.checkpoint("tiny-hyena"))
    _record(
        on_hub, {str(secret): "0" * 64, relative: "0" * 64, "../../../../kb/model_cards/tiny-hyena.yaml": "0"}
    )
    done = run(on_hub.root, "checkpoints", "pull", "tiny-hyena", env={"HF_HUB_OFFLINE": "0"})
    assert done.returncode == 0, done.stderr
    assert victims.intact()
    assert (on_hub.root / "kb" / "model_cards" / "tiny-hyena.yaml").is_file()
    assert "changed since it was pulled" not in done.stderr  # nothing the hub does not send is touched


def test_status_never_opens_a_path_a_lock_file_names(on_hub: SmokeProject, victims: Victims) -> None:  # noqa: F811
    import hashlib

    assert run(on_hub.root, "checkpoints", "pull", "tiny-hyena", env={"HF_HUB_OFFLINE": "0"}).returncode == 0
    lock = YAML(typ="safe", pure=True).load((on_hub.root / "kb/model_cards/tiny-hyena.lock.yaml").read_text())
    files = lock["checkpoints"]["hyena-tiny"]["files"]
    # The lock file adds the secret with a guessed sha256: hashing it would answer "verified" when the
    # guess is right (an oracle for any file). A FIFO nobody writes to would block whoever opens it.
    secret = victims.folder / "secret.txt"
    fifo = victims.folder / "pipe"
    os.mkfifo(fifo)
    guess = hashlib.sha256(secret.read_bytes()).hexdigest()
    relative = os.path.relpath(fifo, on_hub.checkpoint("tiny-hyena"))
    _record(on_hub, {**files, str(secret): guess, relative: "0" * 64})
    done = run(on_hub.root, "checkpoints", "status", "tiny-hyena", timeout=120)
    assert done.returncode == 0, done.stderr
    assert "verified" not in done.stdout
    assert f"{secret} is missing" in done.stdout and f"{relative} is missing" in done.stdout


def _link_checkpoints(project: SmokeProject, card_id: str, target: Path) -> str:
    """The card's upstream repository tracks `checkpoints` as a symbolic link to `target` (git checks a
    tracked link out as a link): the card is pinned at that commit."""
    repo_dir = project.repo(card_id)
    repo = git.Repo(repo_dir)
    repo.git.rm("-r", "-q", "--cached", "checkpoints")
    os.rename(repo_dir / "checkpoints", repo_dir.parent / f"{card_id}-old-checkpoints")
    (repo_dir / "checkpoints").symlink_to(target, target_is_directory=True)
    repo.git.add("checkpoints")
    card = project.card(card_id)
    card["repo"]["commit"] = repo.index.commit("checkpoints is a link").hexsha
    project.write(card)
    return str(card["repo"]["commit"])


def test_pull_never_follows_a_tracked_link_out_of_the_clone(
    on_hub: SmokeProject,  # noqa: F811
    victims: Victims,
) -> None:
    # As the issue found it: the link sent the pull into the virtualenv's site-packages, where a hub
    # file then ran at the next Python start.
    import shutil

    site_packages = victims.folder / "site-packages"
    clone = on_hub.repo("tiny-hyena")
    shutil.rmtree(clone / "checkpoints", ignore_errors=True)
    (clone / ".gitignore").unlink()
    (clone / "checkpoints").symlink_to(site_packages, target_is_directory=True)
    repo = git.Repo(clone)
    repo.git.add("-A")
    card = on_hub.card("tiny-hyena")
    card["repo"]["commit"] = repo.index.commit("checkpoints is a link").hexsha
    on_hub.write(card)
    done = run(on_hub.root, "checkpoints", "pull", "tiny-hyena", env={"HF_HUB_OFFLINE": "0"})
    assert done.returncode == 1
    assert (
        "kb checkpoints: card 'tiny-hyena': checkpoints[].path 'hyena-tiny': "
        f"external_repos/tiny-hyena/checkpoints resolves to {site_packages}, outside "
        "external_repos/tiny-hyena/: nothing was downloaded"
    ) in done.stderr
    assert victims.untouched_folder("site-packages")


def test_smoke_lists_no_file_outside_the_clone(smoke_project: SmokeProject, victims: Victims) -> None:
    ckpt = smoke_project.checkpoint("tiny-dnabert")
    (ckpt / "notes.txt").symlink_to(victims.folder / "secret.txt")
    done = run(smoke_project.root, "smoke", "tiny-dnabert", "--device", "cpu")
    assert done.returncode == 1
    report = smoke_project.report("tiny-dnabert")
    [failed] = [c for c in report["checks"] if c["status"] == "failed"]
    assert failed["name"] == "checkpoint files"
    assert failed["message"].startswith(
        "the checkpoint links out of its clone: "
        "external_repos/tiny-dnabert/checkpoints/dnabert-tiny/notes.txt "
        f"resolves to {victims.folder / 'secret.txt'}, outside external_repos/tiny-dnabert/"
    )
    import hashlib

    assert hashlib.sha256(b"the maintainer's secret\n").hexdigest() not in json.dumps(report)


def test_render_does_not_walk_a_linked_checkpoints_folder(smoke_project: SmokeProject) -> None:
    # The clone's `checkpoints` links to / (the issue measured 65 s for /usr when it was walked); the card
    # has a report, so the build works out its status: the link is refused, nothing under / is read.
    _link_checkpoints(smoke_project, "tiny-dnabert", Path("/"))
    report = smoke_project.root / "artifacts" / "smoke" / "tiny-dnabert.json"
    report.parent.mkdir(parents=True)
    report.write_text(json.dumps({"status": "passed", "inputs_hash": "0" * 64}), encoding="utf-8")
    with_site(smoke_project.root)
    done = run(smoke_project.root, "render", timeout=120)
    assert done.returncode == 0, done.stderr
    page = (smoke_project.root / "site_src" / "models" / "tiny-dnabert.md").read_text(encoding="utf-8")
    assert "| Smoke test | stale" in page
    status = run(smoke_project.root, "checkpoints", "status", "tiny-dnabert", timeout=120)
    assert (
        "tiny-dnabert: dnabert-tiny: external_repos/tiny-dnabert/checkpoints/dnabert-tiny: absent, refused "
        "(external_repos/tiny-dnabert/checkpoints resolves to /, outside external_repos/tiny-dnabert/)"
    ) in status.stdout


README = """---
license: apache-2.0
---
# Escaping model

## Model details

- Knowledge-base id: {id}
- Modality: dna
"""


@pytest.mark.parametrize("escape", ["../../escaped", "ABSOLUTE"])
def test_import_writes_no_card_outside_kb(tmp_path: Path, victims: Victims, escape: str) -> None:
    from tests.factory import new_project

    root = new_project(tmp_path)
    target = victims.add("owned.yaml", b"victim: keep me\n")
    card_id = str(target.with_suffix("")) if escape == "ABSOLUTE" else escape
    readme = tmp_path / "upload" / "README.md"
    readme.parent.mkdir()
    readme.write_text(README.format(id=card_id), encoding="utf-8")
    done = run(root, "import", str(readme), "--force")
    assert done.returncode == 1
    assert (
        f"{readme}:8:1: error: Model details: 'Knowledge-base id' '{card_id}' is not a card id "
        "(lower-case letters, digits, '.', '_' and '-'): nothing was written (give a card id, or pass --id)"
    ) in done.stdout
    assert victims.intact()
    assert not list(tmp_path.rglob("escaped.yaml"))
    assert not list((root / "kb").rglob("*.yaml"))


def test_the_license_check_never_reads_a_license_linked_out_of_the_clone(
    tmp_path: Path, victims: Victims
) -> None:
    from tests.factory import make_card, new_project, upstream_clone, write_card

    root = new_project(tmp_path)
    fifo = victims.folder / "pipe"
    os.mkfifo(fifo)  # reading it would block: the command's finishing shows it was not read
    upstream_clone(root, "tiny-bert", {"README.md": "upstream\n"})
    clone = root / "external_repos" / "tiny-bert"
    (clone / "LICENSE").symlink_to(fifo)
    repo = git.Repo(clone)
    repo.index.add(["LICENSE"])
    sha = repo.index.commit("a license that is a link").hexsha
    write_card(
        root,
        make_card(repo={"name": "tiny-bert", "url": "https://github.com/example/tiny-bert", "commit": sha}),
    )
    done = run(root, "check", "licenses", timeout=120)
    assert (
        "upstream repository external_repos/tiny-bert (https://github.com/example/tiny-bert) has no "
        "license file" in (done.stdout + done.stderr)
    )

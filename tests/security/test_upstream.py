"""Upstream is remote and pinned: `repo.url` is a forge's https URL (a mirror only through the trusted
`repo_mirrors` setting), a pin is a commit (a tag is resolved and its commit recorded; moving names are
refused), and every git failure is a located error of its card while the other repositories still sync.
Held: a clone runs none of the upstream's submodules, hooks or filters (SECURITY.md, "Upstream")."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.factory import FORGE, make_card, mirror_forge, new_project, set_kb_options, write_card
from tests.repos.conftest import Upstream
from tests.security.conftest import run

pytestmark = pytest.mark.slow


def upstream_repo(path: Path, files: dict[str, str], tag: str | None = "v1.0") -> Upstream:
    from git import Repo

    repo = Repo.init(path, initial_branch="main")
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Upstream Dev").set_value("user", "email", "dev@example.org")
    up = Upstream(path)
    up.commit("v1", files, tag=tag)
    return up


def card(card_id: str, url: str, **repo: str | None) -> dict:
    pin = {"name": card_id, "url": url, **repo}
    return make_card(id=card_id, alias=card_id, repo={k: v for k, v in pin.items() if v is not None})


@pytest.fixture
def forge(tmp_path: Path) -> Path:
    """The folder the tests' forge is mirrored from (`https://github.com/example/<name>`)."""
    folder = tmp_path / "forge"
    folder.mkdir()
    return folder


@pytest.fixture
def project(tmp_path: Path, forge: Path) -> Path:
    root = new_project(tmp_path)
    mirror_forge(root, forge)
    good = upstream_repo(forge / "good", {"src/model.py": "x = 1\n"})
    write_card(root, card("good", f"{FORGE}good", commit=good.shas["v1"]))
    return root


def urls(marker: Path, private: Path) -> list[str]:
    return [
        str(private),  # a local path: a private repository's files would appear on a page
        f"file://{private}",
        f"ssh://git@github.com/{private.name}",
        f"ext::sh -c touch% {marker}",
        f"--upload-pack=touch {marker}",
        f"https://github.com/example/x/../../{private.name}",
        "http://github.com/example/plain-http",
    ]


def test_a_card_names_only_a_forge(project: Path, tmp_path: Path, marker: Path) -> None:
    private = tmp_path / "private"
    upstream_repo(private, {"secret.txt": "private\n"})
    bad = urls(marker, private)
    for i, url in enumerate(bad):
        write_card(project, card(f"bad-{i}", url, commit="0" * 40))
    done = run(project, "validate")
    assert done.returncode == 1
    for i, url in enumerate(bad):
        assert (
            f"kb/model_cards/bad-{i}.yaml:48:3: error: repo.url: '{url}' is not the https URL of a "
            "repository on a forge (https://github.com/owner/name)"
        ) in done.stdout, url
    synced = run(project, "repos", "sync")
    assert synced.returncode == 0, synced.stderr  # the invalid cards are skipped, named, the good one syncs
    assert "good: checked out" in synced.stdout and "1 of 1 repositories synced" in synced.stdout
    assert not marker.exists()
    assert not list((project / "external_repos").glob("bad-*"))


def test_git_refusing_an_unsafe_mirror_is_a_located_error_and_the_others_sync(
    project: Path, forge: Path, marker: Path
) -> None:
    # Even a trusted setting cannot make git run a command: GitPython refuses `ext::` (its
    # UnsafeProtocolError is not a GitCommandError) and the repository fails alone.
    set_kb_options(
        project, repo_mirrors={FORGE: f"{forge}/", "https://gitlab.com/lab/": f"ext::sh -c touch% {marker}%"}
    )
    write_card(project, card("other", "https://gitlab.com/lab/other", commit="1" * 40))
    done = run(project, "repos", "sync")
    assert done.returncode == 1
    assert not marker.exists()
    assert "good: checked out" in done.stdout
    assert done.stdout.splitlines()[-1] == "1 of 2 repositories synced; failed: other"
    [line] = [ln for ln in done.stderr.splitlines() if "other.yaml" in ln]
    assert line.startswith("kb/model_cards/other.yaml:48:3: error: repo.url: repository 'other' not synced: ")
    assert "ext::sh" in line and "Traceback" not in done.stderr


def test_a_pin_is_a_commit_tags_are_looked_up_as_tags(project: Path, forge: Path) -> None:
    up = upstream_repo(forge / "moving", {"a.py": "a = 1\n"})
    write_card(project, card("moving", f"{FORGE}moving", tag="HEAD"))
    assert "repo.tag: 'HEAD' is not a tag name" in run(project, "validate").stdout
    # A branch name is a valid tag name, but there is no such tag: it is not looked up as a branch.
    write_card(project, card("moving", f"{FORGE}moving", tag="main"))
    done = run(project, "repos", "sync", "moving")
    assert done.returncode == 1
    assert (
        "tag 'main' does not exist in https://github.com/example/moving (only tags are looked up"
        in done.stderr
    )
    # A tag-only pin is the commit the tag names when first synced, recorded in the lock file ...
    write_card(project, card("moving", f"{FORGE}moving", tag="v1.0"))
    assert run(project, "repos", "sync", "moving").returncode == 0
    lock = (project / "kb/model_cards/moving.lock.yaml").read_text()
    assert f"commit: {up.shas['v1']}" in lock
    # ... and a tag moved upstream afterwards is refused, naming both commits.
    up.repo.delete_tag(up.repo.tags["v1.0"])
    moved = up.commit("v2", {"a.py": "import os  # changed under the same tag\n"}, tag="v1.0")
    done = run(project, "repos", "sync", "moving")
    assert done.returncode == 1
    assert (
        f"tag 'v1.0' now points at {moved[:7]}, but it pointed at {up.shas['v1'][:7]} when the card was "
        "synced: the tag moved upstream"
    ) in done.stderr
    assert "changed under the same tag" not in (project / "external_repos/moving/a.py").read_text()


def git(root: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@example.org"
    import os

    done = subprocess.run(
        ["git", "-C", str(root), *args], env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_a_pull_request_cannot_point_the_mirror_elsewhere(project: Path, forge: Path, tmp_path: Path) -> None:
    # The default branch mirrors the forge from `forge/`; a pull request edits mkdocs.yml to clone the
    # card's repository from a private one instead. Its CI reads the setting from the base branch.
    good = upstream_repo(tmp_path / "elsewhere" / "good", {"src/model.py": "PRIVATE = 'secret'\n"})
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "main")
    git(project, "checkout", "-q", "-b", "pull-request")
    set_kb_options(project, repo_mirrors={FORGE: f"{tmp_path / 'elsewhere'}/"})
    git(project, "commit", "-q", "-am", "a pull request")
    assert good.path.exists()
    done = run(project, "repos", "sync", env={"KB_TRUSTED_REF": "main"})
    assert done.returncode == 0, done.stderr
    assert f"(from the mirror {forge}/good)" in done.stdout
    assert (project / "external_repos/good/src/model.py").read_text() == "x = 1\n"


def test_a_clone_runs_no_hook_filter_or_submodule_of_the_upstream(
    project: Path, forge: Path, tmp_path: Path, marker: Path
) -> None:
    """Held: nothing of the upstream's own configuration runs when it is cloned and checked out."""
    sub = upstream_repo(tmp_path / "sub", {"x.txt": "x\n"}, tag=None)
    up = upstream_repo(forge / "hooked", {"README.md": "hi\n"}, tag=None)
    add = ["git", "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub.path), "vendored"]
    up.repo.git.execute(add)
    sha = up.commit("v2", {".gitattributes": "* filter=evil\n", "data.txt": "data\n"})
    # Only now (GitPython runs a repository's commit hooks itself): hooks and a filter that only the
    # upstream's own configuration defines.
    for hook in ("post-checkout", "post-merge", "pre-commit"):
        (up.path / ".git" / "hooks" / hook).write_text(f"#!/bin/sh\ntouch {marker}\n")
        (up.path / ".git" / "hooks" / hook).chmod(0o755)
    with up.repo.config_writer() as cw:
        cw.set_value('filter "evil"', "smudge", f"sh -c 'touch {marker}; cat'")
    write_card(project, card("hooked", f"{FORGE}hooked", commit=sha))
    done = run(project, "repos", "sync", "hooked", env={"GIT_ALLOW_PROTOCOL": "file"})
    assert done.returncode == 0, done.stderr
    assert (project / "external_repos/hooked/data.txt").read_text() == "data\n"
    assert not marker.exists()
    assert not any((project / "external_repos/hooked/vendored").iterdir())  # the submodule is not cloned

"""Signed smoke reports on their own branch (`scripts/smoke-reports.sh push|fetch`), as the smoke
workflow and a maintainer publish them and the Pages build reads them: a local bare repository stands in
for the forge, a fresh clone for the Pages build's checkout, and its `kb render` page is what the site
would show."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.factory import REPO_ROOT, new_project, write_card
from tests.gitrepo import commit_all, git, git_env
from tests.security.conftest import KB, run, with_site
from tests.security.test_gate import report, smoke_card
from tests.signing import Key, allow, new_key
from tests.smoke.conftest import SmokeProject
from tests.smoke.hub import LocalHub
from tests.smoke.test_checkpoints import COMMIT, hub, on_hub  # noqa: F401  (fixtures: a local hub)

SCRIPT = REPO_ROOT / "scripts" / "smoke-reports.sh"
BRANCH = "smoke-reports"
IGNORED = "/artifacts/\n/external_repos/\n/site/\n/site_src/models/\n/site_src/index.md\n.kb-cache/\n"
"""What the project's .gitignore leaves out, as the repository's own does: reports travel on their branch."""


def reports(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`scripts/smoke-reports.sh ARGS` in the project `root`, with this environment's `kb`."""
    env = {**git_env(), "KB": str(KB), "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        ["bash", str(SCRIPT), *args], cwd=root, env=env, capture_output=True, text=True, check=False
    )


def published(origin: Path) -> dict[str, str]:
    """The reports branch of the bare repository `origin`: each top-level entry and its mode."""
    listing = git(origin, "ls-tree", BRANCH)
    return {line.split("\t")[1]: line.split()[0] for line in listing.splitlines()}


def on_forge(root: Path, tmp_path: Path) -> Path:
    """Commit the project (`main`) and push it to a bare repository, its `origin`: the bare one."""
    (root / ".gitignore").write_text(IGNORED)
    commit_all(root, "the knowledge base")
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    git(root, "remote", "add", "origin", str(origin))
    git(root, "push", "-q", "origin", "main")
    return origin


def fresh_clone(origin: Path, dest: Path) -> Path:
    """What the Pages build checks out: main, with no reports, clones or checkpoints."""
    git(origin.parent, "clone", "-q", str(origin), str(dest))
    return dest


@pytest.fixture
def maintainer(tmp_path: Path) -> Key:
    return new_key(tmp_path / "keys", "maintainer")


@pytest.fixture
def project(tmp_path: Path, maintainer: Key) -> Path:
    root = new_project(tmp_path)
    for card_id in ("tiny-a", "tiny-b"):
        write_card(root, smoke_card(card_id))
    allow(root, ("maintainer", maintainer))
    return root


def test_the_branch_keeps_every_cards_latest_signed_report(
    project: Path, maintainer: Key, tmp_path: Path
) -> None:
    origin = on_forge(project, tmp_path)
    first = report(project, "tiny-a", signed=maintainer).read_text()
    done = reports(project, "push", "tiny-a")
    assert done.returncode == 0, done.stderr
    assert f"pushed 1 report(s) to origin {BRANCH}" in done.stderr
    report(project, "tiny-b", "failed", signed=maintainer, summary="pooling: NaN in the output")
    assert reports(project, "push", "tiny-b").returncode == 0
    assert published(origin) == {"tiny-a.json": "100644", "tiny-b.json": "100644"}  # accumulated
    assert git(origin, "show", f"{BRANCH}:tiny-a.json") == first

    rerun = report(project, "tiny-a", signed=maintainer, finished_at="2026-12-02T09:00:00+00:00").read_text()
    assert rerun != first
    assert reports(project, "push", "tiny-a").returncode == 0
    assert git(origin, "show", f"{BRANCH}:tiny-a.json") == rerun  # replaced
    assert len(git(origin, "log", "--format=%H", BRANCH).split()) == 3
    again = reports(project, "push", "tiny-a")
    assert again.returncode == 0 and "has these reports already" in again.stderr
    # The project's own branch, index and working tree are as they were.
    assert (
        git(project, "status", "--porcelain") == "" and git(project, "branch", "--show-current") == "main\n"
    )


def test_only_signed_reports_are_pushed(project: Path, maintainer: Key, tmp_path: Path) -> None:
    origin = on_forge(project, tmp_path)
    report(project, "tiny-a", signed=maintainer)
    report(project, "tiny-b")  # unsigned: it would replace a signed one that the build accepts
    done = reports(project, "push", "tiny-a", "tiny-b")
    assert done.returncode == 1
    assert (
        "artifacts/smoke/tiny-b.json is not signed: run kb smoke tiny-b with KB_SIGNING_KEY set"
        in done.stderr
    )
    assert reports(project, "push", "tiny-c").stderr.strip() == (
        "smoke-reports: artifacts/smoke/tiny-c.json: no report (run kb smoke tiny-c first)"
    )
    assert reports(project, "push", "../tiny-a").returncode == 1
    assert git(origin, "branch", "--list", BRANCH) == ""  # nothing was pushed


def test_fetch_copies_the_reports_only_and_the_page_shows_who_signed(
    project: Path, maintainer: Key, tmp_path: Path
) -> None:
    origin = on_forge(project, tmp_path)
    clone = fresh_clone(origin, tmp_path / "before")
    done = reports(clone, "fetch")
    assert done.returncode == 0 and f"origin has no branch {BRANCH} yet: no reports fetched" in done.stderr

    report(project, "tiny-a", signed=maintainer)
    report(project, "tiny-b", signed=maintainer)
    assert reports(project, "push", "tiny-a", "tiny-b").returncode == 0
    # Whoever can push to the branch adds a link to a file outside the project, a subfolder, a note.
    victim = tmp_path / "victim.json"
    victim.write_text('{"secret": true}')
    other = fresh_clone(origin, tmp_path / "other")
    git(other, "checkout", "-q", BRANCH)
    (other / "tiny-c.json").symlink_to(victim)
    (other / "nested").mkdir()
    (other / "nested" / "tiny-b.json").write_text('{"status": "passed"}')
    (other / "notes.txt").write_text("not a report\n")
    commit_all(other, "not reports")
    git(other, "push", "-q", "origin", BRANCH)

    pages = fresh_clone(origin, tmp_path / "pages")
    done = reports(pages, "fetch")
    assert done.returncode == 0, done.stderr
    fetched = pages / "artifacts" / "smoke"
    assert sorted(p.name for p in fetched.iterdir()) == ["tiny-a.json", "tiny-b.json"]
    assert not any(p.is_symlink() for p in fetched.iterdir())
    for skipped in ("nested", "notes.txt", "tiny-c.json"):
        assert f"skipped {skipped} on {BRANCH}" in done.stderr
    assert "2 card(s) on origin smoke-reports (3 other entries skipped)" in done.stderr
    assert "kb smoke: 2 report(s) written into artifacts/smoke/" in done.stderr

    rendered = run(pages, "render")
    assert rendered.returncode == 0, rendered.stderr
    page = (pages / "site_src" / "models" / "tiny-a.md").read_text(encoding="utf-8")
    signed_at = json.loads((fetched / "tiny-a.json").read_text())["signature"]["signed_at"]
    assert '!!! success "Smoke test: passed"' in page
    assert f"Signed by maintainer on {signed_at.replace('T', ' ').removesuffix('+00:00')} UTC." in page


def push_by_hand(origin: Path, tmp_path: Path, files: dict[str, bytes], *, orphan: bool = False) -> None:
    """What anyone allowed to push to the branch can do: commit these files onto it (a plain commit, no
    force push; `orphan`: a branch of their own making, when there is none yet)."""
    other = fresh_clone(origin, tmp_path / "by-hand")
    if orphan:
        git(other, "checkout", "-q", "--orphan", BRANCH)
        git(other, "rm", "-rqf", ".")
    else:
        git(other, "checkout", "-q", BRANCH)
    for name, data in files.items():
        (other / name).write_bytes(data)
    commit_all(other, "by hand")
    git(other, "push", "-q", "origin", BRANCH)


def smoke_line(root: Path, card_id: str) -> str:
    """The smoke status the page of `card_id` shows, as the Pages build renders it."""
    rendered = run(root, "render")
    assert rendered.returncode == 0, rendered.stderr
    page = (root / "site_src" / "models" / f"{card_id}.md").read_text(encoding="utf-8")
    return next(line for line in page.splitlines() if "Smoke test:" in line)


def test_an_older_signed_pass_committed_back_never_replaces_a_newer_signed_fail(
    project: Path, maintainer: Key, tmp_path: Path
) -> None:
    origin = on_forge(project, tmp_path)
    old_pass = report(project, "tiny-a", signed=maintainer).read_bytes()
    assert reports(project, "push", "tiny-a").returncode == 0
    report(
        project,
        "tiny-a",
        "failed",
        signed=maintainer,
        summary="pooling: NaN in the output",
        finished_at="2026-12-05T10:00:00+00:00",
    )
    assert reports(project, "push", "tiny-a").returncode == 0  # the latest run, same inputs: failed
    push_by_hand(origin, tmp_path, {"tiny-a.json": old_pass})  # the old pass, restored by a new commit

    pages = fresh_clone(origin, tmp_path / "pages")
    done = reports(pages, "fetch")
    assert done.returncode == 0, done.stderr
    assert "(finished 2026-12-05T10:00:00+00:00)" in done.stderr
    fetched = json.loads((pages / "artifacts" / "smoke" / "tiny-a.json").read_text())
    assert (fetched["status"], fetched["finished_at"]) == ("failed", "2026-12-05T10:00:00+00:00")
    line = smoke_line(pages, "tiny-a")
    assert "failed" in line and "passed" not in line
    again = reports(pages, "fetch")  # what the folder has is the newest already: nothing is written
    assert "kb smoke: 0 report(s) written into artifacts/smoke/" in again.stderr, again.stderr


def test_fetch_never_replaces_a_newer_report_committed_on_main(
    project: Path, maintainer: Key, tmp_path: Path
) -> None:
    report(project, "tiny-a", signed=maintainer)  # an old pass, on the branch
    origin = on_forge(project, tmp_path)
    assert reports(project, "push", "tiny-a").returncode == 0
    newer = report(
        project, "tiny-a", "failed", signed=maintainer, finished_at="2026-12-06T08:00:00+00:00"
    ).read_bytes()
    git(project, "add", "-f", "artifacts/smoke/tiny-a.json")  # committed with the card, on main
    git(project, "commit", "-qm", "tiny-a: the maintainer's run")
    git(project, "push", "-q", "origin", "main")

    pages = fresh_clone(origin, tmp_path / "pages")
    assert reports(pages, "fetch").returncode == 0
    assert (pages / "artifacts" / "smoke" / "tiny-a.json").read_bytes() == newer
    assert "passed" not in smoke_line(pages, "tiny-a")


def test_fetch_skips_what_is_no_signed_report_of_its_card_and_the_strict_build_is_unmoved(
    project: Path, maintainer: Key, tmp_path: Path
) -> None:
    signed_a = report(project, "tiny-a", signed=maintainer).read_bytes()
    unsigned_b = report(project, "tiny-b").read_bytes()
    origin = on_forge(project, tmp_path)
    junk = {
        "tiny-a.json": signed_a,
        "tiny-b.json": unsigned_b,
        "tiny-c.json": b"[" * (2 * 1024 * 1024),  # bigger than any report may be
        "tiny-d.json": signed_a,  # tiny-a's signed report under another card's name
    }
    push_by_hand(origin, tmp_path, junk, orphan=True)
    push_by_hand(origin, tmp_path / "later", {"tiny-b.json": b"{not json"})

    pages = fresh_clone(origin, tmp_path / "pages")
    before = run(pages, "build", "--strict", "--no-pdf")  # the test project's own strict verdict
    done = reports(pages, "fetch")
    assert done.returncode == 0, done.stderr
    said = done.stderr
    assert "skipped tiny-c.json of smoke-reports@" in said and "more than a report may have (1048576)" in said
    assert "skipped tiny-b.json of smoke-reports@" in said and "invalid JSON" in said
    assert "not verified: the report is unsigned" in said
    assert "not verified: the report is for card 'tiny-a', not 'tiny-d'" in said
    assert sorted(p.name for p in (pages / "artifacts" / "smoke").iterdir()) == ["tiny-a.json"]
    built = run(pages, "build", "--strict", "--no-pdf")  # the junk adds no problem to the strict build
    assert (built.returncode, built.stderr) == (before.returncode, before.stderr)
    assert "artifacts/smoke" not in built.stderr


def test_the_fetch_size_limit_is_the_reports(project: Path) -> None:
    from generator.yamlio import MAX_BYTES

    assert f"max_bytes={MAX_BYTES} " in SCRIPT.read_text()


def test_fetch_never_writes_through_a_link(project: Path, maintainer: Key, tmp_path: Path) -> None:
    origin = on_forge(project, tmp_path)
    report(project, "tiny-a", signed=maintainer)
    assert reports(project, "push", "tiny-a").returncode == 0
    pages = fresh_clone(origin, tmp_path / "pages")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (pages / "artifacts").symlink_to(elsewhere)
    done = reports(pages, "fetch")
    assert done.returncode == 1
    assert "artifacts is a symbolic link: refusing to write the reports through it" in done.stderr
    assert list(elsewhere.iterdir()) == []


def test_a_report_made_on_a_pulled_checkpoint_is_current_where_there_is_no_checkpoint(
    on_hub: SmokeProject,  # noqa: F811  (the fixture imported above)
    hub: LocalHub,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The smoke workflow's steps, in order, on a project whose card pins its checkpoint on a (local)
    hub; then the Pages build's: a fresh clone with no clone and no checkpoint shows the signed pass."""
    root = with_site(on_hub.root)
    for card in (root / "kb" / "model_cards").glob("*.yaml"):
        if card.stem != "tiny-hyena":
            card.unlink()
    hyena = on_hub.card("tiny-hyena")
    hyena["smoke_test"]["resources"] = {"cpus": 2, "memory_gb": 4, "time_minutes": 10}
    on_hub.write(hyena)
    key = new_key(tmp_path / "ci", "smoke_ed25519")
    allow(root, ("smoke-ci", key))
    origin = on_forge(root, tmp_path)
    env = {"HF_ENDPOINT": hub.url, "HF_HUB_OFFLINE": "0", "KB_SIGNING_KEY": str(key.path)}

    listed = run(root, "smoke", "--list", "--fits", "cpus=4,memory_gb=16")
    assert listed.stdout == "tiny-hyena\n", listed.stderr
    assert run(root, "checkpoints", "pull", "--smoke", "tiny-hyena", env=env).returncode == 0
    assert run(root, "checkpoints", "pin", "tiny-hyena").returncode == 0  # reviewed by the maintainer
    commit_all(root, "tiny-hyena: its checkpoint's code pinned")
    git(root, "push", "-q", "origin", "main")
    done = run(root, "smoke", "tiny-hyena", "--executor", "local", "--device", "cpu", env=env)
    assert done.returncode == 0, done.stderr
    made = json.loads((root / "artifacts" / "smoke" / "tiny-hyena.json").read_text())
    assert made["checkpoint"]["revision"] == COMMIT and made["signature"]["signer"] == "smoke-ci"
    assert reports(root, "push", "tiny-hyena").returncode == 0

    pages = fresh_clone(origin, tmp_path / "pages")
    assert reports(pages, "fetch").returncode == 0
    assert not (pages / "external_repos").exists()
    assert run(pages, "render").returncode == 0
    page = (pages / "site_src" / "models" / "tiny-hyena.md").read_text(encoding="utf-8")
    assert '!!! success "Smoke test: passed"' in page and "Signed by smoke-ci on " in page
    # A new revision pinned on main: the signed pass no longer describes the card.
    card_file = pages / "kb" / "model_cards" / "tiny-hyena.yaml"
    card_file.write_text(card_file.read_text().replace(COMMIT, "d" * 40))
    assert run(pages, "render").returncode == 0
    page = (pages / "site_src" / "models" / "tiny-hyena.md").read_text(encoding="utf-8")
    assert "Smoke test: stale" in page

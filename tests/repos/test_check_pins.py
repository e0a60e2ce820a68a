"""`kb check pins`: each card's pinned commit is fetched from its forge (a shallow fetch of that one
commit); a pin the forge does not have fails the check, naming the card, and the others are still checked.

The cards keep their https forge URLs; git itself is told, for the `kb` process only, to read
https://github.com/ from local repositories the tests make (`url.<base>.insteadOf` through
GIT_CONFIG_COUNT/KEY/VALUE), as a mirror would be configured: no global git configuration is touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factory import make_card, write_card
from tests.repos.conftest import Upstream

FORGE = "https://github.com/"
MISSING = "24878b7e292b06f0ea9fc1b16764deba923ece9c"


@pytest.fixture
def forge(tmp_path: Path, upstream: Upstream) -> Path:
    """A folder laid out like the forge: `<owner>/<name>` bare repositories (one pushed from `upstream`)."""
    root = tmp_path / "forge"
    bare = root / "example" / "tiny"
    bare.parent.mkdir(parents=True)
    subprocess.run(["git", "clone", "--quiet", "--bare", str(upstream.path), str(bare)], check=True)
    return root


def kb_env(forge: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_CONFIG")}
    env |= {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{forge.as_uri()}/.insteadOf",
        "GIT_CONFIG_VALUE_0": FORGE,
        "NO_MKDOCS_2_WARNING": "1",
    }
    return env


def kb(project: Path, forge: Path, *args: str) -> subprocess.CompletedProcess[str]:
    kb_bin = Path(sys.executable).with_name("kb")
    cmd = [str(kb_bin)] if kb_bin.exists() else [sys.executable, "-m", "generator"]
    return subprocess.run(
        [*cmd, "-C", str(project), "check", "pins", *args],
        capture_output=True, text=True, env=kb_env(forge), timeout=120, check=False,
    )  # fmt: skip


def pinned(project: Path, card_id: str, commit: str, url: str = FORGE + "example/tiny", **repo: str) -> Path:
    card = make_card(id=card_id, alias=card_id, repo={"name": card_id, "url": url, "commit": commit, **repo})
    return write_card(project, card)


def test_pins_that_exist_upstream_pass(project: Path, forge: Path, upstream: Upstream) -> None:
    pinned(project, "old-pin", upstream.shas["v1"])  # not the tip: any commit in the history
    pinned(project, "new-pin", upstream.shas["v2"])
    done = kb(project, forge)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "kb check pins: 0 error(s)" in done.stderr


def test_a_pin_missing_upstream_fails_naming_the_card_and_the_others_are_still_checked(
    project: Path, forge: Path, upstream: Upstream
) -> None:
    card = pinned(project, "brainlm-like", MISSING)
    pinned(project, "gone-repo", upstream.shas["v1"], url=FORGE + "example/deleted")
    pinned(project, "fine", upstream.shas["v2"])
    done = kb(project, forge)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert len(lines) == 2, done.stdout
    line = next(n for n, text in enumerate(card.read_text().splitlines(), 1) if "commit:" in text)
    assert lines[0].startswith(f"kb/model_cards/brainlm-like.yaml:{line}:")
    assert f"error: repo.commit: brainlm-like: the pinned commit {MISSING} cannot be fetched" in lines[0]
    assert "https://github.com/example/tiny" in lines[0] and "not our ref" in lines[0]
    assert lines[1].startswith("kb/model_cards/gone-repo.yaml:")
    assert "gone-repo: the pinned commit" in lines[1]
    assert "fine" not in done.stdout
    assert "kb check pins: 2 error(s)" in done.stderr


def test_named_cards_only(project: Path, forge: Path, upstream: Upstream) -> None:
    pinned(project, "broken", MISSING)
    pinned(project, "fine", upstream.shas["v1"])
    assert kb(project, forge, "fine").returncode == 0
    done = kb(project, forge, "broken", "fine")
    assert done.returncode == 1 and "broken: the pinned commit" in done.stdout
    unknown = kb(project, forge, "fien")
    assert unknown.returncode == 2 and "did you mean 'fine'" in unknown.stderr


def test_a_tag_pin_is_fetched_as_the_tag(project: Path, forge: Path, upstream: Upstream) -> None:
    card = make_card(
        id="tagged", alias="tagged", repo={"name": "t", "url": FORGE + "example/tiny", "tag": "v1.0"}
    )
    write_card(project, card)
    card = make_card(
        id="no-tag", alias="no-tag", repo={"name": "t", "url": FORGE + "example/tiny", "tag": "v9"}
    )
    write_card(project, card)
    done = kb(project, forge)
    assert done.returncode == 1
    assert "no-tag: the pinned tag v9 cannot be fetched" in done.stdout
    assert "tagged:" not in done.stdout


def test_ids_belong_to_pins_only(project: Path, forge: Path, upstream: Upstream) -> None:
    pinned(project, "fine", upstream.shas["v1"])
    kb_bin = Path(sys.executable).with_name("kb")
    done = subprocess.run(
        [str(kb_bin), "-C", str(project), "check", "licenses", "fine"],
        capture_output=True, text=True, env=kb_env(forge), timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "takes no card ids" in done.stderr


def test_the_workflows_prove_pins_on_pull_requests_and_daily() -> None:
    import yaml

    from tests.factory import REPO_ROOT

    workflows = REPO_ROOT / ".github" / "workflows"
    ci = yaml.safe_load((workflows / "ci.yml").read_text(encoding="utf-8"))
    assert "pull_request" in ci[True]  # `on:` reads as True in YAML 1.1
    steps = ci["jobs"]["check"]["steps"]
    changed = next(s for s in steps if s.get("id") == "changed")
    assert "pinned=" in changed["run"]
    pin_step = next(s for s in steps if "kb check pins" in s.get("run", ""))
    assert pin_step["run"].startswith("kb check pins $PINNED")  # the ids come through the environment
    assert pin_step["env"]["PINNED"] == "${{ steps.changed.outputs.pinned }}"
    scheduled = yaml.safe_load((workflows / "scheduled.yml").read_text(encoding="utf-8"))
    assert "schedule" in scheduled[True]
    runs = [s.get("run", "") for job in scheduled["jobs"].values() for s in job["steps"]]
    assert "kb check pins --format github" in runs  # every card, no ids

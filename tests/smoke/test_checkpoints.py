"""`kb checkpoints pull|pin|status` against a local hub (a real HTTP server on 127.0.0.1, the real
huggingface_hub client through HF_ENDPOINT), then `kb smoke` on what was pulled."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.smoke.conftest import SmokeProject
from tests.smoke.hub import LocalHub, serve
from tests.smoke.test_failures import _fails

HUB_ID = "example/hyena-tiny"
MODELING = "modeling_hyena_standin.py"
COMMIT = "c0ffee" + "1" * 34


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalHub]:
    from huggingface_hub import constants

    # The suite runs offline (tests/conftest.py); this hub is a server of the test itself.
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    running = serve(LocalHub())
    local = next(running)
    monkeypatch.setenv("HF_ENDPOINT", local.url)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    yield local
    running.close()


@pytest.fixture
def on_hub(smoke_project: SmokeProject, hub: LocalHub) -> SmokeProject:
    """tiny-hyena's checkpoint lives on the hub, not in its upstream repository (as real ones do)."""
    import git

    ckpt = smoke_project.checkpoint("tiny-hyena")
    hub.add(HUB_ID, COMMIT, ckpt)
    repo_dir = smoke_project.repo("tiny-hyena")
    repo = git.Repo(repo_dir)
    repo.index.remove(["checkpoints"], r=True, cached=True)
    shutil.rmtree(ckpt)
    (repo_dir / ".gitignore").write_text("checkpoints/\n")
    repo.index.add([".gitignore"])
    card = smoke_project.card("tiny-hyena")
    card["repo"]["commit"] = repo.index.commit("checkpoints come from the hub").hexsha
    card["checkpoints"] = [{"name": "hyena-tiny", "path": "hyena-tiny", "hub_id": HUB_ID, "revision": COMMIT}]
    smoke_project.write(card)
    return smoke_project


def _lock(project: SmokeProject) -> dict:
    path = project.root / "kb" / "model_cards" / "tiny-hyena.lock.yaml"
    return YAML(typ="safe", pure=True).load(path.read_text())


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_pull_pin_then_smoke_passes(on_hub: SmokeProject, hub: LocalHub) -> None:
    card_file = on_hub.root / "kb" / "model_cards" / "tiny-hyena.yaml"
    before = "# Reviewed by the tests: kb checkpoints pin keeps this comment.\n" + card_file.read_text()
    card_file.write_text(before)
    hub.repos[HUB_ID].files["utils_standin.py"] = b"# a second code file, as hub checkpoints carry 3 or 4\n"

    code, out, err = on_hub.kb("checkpoints", "pull", "tiny-hyena")
    assert code == 0, err
    files = hub.repos[HUB_ID].files
    assert f"tiny-hyena: {HUB_ID} at {COMMIT[:12]}: {len(files)} file(s) verified" in out
    assert "  code brought: modeling_hyena_standin.py, utils_standin.py" in out
    assert "review the checkpoint code of tiny-hyena, then pin it: kb checkpoints pin tiny-hyena" in out
    record = _lock(on_hub)["checkpoints"]["hyena-tiny"]
    assert (record["hub_id"], record["revision"]) == (HUB_ID, COMMIT)
    assert record["files"] == {name: _digest(data) for name, data in files.items()}
    ckpt = on_hub.checkpoint("tiny-hyena")
    assert all((ckpt / name).read_bytes() == data for name, data in files.items())

    code, out, _ = on_hub.kb("checkpoints", "status", "tiny-hyena")
    assert code == 0
    assert out.startswith("tiny-hyena: hyena-tiny: external_repos/tiny-hyena/checkpoints/hyena-tiny: ")
    assert f", verified, revision {COMMIT[:12]}" in out

    # The pulled code is not pinned yet: one run names every file, with the YAML to paste.
    code_digest, utils_digest = _digest(files[MODELING]), _digest(files["utils_standin.py"])
    line = _fails(on_hub, "tiny-hyena", "remote code")
    folder = "external_repos/tiny-hyena/checkpoints/hyena-tiny"
    assert line.endswith(
        f"(review the code, then `kb checkpoints pin tiny-hyena` pins every file): {folder}/{MODELING}, "
        f"{folder}/utils_standin.py are not tracked by the upstream repository and not pinned by the card; "
        f"after reviewing them, add to smoke_test.code_sha256: {{{MODELING}: {code_digest}, "
        f"utils_standin.py: {utils_digest}}}"
    )

    code, out, err = on_hub.kb("checkpoints", "pin", "tiny-hyena")
    assert code == 0, err
    assert f"  modeling_hyena_standin.py: {code_digest}" in out
    after = card_file.read_text()
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == [
        "  code_sha256:",
        f"    {MODELING}: {code_digest}",
        f"    utils_standin.py: {utils_digest}",
    ]
    assert after.startswith("# Reviewed by the tests")  # comments and key order kept

    code, out, err = on_hub.kb("smoke", "tiny-hyena", "--device", "cpu")
    assert code == 0, err
    checks = {c["name"]: c for c in on_hub.report("tiny-hyena")["checks"]}
    assert checks["checkpoint files"]["status"] == "passed"
    assert COMMIT[:12] in checks["checkpoint files"]["message"]


def test_a_flipped_byte_in_a_weight_file_is_refused_by_name(on_hub: SmokeProject) -> None:
    assert on_hub.kb("checkpoints", "pull", "tiny-hyena")[0] == 0
    assert on_hub.kb("checkpoints", "pin", "tiny-hyena")[0] == 0
    weights = on_hub.checkpoint("tiny-hyena") / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))

    line = _fails(on_hub, "tiny-hyena", "checkpoint files")
    assert line.startswith(
        "kb smoke: tiny-hyena: checkpoint files: the checkpoint no longer matches what kb checkpoints "
        f"pull recorded ({HUB_ID} at {COMMIT[:12]}): "
        "external_repos/tiny-hyena/checkpoints/hyena-tiny/model.safetensors has sha256 "
    )
    assert line.endswith("pull it again with kb checkpoints pull tiny-hyena (delete the changed files first)")
    _, out, _ = on_hub.kb("checkpoints", "status", "tiny-hyena")
    assert ", changed (model.safetensors has sha256 " in out

    code, _, err = on_hub.kb("checkpoints", "pull", "tiny-hyena")  # repairs it
    assert code == 0, err
    assert "model.safetensors: changed since it was pulled; downloading it again" in err
    assert on_hub.kb("smoke", "tiny-hyena", "--device", "cpu")[0] == 0


def test_an_interrupted_download_resumes(on_hub: SmokeProject, hub: LocalHub) -> None:
    data = hub.repos[HUB_ID].files["model.safetensors"]
    half = len(data) // 2
    hub.cut["model.safetensors"] = half
    code, _, err = on_hub.kb("checkpoints", "pull", "tiny-hyena")
    assert code == 1
    assert (
        f"kb checkpoints: card 'tiny-hyena': cannot pull {HUB_ID} at {COMMIT[:12]} from {hub.url}: the "
        "download was interrupted; run kb checkpoints pull tiny-hyena again: it resumes where it stopped"
    ) in err
    assert "Traceback" not in err

    hub.requests.clear()
    code, _, err = on_hub.kb("checkpoints", "pull", "tiny-hyena")
    assert code == 0, err
    ranges = [r for verb, path, r in hub.requests if verb == "GET" and path.endswith("/model.safetensors")]
    assert ranges == [f"bytes={half}-"]  # only the missing half was fetched
    assert (on_hub.checkpoint("tiny-hyena") / "model.safetensors").read_bytes() == data
    assert _lock(on_hub)["checkpoints"]["hyena-tiny"]["files"]["model.safetensors"] == _digest(data)


def test_an_unknown_revision(on_hub: SmokeProject, hub: LocalHub) -> None:
    card = on_hub.card("tiny-hyena")
    other = "0" * 40
    card["checkpoints"][0]["revision"] = other
    on_hub.write(card)
    code, _, err = on_hub.kb("checkpoints", "pull", "tiny-hyena")
    assert code == 1
    assert (
        f"kb checkpoints: card 'tiny-hyena': cannot pull {HUB_ID} at {other[:12]} from {hub.url}: the hub "
        f"has no revision {other}; check checkpoints[].revision against {hub.url}/{HUB_ID}/commits/main"
    ) in err
    assert "Traceback" not in err and not on_hub.checkpoint("tiny-hyena").exists()


@pytest.mark.parametrize(
    ("action", "says"),
    [
        ("pull", f"cannot pull {HUB_ID} at {COMMIT[:12]} from "),
        ("resolve", f"cannot resolve {HUB_ID} at 'main' on "),
    ],
)
def test_a_gated_model_needs_hf_token(
    on_hub: SmokeProject, hub: LocalHub, monkeypatch: pytest.MonkeyPatch, action: str, says: str
) -> None:
    hub.gated[HUB_ID] = "hf_secret"
    code, _, err = on_hub.kb("checkpoints", action, "tiny-hyena")
    assert code == 1
    assert f"kb checkpoints: card 'tiny-hyena': {says}{hub.url}: the model is gated; accept its terms" in err
    assert "set HF_TOKEN" in err
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    code, _, err = on_hub.kb("checkpoints", action, "tiny-hyena")
    assert code == 0, err


def test_offline(on_hub: SmokeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on: the hub cannot be reached
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("HF_ENDPOINT", closed)
    code, _, err = on_hub.kb("checkpoints", "pull", "tiny-hyena")
    assert code == 1
    assert (
        f"kb checkpoints: card 'tiny-hyena': cannot pull {HUB_ID} at {COMMIT[:12]} from {closed}: the hub "
        "cannot be reached (offline?); connect and run kb checkpoints pull tiny-hyena again"
    ) in err
    assert "Traceback" not in err


def test_offline_mode(on_hub: SmokeProject, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    code, _, err = on_hub.kb("checkpoints", "pull", "tiny-hyena")
    assert code == 1
    assert "offline mode is on (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE is set); unset it" in err


def test_a_branch_as_revision_is_refused(on_hub: SmokeProject) -> None:
    card = on_hub.card("tiny-hyena")
    card["checkpoints"][0]["revision"] = "main"
    on_hub.write(card)
    code, out, err = on_hub.kb("validate", "kb/model_cards/tiny-hyena.yaml")
    assert code == 1
    message = "error: checkpoints[0].revision: 'main' is not a full commit hash of the hub repository"
    assert message in out + err


def test_a_checkpoint_pulled_at_another_revision_is_refused(on_hub: SmokeProject) -> None:
    assert on_hub.kb("checkpoints", "pull", "tiny-hyena")[0] == 0
    assert on_hub.kb("checkpoints", "pin", "tiny-hyena")[0] == 0
    card = on_hub.card("tiny-hyena")
    card["smoke_test"]["code_sha256"] = {
        "modeling_hyena_standin.py": _digest((on_hub.checkpoint("tiny-hyena") / MODELING).read_bytes())
    }
    card["checkpoints"][0]["revision"] = "f" * 40
    on_hub.write(card)
    line = _fails(on_hub, "tiny-hyena", "checkpoint files")
    assert line == (
        "kb smoke: tiny-hyena: checkpoint files: external_repos/tiny-hyena/checkpoints/hyena-tiny was pulled "
        f"at {HUB_ID} {COMMIT[:12]}, but the card pins checkpoints[].revision ffffffffffff; run kb "
        "checkpoints pull tiny-hyena"
    )
    _, out, _ = on_hub.kb("checkpoints", "status", "tiny-hyena")
    assert f", stale (pulled at {COMMIT[:12]}, the card pins another revision), revision ffffffffffff" in out


def test_pull_before_the_repository_is_cloned(on_hub: SmokeProject) -> None:
    shutil.rmtree(on_hub.repo("tiny-hyena"))
    code, _, err = on_hub.kb("checkpoints", "pull", "tiny-hyena")
    assert code == 1
    assert (
        "kb checkpoints: card 'tiny-hyena': external_repos/tiny-hyena is not cloned yet and the checkpoint "
        "goes inside it: run kb repos sync tiny-hyena first"
    ) in err


# --- kb checkpoints resolve, and editing cards written by other YAML dumpers -------------------------

MAIN = "beef" + "2" * 36
"""Where `main` points on the hub: a later commit than the tag v1.0 (COMMIT)."""


def _pyyaml_block(card: dict) -> str:
    """PyYAML's defaults: block style, keys sorted, sequences not indented under their key."""
    import yaml

    return "# Written by PyYAML (sorted keys), edited by hand.\n" + yaml.safe_dump(card, sort_keys=True)


def _pyyaml_mixed(card: dict) -> str:
    """PyYAML with flow style for the innermost collections and an indentation of 4."""
    import yaml

    return yaml.safe_dump(card, default_flow_style=None, indent=4, sort_keys=False, width=100)


def _pyyaml_flow(card: dict) -> str:
    """PyYAML with every collection in flow style, wrapped at 100 columns."""
    import yaml

    return yaml.safe_dump(card, default_flow_style=True, sort_keys=False, width=100)


def _ruamel_odd(card: dict) -> str:
    """ruamel.yaml with an indentation of 3 and sequences offset, commented: no layout `kb` writes."""
    import io

    out = io.StringIO()
    yaml = YAML()
    yaml.indent(mapping=3, sequence=5, offset=3)
    yaml.dump(card, out)
    return out.getvalue().replace("\nsmoke_test:\n", "\nsmoke_test:   # loads the hub checkpoint\n")


DUMPERS = [_pyyaml_block, _pyyaml_mixed, _pyyaml_flow, _ruamel_odd]


def _only_insertions(before: str, after: str) -> list[str]:
    """What `after` adds to `before`, asserting that it removes or changes nothing."""
    import difflib

    ops = difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes()
    assert all(op in ("equal", "insert") for op, *_ in ops), [o for o in ops if o[0] != "equal"]
    return [after[j1:j2] for op, _, _, j1, j2 in ops if op == "insert"]


@pytest.mark.parametrize("dump", DUMPERS, ids=lambda f: f.__name__.lstrip("_"))
def test_resolve_then_pull_and_pin_a_card_written_by_another_dumper(
    on_hub: SmokeProject, hub: LocalHub, dump: Any
) -> None:
    """`kb checkpoints resolve` writes the commit a tag names, then `pull` and `pin` work, on a card that
    another YAML dumper wrote: every other byte of the card stays as it was."""
    import yaml

    hub.repos[HUB_ID].refs = {"main": MAIN, "v1.0": COMMIT}
    card = on_hub.card("tiny-hyena")
    del card["checkpoints"][0]["revision"]
    card_file = on_hub.root / "kb" / "model_cards" / "tiny-hyena.yaml"
    before = dump(card)
    card_file.write_text(before)
    assert on_hub.kb("validate", "kb/model_cards/tiny-hyena.yaml")[0] == 0

    code, out, err = on_hub.kb("checkpoints", "resolve", "tiny-hyena", "--ref", "v1.0")
    assert code == 0, err
    assert out.splitlines() == [
        f"tiny-hyena: {HUB_ID} at 'v1.0' is {COMMIT}: written to kb/model_cards/tiny-hyena.yaml "
        "(checkpoints[0].revision)",
        "next: kb checkpoints pull tiny-hyena, review its code, then kb checkpoints pin tiny-hyena",
    ]
    resolved = card_file.read_text()
    [added] = _only_insertions(before, resolved)
    assert added.strip(" \n,") == f"revision: {COMMIT}"
    assert yaml.safe_load(resolved)["checkpoints"][0]["revision"] == COMMIT

    assert on_hub.kb("checkpoints", "pull", "tiny-hyena")[0] == 0
    code, _, err = on_hub.kb("checkpoints", "pin", "tiny-hyena")
    assert code == 0, err
    pinned = card_file.read_text()
    [added] = _only_insertions(resolved, pinned)
    digest = _digest(hub.repos[HUB_ID].files[MODELING])
    assert "code_sha256:" in added and f"{MODELING}: {digest}" in added
    assert yaml.safe_load(pinned)["smoke_test"]["code_sha256"] == {MODELING: digest}
    code, _, err = on_hub.kb("smoke", "tiny-hyena", "--device", "cpu")
    assert code == 0, err

    # main has moved on: resolving it again moves the pin, saying from where.
    code, out, err = on_hub.kb("checkpoints", "resolve", "tiny-hyena")
    assert code == 0, err
    assert out.startswith(f"tiny-hyena: {HUB_ID} at 'main' is {MAIN}: written to ")
    assert f", was {COMMIT}" in out
    assert card_file.read_text() == pinned.replace(COMMIT, MAIN)
    code, out, _ = on_hub.kb("checkpoints", "resolve", "tiny-hyena")
    assert f"is {MAIN}, as kb/model_cards/tiny-hyena.yaml (checkpoints[0].revision) pins already" in out


def test_resolve_an_unknown_ref(on_hub: SmokeProject, hub: LocalHub) -> None:
    before = (on_hub.root / "kb" / "model_cards" / "tiny-hyena.yaml").read_text()
    code, _, err = on_hub.kb("checkpoints", "resolve", "tiny-hyena", "--ref", "v9")
    assert code == 1
    assert (
        f"kb checkpoints: card 'tiny-hyena': cannot resolve {HUB_ID} at 'v9' on {hub.url}: the hub has no "
        "branch, tag or commit 'v9' (see --ref)"
    ) in err
    assert "Traceback" not in err
    assert (on_hub.root / "kb" / "model_cards" / "tiny-hyena.yaml").read_text() == before


def test_resolve_a_card_without_a_hub_checkpoint(smoke_project: SmokeProject) -> None:
    code, _, err = smoke_project.kb("checkpoints", "resolve", "tiny-nt")
    assert code == 1
    assert "kb checkpoints: card 'tiny-nt': no checkpoints[] entry names a hub_id" in err

"""What held before and must keep holding: pickled weights are never unpickled (`weights_only`), `..`
never names a card, and the `HF_TOKEN` appears in no output and no file (SECURITY.md, "Held")."""

from __future__ import annotations

import os
import pickle
import secrets
from pathlib import Path

import pytest

from tests.factory import new_project
from tests.security.conftest import Victims, run
from tests.smoke.conftest import SmokeProject
from tests.smoke.hub import LocalHub
from tests.smoke.test_checkpoints import HUB_ID, hub, on_hub  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.command = f"touch {marker}"

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (self.command,))


def test_pickled_weights_are_never_unpickled(smoke_project: SmokeProject, marker: Path) -> None:
    ckpt = smoke_project.checkpoint("tiny-dnabert")
    (ckpt / "model.safetensors").unlink()
    with (ckpt / "pytorch_model.bin").open("wb") as fh:
        pickle.dump({"embeddings.word_embeddings.weight": _Payload(marker)}, fh)
    done = run(smoke_project.root, "smoke", "tiny-dnabert", "--device", "cpu")
    assert done.returncode == 1
    assert not marker.exists()
    assert smoke_project.report("tiny-dnabert")["status"] == "failed"


@pytest.mark.parametrize("argv", [("new", "../../escaped"), ("new", "--kind", "dataset", "../escaped")])
def test_dot_dot_never_names_a_card(tmp_path: Path, victims: Victims, argv: tuple[str, ...]) -> None:
    root = new_project(tmp_path)
    done = run(root, *argv)
    assert done.returncode == 2
    assert not list(tmp_path.rglob("escaped*")) and victims.intact()


def test_the_hub_token_is_in_no_output_and_no_file(
    on_hub: SmokeProject,  # noqa: F811
    hub: LocalHub,  # noqa: F811
) -> None:
    token = f"hf_{secrets.token_hex(16)}"
    hub.gated[HUB_ID] = token
    env = {"HF_TOKEN": token, "HF_HUB_OFFLINE": "0"}
    outputs = []
    for argv in (
        ("checkpoints", "pull", "tiny-hyena"),
        ("checkpoints", "pin", "tiny-hyena"),
        ("checkpoints", "status", "tiny-hyena"),
        ("smoke", "tiny-hyena", "--device", "cpu"),
    ):
        done = run(on_hub.root, *argv, env=env)
        assert done.returncode == 0, (argv, done.stderr)
        outputs.append(done.stdout + done.stderr)
    assert all(token not in text for text in outputs)
    leaked = [p for p in on_hub.root.rglob("*") if p.is_file() and token.encode() in p.read_bytes()]
    assert not leaked

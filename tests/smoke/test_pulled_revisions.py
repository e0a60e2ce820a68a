"""A checkpoint pulled at one hub revision, then at another: the folder holds the new revision only, and
a run counts by a revision only when the folder is exactly what was pulled at it. Otherwise a file left
from the earlier revision (a single `model.safetensors` beside the new revision's shards, which
transformers loads first) would be tested while the signed report said "verified at the new revision"
and the Pages build, which has no checkpoint, showed the card passed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.security.conftest import run, with_site
from tests.signing import allow, new_key
from tests.smoke.conftest import SmokeProject
from tests.smoke.hub import HubRepo, LocalHub
from tests.smoke.test_checkpoints import HUB_ID, hub, on_hub  # noqa: F401  (fixtures: a local hub)

R2 = "d00d" + "2" * 36


def _sharded_with_nan(single: Path, tmp_path: Path) -> dict[str, bytes]:
    """The weights of `single` as two shards and their index, every float replaced by NaN (a broken
    upload at a later revision)."""
    import torch
    from safetensors.torch import load_file, save_file

    state = load_file(str(single))
    keys = sorted(state)
    shards: dict[str, bytes] = {}
    weight_map: dict[str, str] = {}
    for i, part in enumerate((keys[: len(keys) // 2], keys[len(keys) // 2 :])):
        name = f"model-0000{i + 1}-of-00002.safetensors"
        tensors = {
            k: torch.full_like(state[k], float("nan")) if state[k].is_floating_point() else state[k]
            for k in part
        }
        save_file(tensors, str(tmp_path / name), metadata={"format": "pt"})
        shards[name] = (tmp_path / name).read_bytes()
        weight_map.update(dict.fromkeys(part, name))
    index = {"metadata": {"total_size": sum(len(b) for b in shards.values())}, "weight_map": weight_map}
    return shards | {"model.safetensors.index.json": json.dumps(index).encode()}


@pytest.fixture
def pulled_twice(
    on_hub: SmokeProject,  # noqa: F811
    hub: LocalHub,  # noqa: F811
    tmp_path: Path,
) -> tuple[SmokeProject, dict[str, str], str]:
    """tiny-hyena pulled and pinned at COMMIT (one model.safetensors), then the card moved to R2 (the
    same model re-uploaded as shards) and pulled again: (project, environment, the second pull's stderr
    and stdout)."""
    root = with_site(on_hub.root)
    key = new_key(tmp_path / "ci", "smoke_ed25519")
    allow(root, ("smoke-ci", key))
    env = {"HF_ENDPOINT": hub.url, "HF_HUB_OFFLINE": "0", "KB_SIGNING_KEY": str(key.path)}
    first = run(root, "checkpoints", "pull", "--smoke", "tiny-hyena", env=env)
    assert first.returncode == 0, first.stderr
    assert run(root, "checkpoints", "pin", "tiny-hyena").returncode == 0
    r1 = hub.repos[HUB_ID].files
    r2 = {n: b for n, b in r1.items() if n != "model.safetensors"}
    hub.repos[HUB_ID] = HubRepo(
        R2, r2 | _sharded_with_nan(on_hub.checkpoint("tiny-hyena") / "model.safetensors", tmp_path)
    )
    card = on_hub.card("tiny-hyena")
    card["checkpoints"][0]["revision"] = R2
    on_hub.write(card)
    second = run(root, "checkpoints", "pull", "--smoke", "tiny-hyena", env=env)
    assert second.returncode == 0, second.stderr
    assert run(root, "checkpoints", "pin", "tiny-hyena").returncode == 0
    return on_hub, env, second.stdout + second.stderr


def _page_line(root: Path) -> str:
    """The smoke status line of tiny-hyena's page as the Pages build renders it: no clone, no checkpoint."""
    shutil.rmtree(root / "external_repos")
    rendered = run(root, "render")
    assert rendered.returncode == 0, rendered.stderr
    page = (root / "site_src" / "models" / "tiny-hyena.md").read_text()
    return next(line for line in page.splitlines() if "Smoke test" in line)


def test_a_pull_at_a_new_revision_removes_the_files_the_earlier_one_left(
    pulled_twice: tuple[SmokeProject, dict[str, str], str],
) -> None:
    project, _, said = pulled_twice
    ckpt = project.checkpoint("tiny-hyena")
    assert "model.safetensors: not part of this revision; removed (pulled at c0ffee111111)" in said
    assert not (ckpt / "model.safetensors").exists()
    assert {"model-00001-of-00002.safetensors", "model.safetensors.index.json"} <= {
        p.name for p in ckpt.iterdir()
    }
    status = run(project.root, "checkpoints", "status", "tiny-hyena")
    assert "verified" in status.stdout and "changed" not in status.stdout


def test_a_file_left_from_an_earlier_revision_is_never_signed_as_verified_at_the_new_one(
    pulled_twice: tuple[SmokeProject, dict[str, str], str], tmp_path: Path
) -> None:
    project, env, _ = pulled_twice
    root, ckpt = project.root, project.checkpoint("tiny-hyena")
    # Put back the earlier revision's single file, as an older pull (or a hand) would have left it.
    import torch
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(1)}, str(ckpt / "model.safetensors"), metadata={"format": "pt"})
    status = run(root, "checkpoints", "status", "tiny-hyena")
    assert "changed" in status.stdout and "model.safetensors was not pulled" in status.stdout

    done = run(root, "smoke", "tiny-hyena", "--executor", "local", "--device", "cpu", env=env)
    assert done.returncode == 1
    said = " ".join(done.stderr.split())  # the message as one line, however the terminal wrapped it
    assert f"holds files that kb checkpoints pull did not record ({HUB_ID} at {R2[:12]})" in said, said
    assert "checkpoints/hyena-tiny/model.safetensors; delete them" in said, said
    made = json.loads((root / "artifacts" / "smoke" / "tiny-hyena.json").read_text())
    assert made["status"] == "failed" and "revision" not in made["checkpoint"]
    assert made["signature"]  # a signed fail: the page says so
    # The Pages build cannot count the failed run by a revision it did not verify: never "passed".
    line = _page_line(root)
    assert "passed" not in line and ("failed" in line or "stale" in line)


def test_files_the_upstream_clone_tracks_are_not_counted_by_the_hub_revision(
    pulled_twice: tuple[SmokeProject, dict[str, str], str],
) -> None:
    import git

    project, env, _ = pulled_twice
    root, ckpt = project.root, project.checkpoint("tiny-hyena")
    repo_dir = project.repo("tiny-hyena")
    repo = git.Repo(repo_dir)
    # The clone tracks a file of the pulled folder (here the hub's own config, byte for byte).
    repo.index.add([str((ckpt / "config.json").relative_to(repo_dir))], force=True)
    before = repo.head.commit.hexsha
    after = repo.index.commit("the repository carries a config of its own").hexsha
    card_file = root / "kb" / "model_cards" / "tiny-hyena.yaml"  # as kb checkpoints pin left it
    card_file.write_text(card_file.read_text().replace(before, after))
    done = run(root, "smoke", "tiny-hyena", "--executor", "local", "--device", "cpu", env=env)
    assert done.returncode == 1
    assert "but the upstream repository tracks files in it too: " in done.stderr, done.stderr
    said = " ".join(done.stderr.split())
    assert "checkpoints/hyena-tiny/config.json; pull the checkpoint into" in said, said

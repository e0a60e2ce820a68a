"""What runs is exactly what is pinned: `auto_map` targets and entry points resolve to files of the clone
that are pinned, `smoke_test.requires` names installed distributions (never imported), no command puts
the project on `sys.path`, and whatever the model code raises (`SystemExit` too) fails only its card
(SECURITY.md, "Pinned code")."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest

from tests.security.conftest import run
from tests.smoke.conftest import SmokeProject, project_on_sys_path
from tests.smoke.standins import git_commit_all

pytestmark = pytest.mark.slow


def evil(path: Path, marker: Path, body: str = "") -> Path:
    """A Python file a pull request adds: importing it writes `marker`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n{body}", encoding="utf-8"
    )
    return path


def failed_checks(project: SmokeProject, card_id: str) -> dict[str, str]:
    return {c["name"]: c["message"] for c in project.report(card_id)["checks"] if c["status"] == "failed"}


def test_auto_map_naming_another_folder_is_refused(smoke_project: SmokeProject, marker: Path) -> None:
    # transformers resolves `DIR--module.Class` to DIR/module.py: code in the tree that nobody pinned.
    folder = smoke_project.root / "kb" / "assets" / "evil"
    evil(folder / "modeling_evil.py", marker, "class EvilForCausalLM:\n    pass\n")
    ckpt = smoke_project.checkpoint("tiny-hyena")
    config = json.loads((ckpt / "config.json").read_text())
    ref = f"{folder}--modeling_evil.EvilForCausalLM"
    config["auto_map"]["AutoModelForCausalLM"] = ref
    (ckpt / "config.json").write_text(json.dumps(config))
    card = smoke_project.card("tiny-hyena")
    card["repo"]["commit"] = git_commit_all(smoke_project.repo("tiny-hyena"), "auto_map elsewhere")
    smoke_project.write(card)
    done = run(smoke_project.root, "smoke", "tiny-hyena", "--device", "cpu")
    assert done.returncode == 1
    assert not marker.exists()
    assert failed_checks(smoke_project, "tiny-hyena") == {
        "remote code": f"refusing to load hyena-tiny: config.json: auto_map '{ref}' names code in another "
        "folder or repository; only the checkpoint's own files, pinned in smoke_test.code_sha256, may run"
    }


@pytest.mark.parametrize(
    "entry_point,why",
    [
        ("helper:load", "the module 'helper' is not a Python file of external_repos/tiny-dnabert"),
        (
            "checkpoints.other.loading:load",
            "external_repos/tiny-dnabert/checkpoints/other/loading.py is not tracked at the pinned commit "
            "and not pinned by the card (smoke_test.code_sha256)",
        ),
        ("runpy:run_path", "'runpy' is also the name of a module installed here"),
    ],
)
def test_an_entry_point_runs_only_pinned_upstream_code(
    smoke_project: SmokeProject, marker: Path, entry_point: str, why: str
) -> None:
    import hashlib

    evil(smoke_project.root / "helper.py", marker, "def load(path):\n    raise SystemExit\n")
    evil(smoke_project.repo("tiny-dnabert") / "checkpoints" / "other" / "loading.py", marker)
    card = smoke_project.card("tiny-dnabert")
    if entry_point.startswith("runpy"):  # runpy.run_path(checkpoint) would run its __main__.py, pinned
        main = evil(smoke_project.checkpoint("tiny-dnabert") / "__main__.py", marker)
        card["smoke_test"]["code_sha256"] = {"__main__.py": hashlib.sha256(main.read_bytes()).hexdigest()}
    card["smoke_test"].update(loader="entry-point", entry_point=entry_point, trust_remote_code=True)
    smoke_project.write(card)
    # `python -m generator` puts the working directory (the project) first on sys.path: not any more.
    done = run(smoke_project.root, "smoke", "tiny-dnabert", "--device", "cpu", module=True)
    assert done.returncode == 1
    assert not marker.exists()
    message = failed_checks(smoke_project, "tiny-dnabert")["remote code"]
    assert why in message, message


@pytest.mark.parametrize("how", [("--executor", "inline"), ("--executor", "local")])
def test_requires_names_distributions_never_modules_of_the_tree(
    smoke_project: SmokeProject, marker: Path, how: tuple[str, str]
) -> None:
    evil(smoke_project.root / "kb" / "model_cards" / "helper.py", marker)
    card = smoke_project.card("tiny-dnabert")
    card["smoke_test"]["requires"] = ["kb.model_cards.helper"]
    smoke_project.write(card)
    done = run(
        smoke_project.root, "smoke", "tiny-dnabert", "--device", "cpu", *how, module=how[1] == "inline"
    )
    assert done.returncode == 1
    assert not marker.exists()
    assert failed_checks(smoke_project, "tiny-dnabert")["dependencies"].startswith(
        "card 'tiny-dnabert' (smoke_test.requires) needs the Python package 'kb.model_cards.helper', which "
        "is not installed."
    )


def test_jobs_never_import_the_project_tree(smoke_project: SmokeProject, marker: Path) -> None:
    # submitit starts each job as `python -m submitit...`, which would import these first.
    for package in ("submitit", "generator", "torch"):
        evil(smoke_project.root / package / "__init__.py", marker)
    done = run(smoke_project.root, "smoke", "tiny-nt", "--device", "cpu", "--executor", "local")
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    assert smoke_project.report("tiny-nt")["status"] == "passed"


def test_no_local_job_imports_from_the_project_or_its_working_directory(
    smoke_project: SmokeProject, tmp_path: Path
) -> None:
    probe = tmp_path / "sys_path.json"
    smoke_project.probe_sys_path("tiny-dnabert", probe)
    done = run(smoke_project.root, "smoke", "tiny-dnabert", "--device", "cpu", "--executor", "local")
    assert done.returncode == 0, done.stderr
    assert project_on_sys_path(smoke_project.root, probe) == []


def test_sys_exit_in_model_code_fails_that_card_only(smoke_project: SmokeProject) -> None:
    source = "import sys\n\n\ndef load(path):\n    sys.exit(3)\n"
    smoke_project.entry_point("tiny-dnabert", source, "a loader that exits")
    done = run(smoke_project.root, "smoke", "tiny-dnabert", "tiny-nt", "--device", "cpu")
    assert done.returncode == 1
    assert "PASSED  tiny-nt (cpu/float32" in done.stdout
    message = failed_checks(smoke_project, "tiny-dnabert")["load"]
    assert message.startswith("the model's code called sys.exit(3) (at upstream/loading.py:5)"), message
    assert "1 passed, 0 skipped, 1 failed" in done.stderr


def test_modified_checkpoint_code_is_refused(smoke_project: SmokeProject, marker: Path) -> None:
    """Held: code that is not what the pinned commit holds never runs (a changed tracked file here)."""
    modeling = smoke_project.checkpoint("tiny-hyena") / "modeling_hyena_standin.py"
    modeling.write_text(modeling.read_text() + f"\nopen({str(marker)!r}, 'w')\n")
    done = run(smoke_project.root, "smoke", "tiny-hyena", "--device", "cpu")
    assert done.returncode == 1
    assert not marker.exists()
    assert "has uncommitted changes" in failed_checks(smoke_project, "tiny-hyena")["remote code"]
    assert git.Repo(smoke_project.repo("tiny-hyena")).is_dirty()  # nothing was discarded either

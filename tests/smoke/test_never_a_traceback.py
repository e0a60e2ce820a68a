"""Whatever the model's own code raises becomes a failed check naming the card, the stage and the fix;
the other cards still run, their reports are written, and `kb smoke` exits 1 without a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.smoke.conftest import SmokeProject
from tests.smoke.standins import git_commit_all
from tests.smoke.test_failures import _fails

MODELING = "modeling_hyena_standin.py"
FORWARD = "    def forward(self, input_ids, output_hidden_states=None, return_dict=None):\n"


def _change_code(project: SmokeProject, card_id: str, edit: dict[str, str]) -> None:
    """Change the checkpoint's code as upstream would (a new commit, pinned by the card)."""
    ckpt = project.checkpoint(card_id)
    for name, text in edit.items():
        (ckpt / name).write_text(text)
    card = project.card(card_id)
    card["repo"]["commit"] = git_commit_all(project.repo(card_id), "upstream changed its code")
    project.write(card)


def _in_forward(project: SmokeProject, statement: str) -> str:
    code = (project.checkpoint("tiny-hyena") / MODELING).read_text()
    assert FORWARD in code
    return code.replace(FORWARD, FORWARD + f"        {statement}\n")


def test_a_package_the_hub_code_imports_is_missing_and_the_other_cards_still_run(
    smoke_project: SmokeProject,
) -> None:
    code = (smoke_project.checkpoint("tiny-hyena") / MODELING).read_text()
    _change_code(smoke_project, "tiny-hyena", {MODELING: "import kb_no_such_pkg\n" + code})
    exit_code, _, err = smoke_project.kb("smoke", "--device", "cpu")
    assert exit_code == 1
    assert (
        "kb smoke: tiny-hyena: dependencies: the checkpoint's code imports kb-no-such-pkg, not installed "
        "here. Install with: pip install kb-no-such-pkg (and list them in smoke_test.requires)"
    ) in err
    assert "Traceback" not in err
    for card_id in smoke_project.standins:
        assert smoke_project.report(card_id)["status"] == ("failed" if card_id == "tiny-hyena" else "passed")
    assert "8 passed, 0 skipped, 1 failed" in err  # 9 stand-ins (issue 14 added two unfused Caduceus)


def test_a_required_package_that_is_missing_gives_its_pip_line(smoke_project: SmokeProject) -> None:
    card = smoke_project.card("tiny-mamba")
    card["smoke_test"]["requires"] = ["kb-not-installed"]
    smoke_project.write(card)
    line = _fails(smoke_project, "tiny-mamba", "dependencies")
    assert line == (
        "kb smoke: tiny-mamba: dependencies: card 'tiny-mamba' (smoke_test.requires) needs the Python "
        "package 'kb-not-installed', which is not installed. Install it with: pip install kb-not-installed"
    )


def test_an_optional_import_is_not_required(smoke_project: SmokeProject) -> None:
    """DNABERT-2 imports its triton kernels inside `try`: without triton it runs on PyTorch."""
    optional = "try:\n    from .kernels_triton import fused\nexcept ImportError:\n    fused = None\n"
    code = (smoke_project.checkpoint("tiny-hyena") / MODELING).read_text()
    imports = "from torch import nn\n"
    modeling = code.replace(imports, imports + optional)
    files = {"kernels_triton.py": "import kb_no_such_triton\n", MODELING: modeling}
    _change_code(smoke_project, "tiny-hyena", files)
    exit_code, _, err = smoke_project.kb("smoke", "tiny-hyena", "--device", "cpu")
    assert exit_code == 0, err


def test_a_module_missing_at_run_time_gives_its_pip_line(smoke_project: SmokeProject) -> None:
    statement = '__import__("importlib").import_module("kb_lazy_pkg")'  # not seen by a scan of the imports
    _change_code(smoke_project, "tiny-hyena", {MODELING: _in_forward(smoke_project, statement)})
    line = _fails(smoke_project, "tiny-hyena", "encode")
    assert line == (
        "kb smoke: tiny-hyena: encode: the model's code imports 'kb_lazy_pkg', which is not installed. "
        "Install it with: pip install kb-lazy-pkg (and list it in smoke_test.requires)"
    )


def test_an_error_in_the_forward_pass_names_the_stage(smoke_project: SmokeProject) -> None:
    statement = 'raise RuntimeError("shapes do not match")'
    _change_code(smoke_project, "tiny-hyena", {MODELING: _in_forward(smoke_project, statement)})
    line = _fails(smoke_project, "tiny-hyena", "encode")
    assert line.startswith("kb smoke: tiny-hyena: encode: RuntimeError: shapes do not match (at ")
    assert line.endswith("; the model's forward pass failed; check smoke_test.input (kind, length, argument)")


def test_a_triton_kernel_asserting_cuda_on_cpu(smoke_project: SmokeProject) -> None:
    """DNABERT-2's hub code takes its triton attention whenever triton imports, and asserts CUDA there."""
    kernel = "def flash_attn_func(q):\n    assert q.is_cuda\n    return q\n"
    modeling = _in_forward(smoke_project, "flash_attn_func(input_ids)")
    imports = "from torch import nn\n"
    modeling = modeling.replace(imports, imports + "\nfrom .flash_attn_triton import flash_attn_func\n")
    _change_code(smoke_project, "tiny-hyena", {"flash_attn_triton.py": kernel, MODELING: modeling})
    line = _fails(smoke_project, "tiny-hyena", "encode")
    assert line.startswith("kb smoke: tiny-hyena: encode: AssertionError: (no message) (at ")
    assert "flash_attn_triton.py:2)" in line
    assert line.endswith(
        ": the model took a triton kernel path, which needs CUDA; on a CPU machine uninstall triton "
        "(pip uninstall triton) so the model falls back to PyTorch, or run with --device cuda"
    )


def test_an_input_longer_than_the_checkpoint_positions_is_refused_before_the_forward_pass(
    smoke_project: SmokeProject,
) -> None:
    card = smoke_project.card("tiny-hyena")
    card["tokenization"]["context"] = {"tokens": 4096}  # the card's claim is not what limits here
    card["smoke_test"]["input"]["length"] = 2000
    smoke_project.write(card)
    line = _fails(smoke_project, "tiny-hyena", "tokenize")
    assert line == (
        "kb smoke: tiny-hyena: tokenize: the longest seeded input is 2001 tokens, but the checkpoint has "
        "1024 positions (config.max_seq_len); lower smoke_test.input.length (2000)"
    )


def test_an_input_longer_than_the_card_context_is_refused(smoke_project: SmokeProject) -> None:
    card = smoke_project.card("tiny-dnabert")
    card["tokenization"]["context"] = {"tokens": 8}
    smoke_project.write(card)
    line = _fails(smoke_project, "tiny-dnabert", "tokenize")
    assert line.startswith("kb smoke: tiny-dnabert: tokenize: the longest seeded input is ")
    assert line.endswith(
        "tokens, but the card says tokenization.context.tokens 8; lower smoke_test.input.length (64)"
    )


def test_projector_in_dim_must_be_the_measured_width(smoke_project: SmokeProject) -> None:
    card = smoke_project.card("tiny-dnabert")
    card["integration"]["projector"]["in_dim"] = 256
    smoke_project.write(card)
    line = _fails(smoke_project, "tiny-dnabert", "projector width")
    assert line == (
        "kb smoke: tiny-dnabert: projector width: the card says integration.projector.in_dim 256, but the "
        "pooled embedding is 32 wide: set integration.projector.in_dim: 32"
    )


def test_embedding_dim_must_be_the_measured_width(smoke_project: SmokeProject) -> None:
    card = smoke_project.card("tiny-dnabert")
    card["architecture"]["embedding_dim"] = 64
    smoke_project.write(card)
    line = _fails(smoke_project, "tiny-dnabert", "embedding width")
    assert line == (
        "kb smoke: tiny-dnabert: embedding width: pooled embedding is 32 wide, but the card says "
        "architecture.embedding_dim 64"
    )


def test_custom_code_leaves_nothing_in_the_users_hugging_face_cache(
    smoke_project: SmokeProject, tmp_path: Path
) -> None:
    """`kb smoke` in a fresh process, as a user runs it: transformers' modules cache stays untouched."""
    home = tmp_path / "hf-home"
    env = {k: v for k, v in os.environ.items() if k not in ("HF_MODULES_CACHE", "HF_HOME")}
    env.update(HF_HOME=str(home), PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "-C",
            str(smoke_project.root),
            "smoke",
            "tiny-hyena",
            "tiny-caduceus-ps",
            "--device",
            "cpu",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert smoke_project.report("tiny-hyena")["status"] == "passed"
    assert not (home / "modules").exists(), sorted(str(p) for p in (home / "modules").rglob("*"))

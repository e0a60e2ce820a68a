"""What to tell the user when the model's own code raised: the likely cause and the fix.

The runner wraps each stage of a card's smoke test (load, tokenize, encode, project) and each check;
whatever escapes becomes a failed check whose message comes from here, never a traceback.
"""

from __future__ import annotations

import traceback

from generator.exceptions import SmokeStage
from generator.smoke.loader import pip_name

STAGE_HINTS = {
    SmokeStage.LOAD: "loading the checkpoint failed; check smoke_test.loader and the checkpoint's files",
    SmokeStage.TOKENIZE: "tokenizing the seeded input failed; check the checkpoint's tokenizer and "
    "smoke_test.input",
    SmokeStage.ENCODE: "the model's forward pass failed; check smoke_test.input (kind, length, argument)",
    SmokeStage.PROJECT: "projecting the pooled embedding failed; check integration.projector",
    SmokeStage.CHECK: "the check itself could not run on this model",
}


def explain(exc: BaseException, stage: SmokeStage, device: str) -> str:
    """One line: what was raised, where in the model's code, and what to do about it."""
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        package = pip_name(exc.name)
        return (
            f"the model's code imports '{exc.name}', which is not installed. Install it with: "
            f"pip install {package} (and list it in smoke_test.requires)"
        )
    frames = traceback.extract_tb(exc.__traceback__)
    where = frames[-1] if frames else None  # the innermost frame: where it was raised
    at = f" (at {_short(where.filename)}:{where.lineno})" if where else ""
    raised = f"{type(exc).__name__}: {_first_line(exc)}{at}"
    if isinstance(exc, SystemExit):
        raised = f"the model's code called sys.exit({exc.code!r}){at}"
    if device == "cpu" and any("triton" in f.filename.lower() for f in frames):
        return (
            f"{raised}: the model took a triton kernel path, which needs CUDA; on a CPU machine "
            "uninstall triton (pip uninstall triton) so the model falls back to PyTorch, or run "
            "with --device cuda"
        )
    return f"{raised}; {STAGE_HINTS.get(stage, 'see the message above')}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines() or [""])[0][:300] or "(no message)"


def _short(filename: str) -> str:
    parts = filename.replace("\\", "/").split("/")
    return "/".join(parts[-2:])

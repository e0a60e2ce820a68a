"""Every error the product raises on purpose. The CLI catches `KBError` once, prints it, exits 1 (or 2).

Each subclass formats its own message so that it names the file, the place and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.problems import Problem


class KBError(Exception):
    """Base class: a failure the user can act on. Printed as one line, no traceback."""

    exit_code = 1


class UsageError(KBError):
    """The command was called wrongly (unknown card id, bad option combination)."""

    exit_code = 2


class ConfigError(KBError):
    """The `kb` section of mkdocs.yml is invalid."""


class ValidationFailed(KBError):
    """One or more cards have errors; carries every located problem."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        errors = [p for p in self.problems if p.is_error]
        super().__init__(
            f"{len(errors)} error(s) in the knowledge base:\n" + "\n".join(p.format() for p in self.problems)
        )


class MissingDependency(KBError):
    """An optional dependency is not installed; the message says which extra brings it."""

    def __init__(self, package: str, extra: str | None, purpose: str):
        self.package, self.extra = package, extra
        line = f'pip install -e ".[{extra}]"' if extra else f"pip install {package}"
        super().__init__(
            f"{purpose} needs the Python package '{package}', which is not installed. Install it with: {line}"
        )


class OutputConflict(KBError):
    """A generated file would overwrite a file the product did not generate (a hand-written page)."""


class RenderError(KBError):
    """A template failed to render a card."""


class RepoError(KBError):
    """An upstream repository could not be cloned, fetched or checked out safely."""


class SmokeStage(str, Enum):
    """Where in a card's smoke test something went wrong; the value is the failed check's name."""

    REMOTE_CODE = "remote code"
    DEPENDENCIES = "dependencies"
    CHECKPOINT = "checkpoint files"
    LOAD = "load"
    TOKENIZE = "tokenize"
    ENCODE = "encode"
    POOL = "pooling"
    PROJECT = "project"
    CHECK = "checks"


class SmokeError(KBError):
    """The embedding smoke test of a card could not go on (not: a check failed, which is a report).

    `stage` says where; the runner turns it into the failed check of that name."""

    def __init__(self, message: str, stage: SmokeStage = SmokeStage.LOAD):
        super().__init__(message)
        self.stage = stage


class CheckpointError(KBError):
    """A checkpoint could not be downloaded or verified (`kb checkpoints`); the message says what to do."""


class BuildFailed(KBError):
    """The MkDocs build of the site failed (or had warnings under --strict)."""


class PublishRefused(KBError):
    """`kb build --require-smoke` found cards whose smoke test did not pass; the message names them."""


class BuildLocked(KBError):
    """Another build of the same project holds the project lock (`--no-wait` was given)."""


class JobError(KBError):
    """A smoke-test job could not run its card's test (the job got no GPU, ...); its card's report says
    so, naming the job."""


class Terminated(KeyboardInterrupt):
    """kb was sent SIGTERM (a cancelled CI job, `kill`): handled like Ctrl-C, so that the jobs it
    started are cancelled on the way out."""

"""Located problems: what validation and the checks report, and the three output formats.

Loading and validation never raise on a bad card: they collect `Problem`s and the command prints
them all, then fails once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Problem:
    """One finding, located as precisely as the source allows (line/column are 1-based, 0 = unknown)."""

    file: str
    message: str
    severity: Severity = Severity.ERROR
    field: str = ""
    line: int = 0
    col: int = 0
    hint: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def text(self) -> str:
        return self.message + (f" ({self.hint})" if self.hint else "")

    def format(self) -> str:
        """`FILE:LINE:COL: severity: field.path: message (hint)`."""
        where = f"{self.file}:{self.line}:{self.col}" if self.line else f"{self.file}:0:0"
        field = f"{self.field}: " if self.field else ""
        return f"{where}: {self.severity.value}: {field}{self.text()}"

    def github(self) -> str:
        """A GitHub Actions workflow command, shown as an annotation on the pull request."""
        kind = {"error": "error", "warning": "warning", "info": "notice"}[self.severity.value]
        title = self.field or "kb"
        msg = self.text().replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        loc = f"file={self.file}"
        if self.line:
            loc += f",line={self.line},col={self.col or 1}"
        return f"::{kind} {loc},title={title}::{msg}"

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["severity"] = self.severity.value
        return d


def escalate(problems: Iterable[Problem], strict: bool) -> list[Problem]:
    """Under `--strict` every warning becomes an error."""
    out = list(problems)
    if not strict:
        return out
    return [replace(p, severity=Severity.ERROR) if p.severity is Severity.WARNING else p for p in out]


def render(problems: Sequence[Problem], fmt: str) -> str:
    """Problems in `text`, `json` or `github` format (one string, newline-terminated when non-empty)."""
    ordered = sorted(problems, key=lambda p: (p.file, p.line, p.col, p.field))
    if fmt == "json":
        return json.dumps([p.as_dict() for p in ordered], indent=2) + "\n"
    lines = [p.github() if fmt == "github" else p.format() for p in ordered]
    return "".join(line + "\n" for line in lines)


def summary(problems: Sequence[Problem]) -> str:
    errors = sum(p.severity is Severity.ERROR for p in problems)
    warnings = sum(p.severity is Severity.WARNING for p in problems)
    return f"{errors} error(s), {warnings} warning(s)"

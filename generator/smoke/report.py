"""What a smoke test writes: one named outcome per check, in the card's report
(`artifacts/smoke/<id>.json`).

The report is a side file of its card: `kb smoke` saves it (`Report.save`), and loading the knowledge
base reads it once onto the card (`Report.load`, `LoadedCard.smoke`); no stage reads the file again.
Light on purpose (pydantic only, no torch), and low in the layers (beside `repos/lockfile.py`), so that
`generator.knowledge` may read it.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from generator.io import write_if_changed
from generator.layout import Layout
from generator.problems import Problem, Severity
from generator.yamlio import dotted, read_bounded

Outcome = Literal["passed", "failed", "skipped"]


class Check(BaseModel):
    """One check's outcome."""

    name: str
    status: Outcome
    message: str


class Signature(BaseModel):
    """Who vouches for a report: the Ed25519 signature `kb smoke` adds when it holds a signing key
    (`generator.smoke.signed`). It covers the whole report, with the card, the inputs hash and the
    verdict in it, and the signer, the key and the time below."""

    signer: str
    """The name the signing run gave itself (shown only when the allowed signers name the key)."""
    key: str
    """The public key, `ssh-ed25519 AAAA...`."""
    signed_at: str
    """When it was signed (ISO 8601, UTC)."""
    value: str
    """The Ed25519 signature, base64."""


class Report(BaseModel):
    """What `artifacts/smoke/<id>.json` holds."""

    id: str
    status: Outcome = "failed"
    """Set by `finish` (a report file without a status reads as failed)."""
    summary: str = ""
    checks: list[Check] = Field(default_factory=list)
    device: str | None = None
    dtype: str | None = None
    timings: dict[str, float] = Field(default_factory=dict)
    memory: dict[str, Any] = Field(default_factory=dict)
    versions: dict[str, str] = Field(default_factory=dict)
    checkpoint: dict[str, Any] = Field(default_factory=dict)
    upstream: dict[str, Any] = Field(default_factory=dict)
    embedding: dict[str, Any] = Field(default_factory=dict)
    inputs_hash: str | None = None
    job: dict[str, str] = Field(default_factory=dict)
    """The job that ran the test (`executor`, `id`) when `kb smoke --executor local|slurm` ran it."""
    finished_at: str | None = None
    kernels: dict[str, Any] = Field(default_factory=dict)
    """Which kernels ran the model code (`generator.smoke.kernels.Kernels.to_json`), for cards that
    import a package the reference kernels can stand in for."""
    signature: Signature | None = None
    """Added by `kb smoke` when a signing key is configured; the publishing gate counts a report only
    when an allowed signer signed it (`generator.smoke.signed.verify_report`)."""

    def add(self, name: str, ok: bool | None, message: str) -> None:
        """ok None: not applicable here (skipped, with the reason)."""
        status: Outcome = "skipped" if ok is None else "passed" if ok else "failed"
        self.checks.append(Check(name=name, status=status, message=message))

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status == "failed"]

    def finish(self, status: Outcome | None = None) -> Report:
        self.status = status or ("failed" if self.failures else "passed")
        if self.status == "failed":
            self.summary = "; ".join(f"{c.name}: {c.message}" for c in self.failures)
        elif not self.summary:
            passed = sum(c.status == "passed" for c in self.checks)
            self.summary = f"{passed} check(s) passed on {self.device}"
            if self.kernels.get("kind") == "reference":
                self.summary += f" with {self.kernels['label']}"
        self.finished_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return self

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="python")

    def save(self, smoke_dir: Path) -> bool:
        """Write `<smoke_dir>/<id>.json` atomically; True when its content changed."""
        text = json.dumps(self.to_json(), indent=2, sort_keys=False) + "\n"
        return write_if_changed(Layout.smoke_report_in(smoke_dir, self.id), text)

    @classmethod
    def load(cls, smoke_dir: Path, card_id: str, display: str) -> tuple[Report | None, list[Problem]]:
        """The card's report, or None when there is none. A file that is not a report (unreadable, not
        JSON, fields of the wrong type) is None too, with a warning located at `display` (the file as
        users see it) saying how to write it again; the card then reads as not run."""
        path = Layout.smoke_report_in(smoke_dir, card_id)
        if not path.exists() and not path.is_symlink():
            return None, []
        fix = f"run `kb smoke {card_id}` to write it again, or delete it"
        problems: list[Problem] = []
        raw = read_bounded(path, display, None, problems, "smoke report")
        if raw is None:
            return None, [dataclasses.replace(p, severity=Severity.WARNING, hint=fix) for p in problems]
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            return None, [_warning(display, f"not a smoke report: not UTF-8 ({exc.reason})", fix)]
        except json.JSONDecodeError as exc:
            return None, [
                _warning(
                    display,
                    f"not a smoke report: invalid JSON ({exc.msg})",
                    fix,
                    line=exc.lineno,
                    col=exc.colno,
                )
            ]
        if not isinstance(data, dict):
            return None, [_warning(display, "not a smoke report: not a JSON object", fix, line=1, col=1)]
        try:
            return cls.model_validate({"id": card_id, **data}), []
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            return None, [
                _warning(
                    display,
                    f"not a smoke report: {e['msg'][0].lower()}{e['msg'][1:]}",
                    fix,
                    field=dotted(tuple(e["loc"])),
                )
                for e in errors
            ]


def _warning(file: str, message: str, hint: str, *, field: str = "", line: int = 0, col: int = 0) -> Problem:
    return Problem(file, message, Severity.WARNING, field, line, col, hint)

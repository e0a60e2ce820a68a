"""What a smoke test writes: one named outcome per check, in the card's report
(`artifacts/smoke/<id>.json`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any


@dataclass
class Check:
    """One check's outcome."""

    name: str
    status: str  # passed | failed | skipped
    message: str


@dataclass
class Report:
    """What `artifacts/smoke/<id>.json` holds."""

    id: str
    status: str = "passed"
    summary: str = ""
    checks: list[Check] = field(default_factory=list)
    device: str | None = None
    dtype: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    checkpoint: dict[str, Any] = field(default_factory=dict)
    upstream: dict[str, Any] = field(default_factory=dict)
    embedding: dict[str, Any] = field(default_factory=dict)
    inputs_hash: str | None = None
    job: dict[str, str] = field(default_factory=dict)
    """The job that ran the test (`executor`, `id`) when `kb smoke --executor local|slurm` ran it."""
    finished_at: str | None = None
    kernels: dict[str, Any] = field(default_factory=dict)
    """Which kernels ran the model code (`generator.smoke.kernels.Kernels.to_json`), for cards that
    import a package the reference kernels can stand in for."""

    def add(self, name: str, ok: bool | None, message: str) -> None:
        """ok None: not applicable here (skipped, with the reason)."""
        self.checks.append(Check(name, "skipped" if ok is None else "passed" if ok else "failed", message))

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status == "failed"]

    def finish(self, status: str | None = None) -> Report:
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
        return asdict(self)

"""The publishing gate's view of a smoke report: passed, failed, skipped, stale or not run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from generator.knowledge import LoadedCard
    from generator.schema import Card
    from generator.settings import Project

STATES = ("passed", "failed", "skipped", "stale", "not run")


@dataclass(frozen=True)
class SmokeStatus:
    """What the page shows about a card's smoke test."""

    state: str
    date: str | None = None
    device: str | None = None
    summary: str = ""
    kernels: str | None = None
    """"reference kernels (CPU)" when the run used them; None for native kernels."""

    def blocked(self, accept_reference: bool = True) -> str | None:
        """Why the publishing gate refuses this card (None: it may publish)."""
        if self.state != "passed":
            return f"smoke test {self.state}"
        if self.kernels and not accept_reference:
            return (
                f"smoke test passed on {self.kernels} only, and smoke_accept_reference_kernels is false; "
                "run it on CUDA with --kernels native"
            )
        return None


def report_path(smoke_dir: Path, card_id: str) -> Path:
    return smoke_dir / f"{card_id}.json"


def read_report(smoke_dir: Path, card_id: str) -> dict[str, Any] | None:
    path = report_path(smoke_dir, card_id)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def card_status(smoke_dir: Path, card_id: str, inputs_hash: str | None = None) -> SmokeStatus:
    """Status from `artifacts/smoke/<id>.json`; stale when the report's inputs hash differs."""
    report = read_report(smoke_dir, card_id)
    if report is None:
        return SmokeStatus("not run")
    state = str(report.get("status", "failed"))
    if inputs_hash is not None and report.get("inputs_hash") not in (None, inputs_hash):
        state = "stale"
    kernels = report.get("kernels")
    reference = isinstance(kernels, dict) and kernels.get("kind") == "reference"
    return SmokeStatus(
        state if state in STATES else "failed",
        report.get("finished_at"),
        report.get("device"),
        str(report.get("summary", "")),
        str(kernels.get("label")) if reference and isinstance(kernels, dict) else None,
    )


def project_status(project: Project, loaded: LoadedCard[Card]) -> SmokeStatus:
    """A card's status with staleness worked out: the report's inputs hash against the card, its
    checkpoint files, the projector and the golden reference as they are now."""
    from generator.smoke.fingerprint import card_inputs_hash

    return card_status(project.smoke_dir, loaded.id, card_inputs_hash(project, loaded))


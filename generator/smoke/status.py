"""The publishing gate's view of a card's smoke report (read with the card, `LoadedCard.smoke`): passed,
failed, skipped, stale or not run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.knowledge import LoadedCard
    from generator.schema import Card
    from generator.settings import Project
    from generator.smoke.report import Report

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


def card_status(report: Report | None, inputs_hash: str | None = None) -> SmokeStatus:
    """Status from a card's report (`LoadedCard.smoke`); stale when the report's inputs hash differs."""
    if report is None:
        return SmokeStatus("not run")
    state: str = report.status
    if inputs_hash is not None and report.inputs_hash not in (None, inputs_hash):
        state = "stale"
    reference = report.kernels.get("kind") == "reference"
    return SmokeStatus(
        state,
        report.finished_at,
        report.device,
        report.summary,
        str(report.kernels.get("label")) if reference else None,
    )


def project_status(project: Project, loaded: LoadedCard[Card]) -> SmokeStatus:
    """A card's status with staleness worked out: the report's inputs hash against the card, its
    checkpoint files, the projector and the golden reference as they are now (hashed only when the
    card has a report; `build_facts` asks once per card per build)."""
    from generator.smoke.fingerprint import card_inputs_hash

    if loaded.smoke is None:
        return SmokeStatus("not run")
    return card_status(loaded.smoke, card_inputs_hash(project, loaded))

"""The publishing gate's view of a card's smoke report (read with the card, `LoadedCard.smoke`): passed,
failed, skipped, stale or not run, and whether an allowed signer vouches for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from generator.signing import AllowedSigners

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
    signed_by: str | None = None
    """The allowed signer who vouches for the report (its name in the allowed signers)."""
    signed_at: str | None = None
    not_verified: str | None = None
    """Why no allowed signer vouches for the report (None when one does, or there is no report)."""

    @property
    def verified(self) -> bool:
        return self.signed_by is not None and self.not_verified is None

    @property
    def label(self) -> str:
        """The state in a reader's words: a pass nobody trusted vouches for says so."""
        return "passed, not verified" if self.state == "passed" and not self.verified else self.state

    @property
    def signature_note(self) -> str:
        """`Signed by smoke-ci on 2026-01-02 10:00:00 UTC.` or `Not verified: <why>.` ('' without report)."""
        if self.verified:
            return f"Signed by {self.signed_by} on {_when(self.signed_at)}."
        return f"Not verified: {self.not_verified}." if self.not_verified else ""

    def blocked(self, accept_reference: bool = True) -> str | None:
        """Why the publishing gate refuses this card (None: it may publish)."""
        if self.state != "passed":
            return f"smoke test {self.state}"
        if not self.verified:
            return f"smoke test passed, but the report is not verified: {self.not_verified}"
        if self.kernels and not accept_reference:
            return (
                f"smoke test passed on {self.kernels} only, and smoke_accept_reference_kernels is false; "
                "run it on CUDA with --kernels native"
            )
        return None


def _when(stamp: str | None) -> str:
    """`2026-01-02T10:00:00+00:00` -> `2026-01-02 10:00:00 UTC`."""
    if not stamp:
        return "an unknown date"
    return stamp.replace("T", " ").removesuffix("+00:00") + (" UTC" if stamp.endswith("+00:00") else "")


def card_status(
    report: Report | None,
    inputs_hash: str | None = None,
    signers: AllowedSigners | None = None,
    card_id: str | None = None,
) -> SmokeStatus:
    """Status from a card's report (`LoadedCard.smoke`); stale when the report's inputs hash differs;
    verified against `signers` (none given: nobody is allowed, so no report is verified) as the report
    of `card_id` (default: the card the report names)."""
    from generator.smoke.signed import verify_report

    if report is None:
        return SmokeStatus("not run")
    state: str = report.status
    if inputs_hash is not None and report.inputs_hash not in (None, inputs_hash):
        state = "stale"
    reference = report.kernels.get("kind") == "reference"
    check = verify_report(report, card_id or report.id, signers or AllowedSigners(""))
    return SmokeStatus(
        state,
        report.finished_at,
        report.device,
        report.summary,
        str(report.kernels.get("label")) if reference else None,
        check.signer,
        check.signed_at,
        check.problem,
    )


def project_status(
    project: Project, loaded: LoadedCard[Card], signers: AllowedSigners | None = None
) -> SmokeStatus:
    """A card's status with staleness worked out: the report's inputs hash against the card, its
    checkpoint files, the projector and the golden reference as they are now (hashed only when the
    card has a report; `build_facts` asks once per card per build), and its signature checked."""
    from generator.smoke.fingerprint import card_inputs_hash

    if loaded.smoke is None:
        return SmokeStatus("not run")
    return card_status(loaded.smoke, card_inputs_hash(project, loaded), signers, loaded.id)

"""Signed smoke reports: a verdict counts for publishing only with proof that a trusted run made it.

Anyone can commit `artifacts/smoke/<id>.json` with `"status": "passed"` and the right inputs hash (it is
computable offline from the card). So `kb smoke`, when it holds a signing key (`KB_SIGNING_KEY`), signs
each report with it, and the page and `kb build --require-smoke` count a report as verified only when
its signature checks out against a key of the allowed signers (`generator.trusted`).

The signed message binds everything a replay would change: the namespace, the card id, the inputs hash
(card, checkpoint, projector, golden reference), the verdict, when the run finished, the signer, its key
and the signing time, plus the rest of the report. A pass signed for one card or for an older checkpoint
therefore never verifies for another card, and goes stale for a changed checkpoint.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from generator.signing import NAMESPACE, AllowedSigners, SigningKey, fingerprint, verify
from generator.smoke.report import Report, Signature


def message(report: Report, signer: str, key: str, signed_at: str) -> bytes:
    """The bytes signed for `report`: canonical JSON of the report as a reader loads it back (so what
    is verified is exactly what was signed) inside an envelope naming what the signature is for."""
    body = Report.model_validate_json(report.model_dump_json(exclude={"signature"})).model_dump(
        mode="json", exclude={"signature"}
    )
    envelope: dict[str, Any] = {
        "namespace": NAMESPACE,
        "version": 1,
        "card": report.id,
        "inputs_hash": report.inputs_hash,
        "status": report.status,
        "finished_at": report.finished_at,
        "signer": signer,
        "key": key,
        "signed_at": signed_at,
        "report": body,
    }
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign_report(report: Report, key: SigningKey, signer: str) -> Report:
    """Add `key`'s signature to a finished report (in place; returned for chaining)."""
    signed_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    value = key.sign(message(report, signer, key.public, signed_at))
    report.signature = Signature(signer=signer, key=key.public, signed_at=signed_at, value=value)
    return report


def signer_name(key: SigningKey, signers: AllowedSigners, given: str | None) -> str:
    """The name a run signs as: the one the environment gives (`KB_SIGNER`), else the allowed signers'
    name for the key, else the key's fingerprint."""
    return given or signers.principal(key.public) or fingerprint(key.public)


@dataclass(frozen=True)
class Verification:
    """Whether a report is vouched for: by whom and when, or why not."""

    signer: str | None = None
    """The allowed signers' name for the key (never the name the report gives itself)."""
    signed_at: str | None = None
    problem: str | None = None
    """Why the report is not verified (None when it is)."""


def verify_report(report: Report, card_id: str, signers: AllowedSigners) -> Verification:
    """Check a card's report against the allowed signers; every failure says why."""
    sig = report.signature
    if report.id != card_id:
        return Verification(problem=f"the report is for card '{report.id}', not '{card_id}'")
    if sig is None:
        configured = "" if signers.signers else "; no allowed signers are configured (smoke_allowed_signers)"
        return Verification(problem=f"the report is unsigned{configured}")
    if not signers.signers:
        return Verification(
            problem="no allowed signers are configured (smoke_allowed_signers), so no signature is accepted"
        )
    name = signers.principal(sig.key)
    if name is None:
        shown = _fingerprint(sig.key)
        return Verification(
            problem=f"signed by a key that is not an allowed signer ({shown}, calling itself "
            f"'{sig.signer}'; allowed signers: {signers.source})"
        )
    if not verify(sig.key, sig.value, message(report, sig.signer, sig.key, sig.signed_at)):
        return Verification(problem="the signature does not match the report: it was changed after signing")
    return Verification(name, sig.signed_at)


def _fingerprint(key: str) -> str:
    try:
        return fingerprint(key)
    except (ValueError, IndexError):
        return "an unreadable key"

"""Signing keys for the tests: real Ed25519 keys in OpenSSH format (as `ssh-keygen -t ed25519` writes
them), an allowed-signers file naming them, and hand-made smoke reports signed with them."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.factory import set_kb_options


@dataclass(frozen=True)
class Key:
    """A private key file outside any project and its public line (`ssh-ed25519 AAAA...`)."""

    path: Path
    public: str


def new_key(folder: Path, name: str = "kb-smoke") -> Key:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    folder.mkdir(parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    path = folder / name
    path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)
    public = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return Key(path, public.decode("ascii"))


ALLOWED = ".kb/allowed_signers"
"""Where the tests' projects keep their allowed signers (named by `smoke_allowed_signers`)."""


def allow(root: Path, *signers: tuple[str, Key]) -> Path:
    """Write the project's allowed-signers file naming `(name, key)` pairs, and point the setting at it."""
    path = root / ALLOWED
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{name} {key.public}\n" for name, key in signers), encoding="utf-8")
    set_kb_options(root, smoke_allowed_signers=ALLOWED)
    return path


def sign_file(report: Path, key: Key, signer: str = "smoke-ci") -> dict[str, Any]:
    """Sign a report file as `kb smoke` would with `key` (for reports the tests write by hand)."""
    from generator.signing import read_signing_key
    from generator.smoke.report import Report
    from generator.smoke.signed import sign_report

    data = json.loads(report.read_text(encoding="utf-8"))
    loaded = Report.model_validate({"id": report.stem, **data})
    sign_report(loaded, read_signing_key(key.path, str(key.path)), signer)
    report.write_text(json.dumps(loaded.to_json(), indent=2), encoding="utf-8")
    return loaded.to_json()


@contextlib.contextmanager
def signing_with(key: Key | None, **env: str) -> Iterator[None]:
    """`KB_SIGNING_KEY` (and any other variables) set for the block, restored afterwards."""
    saved = _set_env({"KB_SIGNING_KEY": str(key.path) if key else None, **env})
    try:
        yield
    finally:
        _set_env(saved)


def _set_env(values: dict[str, str | None]) -> dict[str, str | None]:
    """Set (None: unset) each variable; returns what they were."""
    before = {k: os.environ.get(k) for k in values}
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    return before

"""Ed25519 signatures (through `cryptography`) with OpenSSH keys and git's allowed-signers format.

A key is an ordinary OpenSSH Ed25519 key (`ssh-keygen -t ed25519`) or a PKCS#8 PEM one (`openssl genpkey
-algorithm ed25519`); the public half is named in an allowed-signers file, one signer a line, as git
reads it for SSH-signed commits (`gpg.ssh.allowedSignersFile`):

    maintainer@lab.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA... laptop
    smoke-ci namespaces="kb-smoke" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA...

The first field names the signer (principals, comma-separated); options between it and the key type
are allowed and only `namespaces` is read (when given, it must list `kb-smoke`). Only `ssh-ed25519` keys
are accepted; a line that is not one is a located problem, never a silent pass.

What is signed is a byte string the caller builds (`generator.smoke.signed` binds a smoke report to its
card, inputs hash, verdict, time and signer); the namespace is part of it, so a signature made for
something else never verifies here.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.exceptions import ConfigError, MissingDependency
from generator.problems import Problem

NAMESPACE = "kb-smoke"
"""What the signatures of this product are for (as `ssh-keygen -Y sign -n` names it)."""

KEY_TYPE = "ssh-ed25519"


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives import serialization
    except ImportError as exc:  # a core dependency; only a broken install lacks it
        raise MissingDependency("cryptography", None, "Signing and verifying smoke reports") from exc
    return serialization


def public_line(public_key: Any) -> str:
    """`ssh-ed25519 AAAA...` (the key as an allowed-signers line and a `.pub` file write it)."""
    serialization = _crypto()
    raw = public_key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return bytes(raw).decode("ascii")


def fingerprint(key_line: str) -> str:
    """`SHA256:...` of an `ssh-ed25519 AAAA...` key, as `ssh-keygen -l` prints it."""
    blob = base64.b64decode(key_line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


@dataclass(frozen=True)
class Signer:
    """One allowed signer: its principals and its public key (`ssh-ed25519 AAAA...`)."""

    principals: tuple[str, ...]
    key: str


@dataclass
class AllowedSigners:
    """The allowed signers the settings name, and where they came from (for messages)."""

    source: str
    """Where the list was read (`KB_ALLOWED_SIGNERS=/path`, `origin/main:.kb/allowed_signers`, ...);
    empty when none is configured."""
    signers: list[Signer] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def principal(self, key: str) -> str | None:
        """The signer's name (its first principal) when `key` is allowed, else None."""
        wanted = key.split()[:2]
        for signer in self.signers:
            if signer.key.split()[:2] == wanted:
                return signer.principals[0]
        return None


def parse_allowed_signers(text: str, source: str) -> AllowedSigners:
    """The signers of an allowed-signers file (git's format); every line that is not one is a problem
    located at `source` and its line, and is left out."""
    out = AllowedSigners(source)
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        principals, rest = fields[0], fields[1:]
        options = rest[0] if rest and rest[0] != KEY_TYPE and not rest[0].startswith("ssh-") else None
        if options is not None:
            rest = rest[1:]
        why = _line_problem(rest, options)
        if why:
            out.problems.append(Problem(source, why, line=number, col=1, hint="see SECURITY.md (keys)"))
            continue
        out.signers.append(Signer(tuple(p for p in principals.split(",") if p), f"{rest[0]} {rest[1]}"))
    return out


def _line_problem(rest: list[str], options: str | None) -> str | None:
    if len(rest) < 2 or rest[0] != KEY_TYPE:
        return f"not an allowed signer: expected 'name {KEY_TYPE} AAAA...' (only Ed25519 keys are accepted)"
    if options and "cert-authority" in options.lower():
        return "cert-authority lines are not supported: name each signing key"
    if options and "namespaces=" in options and NAMESPACE not in options.split("namespaces=", 1)[1]:
        return f"the key's namespaces do not include {NAMESPACE}"
    try:
        load_public(f"{rest[0]} {rest[1]}")
    except ValueError as exc:
        return f"not an Ed25519 public key ({exc})"
    return None


def load_public(key_line: str) -> Any:
    _crypto()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_ssh_public_key

    try:
        key = load_ssh_public_key(key_line.encode("ascii"))
    except (ValueError, UnicodeEncodeError, TypeError) as exc:
        raise ValueError(str(exc)) from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 key")
    return key


def verify(key_line: str, signature: str, message: bytes) -> bool:
    """Whether `signature` (base64) is `key_line`'s Ed25519 signature of `message`."""
    from cryptography.exceptions import InvalidSignature

    try:
        load_public(key_line).verify(base64.b64decode(signature, validate=True), message)
    except (ValueError, InvalidSignature, TypeError):
        return False
    return True


@dataclass(frozen=True)
class SigningKey:
    """A private Ed25519 key held outside the project (`KB_SIGNING_KEY`), and its public line."""

    private: Any
    public: str
    path: Path

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private.sign(message)).decode("ascii")


SIGNING_KEY_ENV = "KB_SIGNING_KEY"
"""The private key file `kb smoke` signs its reports with (never a file of the project)."""


def signing_key(project_root: Path) -> SigningKey | None:
    """The key `KB_SIGNING_KEY` names, or None when it is not set. A key inside the project, or one
    that cannot be read as an unencrypted Ed25519 key, is a ConfigError naming the file."""
    value = os.environ.get(SIGNING_KEY_ENV)
    if not value:
        return None
    path = Path(value).expanduser()
    if path.resolve().is_relative_to(project_root.resolve()):
        raise ConfigError(
            f"{SIGNING_KEY_ENV}={value}: the signing key is inside the project, where a commit could "
            "publish it; keep it outside the tree (SECURITY.md, keys)"
        )
    return read_signing_key(path, f"{SIGNING_KEY_ENV}={value}")


def read_signing_key(path: Path, shown: str) -> SigningKey:
    """The unencrypted Ed25519 private key in `path` (OpenSSH or PKCS#8 PEM); ConfigError otherwise."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read the signing key: {exc.strerror}") from exc
    key = _private_key(data, shown)
    return SigningKey(key, public_line(key.public_key()), path)


def _private_key(data: bytes, shown: str) -> Any:
    _crypto()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_ssh_private_key

    loader = load_ssh_private_key if b"OPENSSH PRIVATE KEY" in data else load_pem_private_key
    try:
        key = loader(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"{shown}: not an unencrypted Ed25519 private key ({exc}); make one with "
            "ssh-keygen -t ed25519 -N '' -f <file> (SECURITY.md, keys)"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{shown}: the key is not an Ed25519 key (ssh-keygen -t ed25519)")
    return key

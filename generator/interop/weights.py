"""Describe a weights file without copying it: its size and SHA-256, or the Git LFS pointer's record."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

LFS_SPEC = "version https://git-lfs.github.com/spec/v1"
_POINTER_MAX = 1024  # pointer files are ~130 bytes; the spec caps them well under 1 KiB


@dataclass(frozen=True)
class WeightsInfo:
    """What a weights file is: real bytes (size, sha256) or a Git LFS pointer (oid, size recorded)."""

    size_bytes: int
    sha256: str
    lfs_pointer: bool


def read_lfs_pointer(data: bytes) -> tuple[str, int] | None:
    """(sha256 oid, size) when `data` is a Git LFS pointer file, else None."""
    if len(data) > _POINTER_MAX or not data.startswith(LFS_SPEC.encode()):
        return None
    text = data.decode("utf-8", errors="replace")
    oid = re.search(r"^oid sha256:([0-9a-f]{64})$", text, re.MULTILINE)
    size = re.search(r"^size (\d+)$", text, re.MULTILINE)
    if not oid or not size:
        return None
    return oid.group(1), int(size.group(1))


def describe(path: Path) -> WeightsInfo:
    """Size and SHA-256 of `path`, streamed (weights can be many GB); LFS pointers are recognised."""
    with path.open("rb") as fh:
        head = fh.read(_POINTER_MAX + 1)
    pointer = read_lfs_pointer(head)
    if pointer is not None:
        return WeightsInfo(size_bytes=pointer[1], sha256=pointer[0], lfs_pointer=True)
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return WeightsInfo(size_bytes=size, sha256=digest.hexdigest(), lfs_pointer=False)

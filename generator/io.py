"""Writing outputs safely: atomically (temporary file, then rename) and only when the content changed."""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
from pathlib import Path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never a partial one.

    The file gets the permissions a plain `open(path, "w")` would give (the kernel applies the umask;
    an existing file keeps its mode), not the 0600 of `tempfile.mkstemp`, so a web server can serve
    what the build wrote.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        keep_mode: int | None = path.stat().st_mode & 0o7777
    except OSError:
        keep_mode = None
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if keep_mode is not None:
            os.chmod(tmp, keep_mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_if_changed(path: Path, text: str) -> bool:
    """Atomically write `text` unless the file already holds exactly it. True when written."""
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    atomic_write_bytes(path, data)
    return True


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes, read in 1 MiB chunks (checkpoints can be gigabytes)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """A hash of this package's own Python files, once per process: part of the keys of what it
    generates (new code, new outputs)."""
    package = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" not in path.parts:
            h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()

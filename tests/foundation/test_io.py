"""Outputs are written atomically, with the permissions a plain write would give."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.io import atomic_write_bytes, write_if_changed


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_is_readable_by_everyone_as_the_umask_allows(tmp_path: Path, umask_022: None) -> None:
    page = tmp_path / "site" / "index.html"
    atomic_write_bytes(page, b"<html></html>")
    assert page.read_bytes() == b"<html></html>"
    assert mode(page) == 0o644  # not tempfile's 0600: a web server must be able to read the site
    assert [p.name for p in page.parent.iterdir()] == ["index.html"]  # no temporary file left


def test_a_rewritten_file_keeps_its_mode(tmp_path: Path, umask_022: None) -> None:
    secret = tmp_path / "private.json"
    secret.write_text("{}")
    secret.chmod(0o600)
    assert write_if_changed(secret, '{"a": 1}')
    assert mode(secret) == 0o600
    assert not write_if_changed(secret, '{"a": 1}')


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_bytes(target, b"new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]

"""Publishing the built site: MkDocs builds beside `site/`, and the result takes its place only once the
link check passed, so a failed build leaves the last good site as it was.

- The new site is swapped in with two renames (`site/` -> `.site.old/`, staging -> `site/`), so a
  reader sees the old site or the new one. Hidden entries at the top of the old site (`.git` of a
  gh-pages checkout, `.nojekyll`, `.htaccess`, `.well-known`) are carried over, as MkDocs' own clean-up
  keeps them.
- Where `site/` cannot be renamed (a symbolic link, a mount point, no write access to its parent), its
  content is replaced in place instead: the folder itself, its owner and mode stay.
- Each build stages into its own `.site.building-<pid>/`; builds of one project take turns
  (`generator.lock`), and the folder of a build that was killed is removed by the next one.
- A build killed between the two renames leaves `.site.old/` and no `site/`: the next build puts it back
  first. A build that fails its link check is kept in `.site.failed/` for inspection.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from generator.exceptions import BuildFailed


def _sibling(target: Path, suffix: str) -> Path:
    return target.with_name(f".{target.name}.{suffix}")


def failed_dir(target: Path) -> Path:
    """Where the last build that failed its checks is kept."""
    return _sibling(target, "failed")


@contextmanager
def staging_dir(target: Path) -> Iterator[Path]:
    """An empty folder beside `target` to build into; kept as `.<name>.failed/` when the block raises,
    removed otherwise (unless `publish` moved it into place)."""
    old = _sibling(target, "old")
    if old.is_dir() and not target.exists() and not target.is_symlink():
        old.rename(target)  # a previous swap was interrupted: the last good site comes back
    # One staging folder per build (the project lock lets one build at a time get here, so any other
    # staging folder was left by a build that was killed).
    for leftover in target.parent.glob(f".{target.name}.building*"):
        _remove(leftover)
    staging = _sibling(target, f"building-{os.getpid()}")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        yield staging
    except BaseException:
        if staging.is_dir():
            _remove(failed_dir(target))
            staging.rename(failed_dir(target))
        raise
    finally:
        _remove(staging)
    _remove(failed_dir(target))


def publish(staging: Path, target: Path) -> None:
    """Put the built site in `staging` in the place of `target`."""
    try:
        _carry_hidden(target, staging)
        if target.is_symlink() or os.path.ismount(target):
            _replace_content(staging, target)
            return
        try:
            _swap(staging, target)
        except OSError:  # e.g. no write access to the parent: replace the content instead
            _replace_content(staging, target)
    except OSError as exc:
        raise BuildFailed(
            f"cannot put the new site in place at {target}: {exc} (the new site is in {staging})"
        ) from exc


def _swap(staging: Path, target: Path) -> None:
    old = _sibling(target, "old")
    _remove(old)
    if target.exists():
        target.rename(old)
    try:
        staging.rename(target)
    except OSError:
        if old.exists() and not target.exists():
            old.rename(target)
        raise
    _remove(old)


def _replace_content(staging: Path, target: Path) -> None:
    """Empty `target` (keeping its hidden top-level entries) and move the staged site into it."""
    real = target.resolve()
    real.mkdir(parents=True, exist_ok=True)
    for entry in real.iterdir():
        if not entry.name.startswith("."):
            _remove(entry)
    for entry in staging.iterdir():
        if not (real / entry.name).exists():
            shutil.move(str(entry), str(real / entry.name))


def _carry_hidden(target: Path, staging: Path) -> None:
    """Move the hidden top-level entries of the old site into the new one (MkDocs keeps them too)."""
    if not target.is_dir() or target.is_symlink() or os.path.ismount(target):
        return  # content replaced in place: the hidden entries stay where they are
    for entry in target.iterdir():
        if entry.name.startswith(".") and not (staging / entry.name).exists():
            entry.rename(staging / entry.name)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)

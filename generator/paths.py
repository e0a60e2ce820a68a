"""Paths derived from untrusted data stay inside their folder.

Everything a pull request can change (cards, lock files, smoke reports, imported files) and everything
an upstream clone holds (its tracked symbolic links included) may name a path. Before the product
reads, writes, deletes or walks such a path, it is resolved (symbolic links followed) and must lie
inside the folder it belongs to; otherwise it is refused with the reason. One module, so that every
command applies the same rule; `generator.layout.Layout` names the folders (`Layout.checked_repo_dir`,
`Layout.checked_checkpoint_dir` apply the rule to the clone and checkpoint folders a card names).
"""

from __future__ import annotations

import os
import re
from pathlib import Path


def outside(path: Path, folder: Path, root: Path | None = None) -> str | None:
    """Why `path`, with its symbolic links resolved, does not lie inside `folder` (None when it does;
    `folder` itself counts as inside). Paths under `root` (the project) are named relative to it."""
    shown, base_shown = shown_below(path, root), shown_below(folder, root)
    try:
        real, base = path.resolve(), folder.resolve()
    except (OSError, RuntimeError) as exc:  # a link loop (RuntimeError before Python 3.13)
        return f"{shown} cannot be resolved ({exc})"
    if real == base or real.is_relative_to(base):
        return None
    return f"{shown} resolves to {real}, outside {base_shown}/"


def shown_below(path: Path, root: Path | None) -> str:
    """`path` as written below `root` (not resolved: a link is named where it sits)."""
    if root is not None:
        try:
            return Path(os.path.abspath(path)).relative_to(Path(os.path.abspath(root))).as_posix()
        except ValueError:
            pass
    return str(path)


def plain_relative(rel: str) -> bool:
    """A relative POSIX path that names something inside its folder as written: no absolute path, no
    drive, no backslash, no NUL, no empty, `.` or `..` part. Paths read from lock files must be."""
    if not rel or "\\" in rel or "\0" in rel or rel.startswith("/") or re.match(r"[A-Za-z]:", rel):
        return False
    return all(part not in ("", ".", "..") for part in rel.split("/"))


def files_inside(
    folder: Path, boundary: Path, skip: str | None = None, root: Path | None = None
) -> tuple[list[Path], list[str]]:
    """Every regular file under `folder`, sorted, without following a symbolic link out of `boundary`:
    (files, refusals). A linked file that resolves inside `boundary` is listed (its content is read
    through the link); a link that resolves outside it, or to something that is not a file, is a
    refusal naming it. Linked folders are not walked. `skip`: a top-level folder name left out
    (huggingface_hub's download metadata)."""
    files: list[Path] = []
    refused: list[str] = []
    for top, dirs, names in os.walk(folder, followlinks=False):
        here = Path(top)
        if skip and here == folder:
            dirs[:] = [d for d in dirs if d != skip]
        for name in sorted(dirs):
            if (here / name).is_symlink():
                why = outside(here / name, boundary, root)
                if why:
                    refused.append(why)
        for name in names:
            path = here / name
            if path.is_symlink():
                why = outside(path, boundary, root)
                if why:
                    refused.append(why)
                    continue
            if path.is_file():
                files.append(path)
    return sorted(files), sorted(refused)

"""Paths derived from untrusted data stay inside their folder.

Everything a pull request can change (cards, lock files, smoke reports, imported files) and everything
an upstream clone holds (its tracked symbolic links included) may name a path. Before the product
reads, writes, deletes or walks such a path, it is resolved (symbolic links followed) and must lie
inside the folder it belongs to; otherwise it is refused with the reason. One module, so that every
command applies the same rule.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.settings import Project

CHECKPOINTS = "checkpoints"
"""The folder of a clone that holds its checkpoints (`external_repos/<repo>/checkpoints/`)."""


def outside(path: Path, folder: Path, root: Path | None = None) -> str | None:
    """Why `path`, with its symbolic links resolved, does not lie inside `folder` (None when it does;
    `folder` itself counts as inside). Paths under `root` (the project) are named relative to it."""
    shown, base_shown = _shown(path, root), _shown(folder, root)
    try:
        real, base = path.resolve(), folder.resolve()
    except (OSError, RuntimeError) as exc:  # a link loop (RuntimeError before Python 3.13)
        return f"{shown} cannot be resolved ({exc})"
    if real == base or real.is_relative_to(base):
        return None
    return f"{shown} resolves to {real}, outside {base_shown}/"


def _shown(path: Path, root: Path | None) -> str:
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


def clone_folder(project: Project, repo_name: str) -> tuple[Path, str | None]:
    """`external_repos/<repo_name>` and why it is refused (None when it is not): the clone folder must
    lie inside external_repos/ itself (a committed symbolic link could point it anywhere)."""
    clone = project.repo_dir(repo_name)
    return clone, outside(clone, project.external_repos_dir, project.root)


def checkpoint_folder(project: Project, repo_name: str, rel: str) -> tuple[Path, str | None]:
    """`external_repos/<repo>/checkpoints/<rel>` and why it is refused (None when it is not).

    An upstream repository can track `checkpoints` (or anything below it) as a symbolic link: the
    folder must resolve inside `checkpoints/`, which must resolve inside the clone."""
    clone, why = clone_folder(project, repo_name)
    base = clone / CHECKPOINTS
    path = base / rel
    if why is None:
        why = outside(base, clone, project.root)
    if why is None:
        why = outside(path, base, project.root)
        if why is None and path.resolve() == base.resolve():
            shown = _shown(base, project.root)
            why = f"{shown}/{rel} is {shown}/ itself: name a folder inside it"
    return path, why


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

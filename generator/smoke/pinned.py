"""What runs is exactly what is pinned: the code a checkpoint's configuration names and the upstream
entry point resolve to files of the clone that are tracked at the pinned commit or pinned by sha256 on
the card (`smoke_test.code_sha256`), or the smoke test refuses, naming the file.

transformers resolves an `auto_map` value `DIR--module.Class` (or `hub-id--module.Class`) to a module in
another folder or repository, so pinning the checkpoint folder's files alone would not pin what
`trust_remote_code` runs; and an entry point `module:function` is imported by name, which Python may
find anywhere on `sys.path`.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from generator.exceptions import SmokeError, SmokeStage
from generator.io import sha256_file
from generator.paths import outside

if TYPE_CHECKING:
    from generator.schema.model_card import ModelCard
    from generator.settings import Project

CODE_CONFIGS = ("config.json", "tokenizer_config.json", "processor_config.json", "preprocessor_config.json")
"""The files of a checkpoint whose `auto_map` names code transformers may import."""

MAX_CONFIG_BYTES = 16 * 1024 * 1024
"""A configuration file larger than this is not read for its `auto_map` (no real one comes close)."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def auto_map_refs(ckpt: Path) -> list[tuple[str, str]]:
    """(file, class reference) for every `auto_map` value of the checkpoint's configuration files."""
    out: list[tuple[str, str]] = []
    for name in CODE_CONFIGS:
        path = ckpt / name
        try:
            if not path.is_file() or path.stat().st_size > MAX_CONFIG_BYTES:
                continue
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # loading reports an unreadable configuration itself
        auto_map = data.get("auto_map") if isinstance(data, dict) else None
        for ref in (auto_map or {}).values() if isinstance(auto_map, dict) else []:
            for item in ref if isinstance(ref, list) else [ref]:
                if isinstance(item, str) and item:
                    out.append((name, item))
    return out


def module_file(folder: Path, module: str) -> Path | None:
    """The file of dotted module `module` under `folder` (`a/b.py` or `a/b/__init__.py`), or None when
    the name is not a dotted identifier or no such file exists inside the folder."""
    parts = module.split(".")
    if not all(_IDENTIFIER.fullmatch(p) for p in parts):
        return None
    for candidate in (folder.joinpath(*parts).with_suffix(".py"), folder.joinpath(*parts, "__init__.py")):
        if candidate.is_file() and outside(candidate, folder) is None:
            return candidate
    return None


def code_outside_folder(card: ModelCard, ckpt: Path) -> None:
    """Refuse an `auto_map` entry that names code outside the checkpoint folder (`DIR--module.Class`,
    `hub-id--module.Class`) or a module that is not a file inside it: only the folder's own files,
    which the remote-code check pinned, may run."""
    bad = []
    for name, ref in auto_map_refs(ckpt):
        module = ref.rsplit(".", 1)[0] if "." in ref else ""
        if "--" in ref:
            bad.append(f"{name}: auto_map '{ref}' names code in another folder or repository")
        elif module_file(ckpt, module) is None:
            bad.append(f"{name}: auto_map '{ref}' names no Python file inside the checkpoint folder")
    if bad:
        raise SmokeError(
            f"card '{card.id}': refusing to load {ckpt.name}: {'; '.join(bad)}; only the checkpoint's own "
            "files, pinned in smoke_test.code_sha256, may run",
            SmokeStage.REMOTE_CODE,
        )


def entry_point_file(project: Project, card: ModelCard, ckpt: Path) -> Path:
    """The file of the card's `smoke_test.entry_point` module in its clone, verified: tracked by the
    clone at the pinned commit (the tree is clean, checked before), or inside the checkpoint folder and
    pinned by sha256. Refuses (naming the module or file) a module that is not a file of the clone, a
    name that an installed package or the standard library already answers to, and unpinned code."""
    assert card.smoke_test is not None and card.smoke_test.entry_point
    module = card.smoke_test.entry_point.partition(":")[0]
    clone = project.repo_dir(card.repo.name).resolve()
    prefix = f"card '{card.id}': refusing to run the entry point {card.smoke_test.entry_point}"
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top in sys.builtin_module_names or _installed_elsewhere(top):
        raise SmokeError(
            f"{prefix}: '{top}' is also the name of a module installed here, which Python would import "
            "instead of the upstream code; upstream code runs only from its clone",
            SmokeStage.REMOTE_CODE,
        )
    path = module_file(clone, module)
    if path is None:
        raise SmokeError(
            f"{prefix}: the module '{module}' is not a Python file of {project.rel(clone)} "
            "(module:function names a module inside the upstream repository)",
            SmokeStage.REMOTE_CODE,
        )
    import git

    rel = path.resolve().relative_to(clone).as_posix()
    with git.Repo(clone) as repo:
        if rel in set(repo.git.ls_files("--", rel).splitlines()):
            return path
    pins = card.smoke_test.code_sha256
    in_ckpt = path.resolve().relative_to(ckpt).as_posix() if path.resolve().is_relative_to(ckpt) else None
    if in_ckpt is not None and pins.get(in_ckpt) == sha256_file(path):
        return path
    raise SmokeError(
        f"{prefix}: {project.rel(path)} is not tracked at the pinned commit and not pinned by the card "
        "(smoke_test.code_sha256)",
        SmokeStage.REMOTE_CODE,
    )


def _installed_elsewhere(top: str) -> bool:
    """Whether an import system finder answers to the top-level module name `top` without the clone on
    `sys.path` (an installed package, the standard library, an editable install). Looked up, never
    imported; `sys.modules` is not asked, so a module of another clone loaded before does not count."""
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        try:
            if find is not None and find(top, None) is not None:
                return True
        except (ImportError, ValueError, TypeError):
            continue
    return False

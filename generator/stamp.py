"""The build stamp: lets `kb build` skip MkDocs and the link check when nothing they read has changed.

MkDocs rebuilds every page on every build, so a `kb build` with nothing changed used to cost a whole
MkDocs build plus a link check. After a build that passed, the stamp records a hash of everything
MkDocs reads (mkdocs.yml, every file of docs_dir, the theme overrides, the PDFs it copies, this
package's own code, the versions of MkDocs, its plugins and Markdown extensions, the strict flag, the
engine) and a
listing of what it wrote (every file of site/ with its size and modification time). The next build
skips both stages only when both are the same: a changed page, a new PDF, an edited theme file, or a
file deleted or touched in site/ all rebuild. `kb build --force` rebuilds regardless.

Never stamped, so always built: a build that printed a warning (it is shown again next time), and a
configuration whose inputs the stamp cannot see (`INHERIT`, `hooks` in mkdocs.yml). The values of the
environment variables that mkdocs.yml reads with `!ENV` are hashed with it.

The stamp lives in `.kb-cache/`, not in site/, so it is never deployed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from generator.io import atomic_write_bytes
from generator.layout import Layout
from generator.settings import CONFIG_FILE, Project

STAMP_FILE = f"{Layout.CACHE_FOLDER}/build-stamp.json"
STAMP_VERSION = 1
_PACKAGES = (
    "mkdocs",
    "mkdocs-material",
    "pymdown-extensions",
    "markdown",
    "pygments",
    "lxml",
    "foundation-model-kb",
)
_UNSEEN = ("INHERIT:", "hooks:")
"""mkdocs.yml features that bring in inputs the stamp does not hash."""
_PACKAGE_DIR = Path(__file__).resolve().parent


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "none"


def inputs_hash(project: Project, *, strict: bool, engine: str = "mkdocs") -> str | None:
    """A hash of everything the MkDocs build and the link check read; None when that cannot be known
    (no mkdocs.yml: MkDocs reports it; or a configuration that reads inputs the stamp cannot see)."""
    try:
        config_text = (project.root / CONFIG_FILE).read_bytes()
    except OSError:
        return None
    if any(marker.encode() in config_text for marker in _UNSEEN):
        return None
    h = hashlib.sha256(f"v{STAMP_VERSION}\0strict={strict}\0engine={engine}\0".encode())
    for package in _PACKAGES:
        h.update(f"{package}={_version(package)}\0".encode())
    h.update(config_text)
    for name in sorted(set(re.findall(rb"!ENV\s*\[?\s*([A-Za-z_][A-Za-z0-9_]*)", config_text))):
        h.update(b"\0env:" + name + b"=" + os.environ.get(name.decode(), "").encode())
    theme = project.mkdocs_config.get("theme")
    custom_dir = theme.get("custom_dir") if isinstance(theme, dict) else None
    # kb/: each card's YAML is published with the site.
    folders = [project.docs_dir, _PACKAGE_DIR, project.kb_dir]
    folders += [project.path(str(custom_dir))] if custom_dir else []
    for folder in folders:
        for path in _files(folder):
            if "__pycache__" in path.parts:
                continue
            h.update(f"\0{folder.name}/{path.relative_to(folder).as_posix()}\0".encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())
    # PDFs are copied as they are: their size and time say whether they were rewritten.
    for path in _files(project.pdf_dir):
        st = path.stat()
        h.update(f"\0pdf/{path.name}\0{st.st_size}\0{st.st_mtime_ns}".encode())
    return h.hexdigest()


def outputs_hash(site_dir: Path) -> str:
    """A listing of site/ (paths, sizes, modification times): changes when anything there is touched."""
    h = hashlib.sha256()
    for path in _files(site_dir):
        st = path.stat()
        h.update(f"{path.relative_to(site_dir).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return h.hexdigest()


@dataclass
class BuildStamp:
    """The inputs of a build about to run, compared with those of the last build that passed."""

    project: Project
    inputs: str | None
    """None: never up to date, never saved."""

    @classmethod
    def of(cls, project: Project, *, strict: bool, engine: str = "mkdocs") -> BuildStamp:
        return cls(project, inputs_hash(project, strict=strict, engine=engine))

    @property
    def path(self) -> Path:
        return self.project.root / STAMP_FILE

    def up_to_date(self) -> bool:
        """True when the last build that passed read the same inputs and site/ is as it left it."""
        if self.inputs is None:
            return False
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return (
            isinstance(saved, dict)
            and saved.get("site_dir") == str(self.project.site_dir)
            and saved.get("inputs") == self.inputs
            and saved.get("outputs") == outputs_hash(self.project.site_dir)
        )

    def save(self) -> None:
        """Record a build that passed (after MkDocs and the link check) without a warning."""
        if self.inputs is None:
            return
        data = {
            "version": STAMP_VERSION,
            "site_dir": str(self.project.site_dir),
            "inputs": self.inputs,
            "outputs": outputs_hash(self.project.site_dir),
        }
        atomic_write_bytes(self.path, json.dumps(data, indent=1).encode())

    def forget(self) -> None:
        self.path.unlink(missing_ok=True)

"""Everything that shapes a PDF, hashed: the cache key that lets an unchanged card cost nothing.

A PDF depends on its card file, on its facts (`generator.facts.CardFacts`: license, pin, citations
from the lock file, related cards' names, smoke status...), on every print template and stylesheet
(overrides included), on the fonts it uses, on the versions of WeasyPrint and the libraries feeding it,
on this package's own PDF code, and on the date printed in it. The shared part is hashed once per run
(`Fingerprint`); each card adds its text, its facts' digest and its date, so a fact added to the PDF
is in the key without anyone having to list it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import generator
from generator.gitdates import last_commits

LIBRARIES = (
    "weasyprint",
    "pydyf",
    "tinycss2",
    "tinyhtml5",
    "cssselect2",
    "pygments",
    "markdown",
    "jinja2",
    "lxml",
)
"""Packages whose version can change the bytes of a PDF."""

_CODE_FILES = (
    "pdf",
    "sections",
    "render/markup.py",
    "render/jinja.py",
    "schema/labels.py",
    "facts.py",
    "layout.py",
)
"""This package's code that shapes a PDF (relative to the package folder)."""

_FAMILY = re.compile(r"font-family\s*:\s*([^;}]+)", re.IGNORECASE)
_GENERIC = {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui", "inherit", "initial"}


@dataclass(frozen=True)
class Fingerprint:
    """The inputs shared by every PDF of one run, hashed; `fonts` lists the font files it covers."""

    digest: str
    fonts: tuple[str, ...]

    def card_key(self, card_text: str, facts_digest: str, date: int) -> str:
        """The key of one card's PDF: shared inputs + the card's text + its facts' digest + date."""
        h = hashlib.sha256(self.digest.encode())
        h.update(b"\0card\0" + card_text.encode("utf-8"))
        h.update(f"\0facts={facts_digest}\0date={date}\0".encode())
        return h.hexdigest()


def fingerprint(template_files: Iterable[Path]) -> Fingerprint:
    """Hash the templates (path and bytes), the fonts their CSS names, library versions and our code."""
    files = list(template_files)
    h = hashlib.sha256()
    h.update(code_version().encode())
    for path in files:
        h.update(b"\0template\0" + path.name.encode() + b"\0")
        h.update(path.read_bytes())
    css = "\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in files if p.suffix in (".css", ".j2", ".html")
    )
    fonts = font_files(tuple(sorted(css_families(css))))
    for font in fonts:
        h.update(b"\0font\0" + font.encode() + b"\0" + _file_digest(font).encode())
    return Fingerprint(h.hexdigest(), fonts)


@lru_cache(maxsize=1)
def code_version() -> str:
    """Versions of the rendering libraries plus a hash of this package's PDF code."""
    h = hashlib.sha256(f"foundation-model-kb {generator.__version__}".encode())
    for name in LIBRARIES:
        try:
            h.update(f"\0{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"\0{name}=absent".encode())
    package = Path(generator.__file__).parent
    for rel in _CODE_FILES:
        target = package / rel
        for path in sorted(target.rglob("*.py")) if target.is_dir() else [target]:
            h.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def css_families(css: str) -> set[str]:
    """Font family names the stylesheets ask for (generic keywords left out)."""
    names = set()
    for m in _FAMILY.finditer(css):
        for name in m.group(1).split(","):
            name = name.strip().strip("'\"").strip()
            if name and name.lower() not in _GENERIC and not name.startswith(("var(", "{")):
                names.add(name)
    return names


@lru_cache(maxsize=8)
def font_files(families: tuple[str, ...]) -> tuple[str, ...]:
    """Installed font files of those families, from fontconfig (empty when fc-list is unavailable)."""
    fc_list = shutil.which("fc-list")
    if not families or fc_list is None:
        return ()
    try:
        out = subprocess.run(
            [fc_list, "--format", "%{file}\t%{family}\n"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    wanted = {f.lower() for f in families}
    found = set()
    for line in out.splitlines():
        file, _, family = line.partition("\t")
        if any(name.strip().lower() in wanted for name in family.split(",")):
            found.add(file)
    return tuple(sorted(found))


@lru_cache(maxsize=256)
def _file_digest(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "unreadable"


def card_dates(root: Path, files: Iterable[Path]) -> dict[Path, int]:
    """The date printed in each card's PDF, as a Unix time, never the wall clock.

    `SOURCE_DATE_EPOCH` when set (reproducible-builds.org); else the card file's last git commit;
    else the file's modification time.
    """
    files = [f.resolve() for f in files]
    env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if env.isdigit():
        return dict.fromkeys(files, int(env))
    committed = last_commits(root, {f.parent for f in files})
    return {f: committed.get(f) or int(f.stat().st_mtime) for f in files}

"""Code citations: what a page or PDF shows for a walkthrough step that cites upstream code.

The snippet comes from the card's lock file (`<id>.lock.yaml` beside the card), which
`kb repos sync --update-citations` fills from the pinned commit, so pages build without the repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.schema.model_card import Repo
from generator.schema.walkthrough import CodeCitation

LANGUAGES = {
    ".py": "python", ".pyx": "cython", ".sh": "bash", ".yaml": "yaml", ".yml": "yaml",
    ".json": "json", ".md": "markdown", ".cu": "cuda", ".cpp": "cpp", ".cc": "cpp", ".c": "c",
    ".h": "c", ".hpp": "cpp", ".rs": "rust", ".js": "javascript", ".ts": "typescript",
    ".toml": "toml", ".cfg": "ini", ".ini": "ini", ".txt": "text", ".ipynb": "json", ".r": "r",
    ".jl": "julia",
}


@dataclass(frozen=True)
class CitationView:
    """A citation ready to render: where it points and, when known, the snippet itself."""

    path: str
    start: int
    end: int
    language: str
    permalink: str | None
    snippet: str | None
    """The cited lines from the pinned commit; None until `kb repos sync` has filled the lock file."""


def language_for(path: str, explicit: str | None = None) -> str:
    if explicit:
        return explicit
    return LANGUAGES.get(Path(path).suffix.lower(), "text")


def permalink(repo: Repo, path: str, start: int, end: int,
              templates: dict[str, str] | None = None) -> str | None:
    """`<url>/blob/<commit>/<path>#L<a>-L<b>` for GitHub and GitLab; per-host patterns from settings."""
    url = repo.url.removesuffix("/").removesuffix(".git")
    ref = repo.commit or repo.tag
    if not url.startswith(("http://", "https://")) or not ref:
        return None
    host = url.split("/")[2].lower()
    for pattern_host, pattern in (templates or {}).items():
        if host == pattern_host.lower():
            return pattern.format(url=url, commit=ref, path=path, start=start, end=end)
    if host in ("github.com", "gitlab.com") or host.startswith("gitlab."):
        return f"{url}/blob/{ref}/{path}#L{start}-L{end}"
    return None


def lock_path(card_path: Path) -> Path:
    return card_path.with_name(card_path.stem + ".lock.yaml")


def read_lock(card_path: Path) -> dict[str, Any]:
    """The card's lock file as plain data (empty when absent or unreadable)."""
    from ruamel.yaml import YAML

    path = lock_path(card_path)
    if not path.exists():
        return {}
    try:
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except Exception:
        return {}
    return data if isinstance(data, dict) else {}


def citation_view(repo: Repo, cite: CodeCitation, lock: dict[str, Any],
                  templates: dict[str, str] | None = None) -> CitationView:
    """The view of one citation; the snippet is used only if the lock matches path, range and pin."""
    start, end = cite.lines
    snippet = None
    if lock.get("commit") in (repo.commit, None):
        for entry in lock.get("citations", []) or []:
            if entry.get("path") == cite.path and list(entry.get("lines", [])) == [start, end]:
                snippet = entry.get("snippet")
                break
    return CitationView(cite.path, start, end, language_for(cite.path, cite.language),
                        permalink(repo, cite.path, start, end, templates), snippet)

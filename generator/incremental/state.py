"""What an incremental MkDocs build needs to know of the last build: for each page of docs_dir, the hash
of its Markdown and what MkDocs made of it (title, anchors, the HTML the theme was given and its table
of contents), the navigation's signature, every file of the site, and what makes every page stale.

`mkdocs serve` keeps it in memory between rebuilds. `kb build` saves it in `.kb-cache/site-state/`
(`save` / `load`), with a listing of the site it describes: it is used only while `site/` is exactly
as that build left it (a site touched, or built by anything else, is built again in full).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from generator.io import atomic_write_bytes
from generator.layout import Layout

STATE_VERSION = 1

Toc = list[list[Any]]
"""A page's table of contents as data: `[title, id, level, children]` per entry."""


@dataclass
class PageState:
    """What MkDocs made of one page of docs_dir."""

    source: str
    """sha256 of the page's Markdown file."""
    title: str | None
    """The title MkDocs found in the rendered page (its first heading)."""
    anchors: list[str] | None
    """The ids the page's content holds (MkDocs' anchor validation of links into it)."""
    content: str | None = None
    """The HTML the theme was given for the page's article, after every plugin; None until loaded."""
    toc: Toc | None = None
    nav_key: str = ""
    """What the navigation shows of the page (title, icon, subtitle, status)."""
    blob: str = ""
    """Where `kb build` keeps `content` and `toc` (a file named by their hash)."""

    def body(self) -> dict[str, Any]:
        return {"content": self.content, "toc": self.toc}


@dataclass
class SiteState:
    """The last build, as the next incremental one needs it."""

    signature: str
    """A hash of what shapes every page (mkdocs.yml, the theme, versions): any change rebuilds all."""
    nav: str
    """The navigation's structure and the pages of docs_dir."""
    pages: dict[str, PageState] = field(default_factory=dict)
    """By `src_uri`."""
    files: list[str] = field(default_factory=list)
    """`dest_uri` of every file MkDocs knew: the outputs of one no longer there are removed."""
    outputs: str = ""
    """`kb build`: the listing of site/ after the build (`generator.stamp.outputs_hash`)."""

    # -- kept by kb build --------------------------------------------------------------------------

    @classmethod
    def load(cls, layout: Layout) -> SiteState | None:
        """The state `kb build` saved; None when there is none (or it is not ours)."""
        try:
            data = json.loads(layout.site_state_file.read_text(encoding="utf-8"))
            if data.get("version") != STATE_VERSION:
                return None
            pages = {
                str(uri): PageState(
                    str(p["source"]),
                    None if p["title"] is None else str(p["title"]),
                    None if p["anchors"] is None else [str(a) for a in p["anchors"]],
                    nav_key=str(p["nav_key"]),
                    blob=str(p["blob"]),
                )
                for uri, p in data["pages"].items()
            }
            return cls(
                str(data["signature"]),
                str(data["nav"]),
                pages,
                [str(f) for f in data["files"]],
                str(data["outputs"]),
            )
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None

    def load_bodies(self, layout: Layout, uris: set[str]) -> bool:
        """Read the content and table of contents of `uris` (kb build, when the navigation changed and
        their pages are themed again); False when one is missing."""
        for uri in uris:
            page = self.pages.get(uri)
            if page is None:
                return False
            if page.content is not None:
                continue
            try:
                body = json.loads(layout.site_state_blob(page.blob).read_text(encoding="utf-8"))
                page.content, page.toc = str(body["content"]), list(body["toc"])
            except (OSError, ValueError, TypeError, KeyError):
                return False
        return True

    def save(self, layout: Layout) -> None:
        """Write the state (each page's content once, in a file named by its hash; files no page names
        any more are removed)."""
        for page in self.pages.values():
            if page.content is None:
                continue  # not rebuilt: its file is still there
            body = json.dumps(page.body(), separators=(",", ":")).encode()
            page.blob = hashlib.sha256(body).hexdigest()
            target = layout.site_state_blob(page.blob)
            if not target.exists():
                atomic_write_bytes(target, body)
        data = {
            "version": STATE_VERSION,
            "signature": self.signature,
            "nav": self.nav,
            "outputs": self.outputs,
            "files": self.files,
            "pages": {
                uri: {
                    "source": p.source,
                    "title": p.title,
                    "anchors": p.anchors,
                    "nav_key": p.nav_key,
                    "blob": p.blob,
                }
                for uri, p in sorted(self.pages.items())
            },
        }
        atomic_write_bytes(layout.site_state_file, json.dumps(data, separators=(",", ":")).encode())
        named = {layout.site_state_blob(p.blob) for p in self.pages.values()}
        blobs = layout.site_state_blob("x").parent
        for path in blobs.iterdir() if blobs.is_dir() else []:
            if path not in named:
                path.unlink(missing_ok=True)

    @staticmethod
    def forget(layout: Layout) -> None:
        layout.site_state_file.unlink(missing_ok=True)

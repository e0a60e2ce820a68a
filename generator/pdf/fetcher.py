"""The only way WeasyPrint may read a resource: files under the templates and `kb/assets/`, nothing else.

Card text is untrusted. A Markdown image pointing at `file:///etc/passwd`, at `../../outside.png` or at
any http(s) URL must not be read or fetched: the fetcher refuses it, records a warning naming the card
and the URL, and the PDF is produced without that resource.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse


class BlockedURL(ValueError):
    """Raised for a URL outside the allowed folders; WeasyPrint skips the resource."""


class SafeFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves `file:` URLs under `roots` and refuses everything else."""

    def __init__(self, roots: Sequence[Path], where: str):
        super().__init__(timeout=1, allowed_protocols=("file",), allow_redirects=False)
        self.roots = [r.resolve() for r in roots]
        self.where = where
        self.blocked: list[str] = []
        """Human-readable reasons, one per refused URL, in the order WeasyPrint asked."""

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        path = self._allowed_path(url)
        if path is None:
            raise BlockedURL(f"not fetched: {url}")
        mime, _ = mimetypes.guess_type(path.name)
        return URLFetcherResponse(
            path.as_uri(), path.read_bytes(), headers={"Content-Type": mime or "application/octet-stream"}
        )

    def _allowed_path(self, url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.scheme.lower() != "file":
            self._block(
                url,
                "only files under the templates and kb/assets/ are embedded; "
                "remote and other URLs are never fetched",
            )
            return None
        if parts.netloc not in ("", "localhost"):
            self._block(url, "file URLs on other hosts are not read")
            return None
        # resolve() follows symlinks, so a link inside kb/assets/ pointing outside is refused too.
        path = Path(url2pathname(unquote(parts.path))).resolve()
        if not any(path.is_relative_to(root) for root in self.roots):
            self._block(url, "the file is outside the templates and kb/assets/")
            return None
        if not path.is_file():
            self._block(url, "no such file under kb/assets/ or the templates")
            return None
        return path

    def _block(self, url: str, reason: str) -> None:
        shown = url if len(url) <= 120 else url[:117] + "..."
        message = f"{self.where}: did not fetch {shown}: {reason}"
        if message not in self.blocked:
            self.blocked.append(message)

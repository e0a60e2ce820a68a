"""Fixtures for the CI checks: small built sites written by hand, a local HTTP server."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

PDF = b"%PDF-1.7\n%%EOF\n"


def page(body: str, title: str = "Page", head: str = "") -> str:
    """A page shaped like MkDocs-Material output (navigation, Material's own ids, assets)."""
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>{head}
<link rel="stylesheet" href="/assets/main.css"></head><body>
<input id="__drawer" type="checkbox"><input id="__search" type="checkbox">
<a href="#__drawer">menu</a> <a href="javascript:void(0)">js</a> <a href="mailto:a@example.org">mail</a>
<img src="data:image/png;base64,iVBORw0KGgo=" alt="">
<article>{body}</article></body></html>
"""


def write_site(root: Path, pages: dict[str, str], files: dict[str, bytes] | None = None) -> Path:
    """A built site: HTML bodies by path (wrapped in `page`), other files by path."""
    (root / "assets").mkdir(parents=True, exist_ok=True)
    (root / "assets" / "main.css").write_text("body{}")
    for rel, body in pages.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page(body), encoding="utf-8")
    for rel, data in (files or {}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


class Handler(BaseHTTPRequestHandler):
    """Endpoints for the external check; counts every request by (method, path)."""

    hits: Counter[tuple[str, str]] = Counter()

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def _answer(self, method: str) -> None:
        self.hits[(method, self.path)] += 1
        path = self.path
        if path == "/ok":
            self._send(200)
        elif path == "/missing":
            self._send(404)
        elif path == "/busy":
            # Rate limited on the first request only: the checker must wait Retry-After, then retry.
            if sum(n for (_, p), n in self.hits.items() if p == "/busy") == 1:
                self._send(429, {"Retry-After": "1"})
            else:
                self._send(200)
        elif path == "/always-busy":
            self._send(429, {"Retry-After": "0"})
        elif path == "/slow":
            time.sleep(1.5)
            self._send(200)
        elif path == "/moved":
            self._send(301, {"Location": "/ok"})
        elif path == "/no-head":
            self._send(405 if method == "HEAD" else 200)
        else:
            self._send(404)

    def _send(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self) -> None:
        self._answer("HEAD")

    def do_GET(self) -> None:
        self._answer("GET")


@pytest.fixture
def server() -> Iterator[tuple[str, Counter[tuple[str, str]]]]:
    """A local HTTP server on 127.0.0.1: (base URL, request counter)."""
    Handler.hits = Counter()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", Handler.hits
    finally:
        httpd.shutdown()
        httpd.server_close()

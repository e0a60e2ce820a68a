"""A local model hub for the tests: a real HTTP server on 127.0.0.1 answering the endpoints
huggingface_hub 0.x uses for `model_info` and `snapshot_download` into a local folder:

- `GET /api/models/{repo}/revision/{rev}`: the commit `sha` that `rev` (a branch, a tag or a commit)
  names, and the file list (`siblings`);
- `HEAD` and `GET /{repo}/resolve/{rev}/{file}`: `X-Repo-Commit`, `ETag`, and for weight (LFS) files
  `X-Linked-Etag` (their sha256) and `X-Linked-Size`; `GET` honours `Range: bytes=N-` (206) to resume.

Errors carry `X-Error-Code` (`RepoNotFound`, `RevisionNotFound`, `EntryNotFound`, `GatedRepo`) as the
hub's do, so the client raises its own typed errors. The server runs in a thread of the test process
and is stopped by the fixture; every request is logged in `requests` for the tests to inspect.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

LFS_SUFFIXES = (".safetensors", ".bin")


@dataclass
class HubRepo:
    commit: str
    files: dict[str, bytes]
    refs: dict[str, str] = field(default_factory=dict)
    """Branches and tags -> the commit each names (`main` names `commit` unless given here)."""

    def resolve(self, rev: str) -> str | None:
        """The commit `rev` (a branch, a tag or a commit) names, or None when the hub knows no such."""
        refs = {"main": self.commit, **self.refs}
        if rev in refs:
            return refs[rev]
        return rev if rev in (self.commit, *refs.values()) else None


@dataclass
class LocalHub:
    """The hub's state: repositories by id, interruptions to play, and the requests seen."""

    repos: dict[str, HubRepo] = field(default_factory=dict)
    cut: dict[str, int] = field(default_factory=dict)
    """file name -> bytes after which the next GET of it breaks the connection (an interrupted download)."""
    gated: dict[str, str] = field(default_factory=dict)
    """repo id -> the access token it asks for (a gated model: 401 `GatedRepo` without it)."""
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    """(method, path, Range header) of every request."""
    url: str = ""

    def add(self, repo_id: str, commit: str, folder: Path) -> None:
        files = {
            p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and ".cache" not in p.relative_to(folder).parts
        }
        self.repos[repo_id] = HubRepo(commit, files)


API = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+)/revision/(?P<rev>[^/?]+)")
RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>[^?]+)")


def _handler(hub: LocalHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the tests read hub.requests instead

        def _error(self, status: int, code: str) -> None:
            body = json.dumps({"error": code}).encode()
            self.send_response(status)
            self.send_header("X-Error-Code", code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _repo(self, repo_id: str, rev: str) -> HubRepo | None:
            repo = hub.repos.get(repo_id)
            if repo is None:
                self._error(404, "RepoNotFound")
                return None
            token = hub.gated.get(repo_id)
            if token is not None and self.headers.get("Authorization") != f"Bearer {token}":
                self._error(401, "GatedRepo")
                return None
            if repo.resolve(unquote(rev)) is None:
                self._error(404, "RevisionNotFound")
                return None
            return repo

        def do_GET(self) -> None:
            hub.requests.append((self.command, self.path, self.headers.get("Range")))
            if m := API.match(self.path):
                self._info(m["repo"], m["rev"])
            elif m := RESOLVE.match(self.path):
                self._file(m["repo"], m["rev"], m["file"])
            else:
                self._error(404, "RepoNotFound")

        do_HEAD = do_GET

        def _info(self, repo_id: str, rev: str) -> None:
            repo = self._repo(repo_id, rev)
            if repo is None:
                return
            body = json.dumps(
                {
                    "id": repo_id,
                    "modelId": repo_id,
                    "sha": repo.resolve(unquote(rev)),
                    "private": False,
                    "siblings": [{"rfilename": name} for name in repo.files],
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _file(self, repo_id: str, rev: str, name: str) -> None:
            repo = self._repo(repo_id, rev)
            if repo is None:
                return
            if name not in repo.files:
                self._error(404, "EntryNotFound")
                return
            data = repo.files[name]
            start = 0
            ranged = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
            if ranged and self.command == "GET":
                start = int(ranged[1])
            self.send_response(206 if start else 200)
            self.send_header("X-Repo-Commit", str(repo.resolve(unquote(rev))))
            self.send_header("Accept-Ranges", "bytes")
            if name.endswith(LFS_SUFFIXES):
                self.send_header("X-Linked-Etag", f'"{hashlib.sha256(data).hexdigest()}"')
                self.send_header("X-Linked-Size", str(len(data)))
            self.send_header("ETag", f'"{hashlib.sha1(data).hexdigest()}"')
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            cut = hub.cut.pop(name, None) if self.command == "GET" else None
            if cut is not None:
                # Streamed in chunks, the client writes what arrived before the connection broke.
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                part = data[start:cut]
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)  # the connection breaks mid-file
                return
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            if self.command == "HEAD":
                return
            self.wfile.write(data[start:])

    return Handler


def serve(hub: LocalHub) -> Iterator[LocalHub]:
    """Run the hub on 127.0.0.1 (a free port) until the generator is closed."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

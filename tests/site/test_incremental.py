"""An incremental build gives the site a full build gives, after every kind of edit an author makes.

`kb build` after an edit builds only what depends on it (MkDocs' dirty build into a copy of the last
site); `mkdocs serve` rebuilds the same way, in a real server process. After each edit (a card's text,
its name, its modality, a new card, a card removed), every file of the site is compared with a full
build of the same sources (`kb build --force` in a copy of the project; for serve, a full MkDocs build
with the server's URL). Compared as built, byte for byte, except:

- `sitemap.xml.gz` is compared decompressed (gzip stores the time it was written);
- pages fetched from the server lose the live-reload script the server adds to each response;
- both builds run with the same `SOURCE_DATE_EPOCH` (MkDocs stamps each page with the build date).
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from generator.cli import main
from tests.factory import make_card, write_card
from tests.site.conftest import TINY_HYENA, model

EPOCH = "1700000000"


def _files(site: Path) -> dict[str, bytes]:
    """Every file of a built site (relative path -> bytes, gzip files decompressed)."""
    out = {}
    for path in sorted(site.rglob("*")):
        if path.is_file():
            rel = path.relative_to(site).as_posix()
            data = path.read_bytes()
            out[rel] = gzip.decompress(data) if rel.endswith(".gz") else data
    return out


def _differences(got: dict[str, bytes], want: dict[str, bytes]) -> list[str]:
    missing = [f"missing: {p}" for p in sorted(set(want) - set(got))]
    extra = [f"extra: {p}" for p in sorted(set(got) - set(want))]
    differ = [f"differs: {p}" for p in sorted(set(got) & set(want)) if got[p] != want[p]]
    return missing + extra + differ


# -- the edits, in the order an author might make them ------------------------------------------------


def _content(root: Path) -> str:
    write_card(
        root,
        model("tiny-hyena", **TINY_HYENA, summary="A Hyena model, its summary edited."),
    )
    return "models/tiny-hyena/"


def _name(root: Path) -> str:
    write_card(
        root,
        model(
            "tiny-bert",
            name="Tiny Bert Renamed",
            selection={"best_for": ["short variant effects"], "avoid_for": ["long contexts"]},
        ),
    )
    return "models/tiny-bert/"


def _modality(root: Path) -> str:
    write_card(
        root,
        model(
            "tiny-bert",
            name="Tiny Bert Renamed",
            modality="fmri",
            tokenization__kind="roi-tensors",
            selection={"best_for": ["short variant effects"], "avoid_for": ["long contexts"]},
        ),
    )
    return "models/tiny-bert/"


def _new_card(root: Path) -> str:
    write_card(
        root, model("tiny-newcomer", related={"models": ["tiny-brain"], "datasets": ["synthetic-dna"]})
    )
    return "models/tiny-newcomer/"


def _removed_card(root: Path) -> str:
    (root / "kb" / "model_cards" / "tiny-hyena.yaml").unlink()
    return "models/tiny-hyena/"


EDITS: list[tuple[str, Callable[[Path], str]]] = [
    ("content", _content),
    ("name", _name),
    ("modality", _modality),
    ("new card", _new_card),
    ("removed card", _removed_card),
]


# -- kb build -------------------------------------------------------------------------------------------


def _kb_build(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["-C", str(root), "build", *args]) == 0, capsys.readouterr().err[-3000:]
    return capsys.readouterr().err


@pytest.mark.slow
def test_one_card_kb_build_gives_the_full_builds_site_after_each_kind_of_edit(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    _kb_build(project, capsys)  # the first build is a full one
    for what, edit in EDITS:
        edit(project)
        said = _kb_build(project, capsys)
        assert "kept from the last build" in said, f"{what}: not an incremental build:\n{said}"
        if what == "content":
            # Only the edited card's page, the pages listing it and the tags page were built again.
            built = int(re.search(r"kb: site: (\d+) page\(s\) built again", said).group(1))  # type: ignore[union-attr]
            assert built < 6, said
            assert "link check: every internal link, anchor and PDF of the" in said
        reference = tmp_path / f"full-{what.replace(' ', '-')}"
        shutil.copytree(project, reference, ignore=shutil.ignore_patterns("site", ".kb-cache"))
        _kb_build(reference, capsys, "--force")
        assert _differences(_files(project / "site"), _files(reference / "site")) == [], what


# -- mkdocs serve ---------------------------------------------------------------------------------------


def _livereload_stripped(html: bytes) -> bytes:
    """The page as built: the server adds its live-reload script just before `</body>`."""
    return re.sub(rb"<script>\s*var livereload = function\(.*?</script>(?=</body>)", b"", html, flags=re.S)


class _Server:
    """A real `mkdocs serve` of the project, and its log."""

    def __init__(self, root: Path, log: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = log
        env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "SOURCE_DATE_EPOCH": EPOCH}
        with log.open("w", encoding="utf-8") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", f"127.0.0.1:{self.port}"],
                cwd=root,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def get(self, rel: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url + rel, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, b""

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def wait_until(self, check: Callable[[], bool], what: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mkdocs serve: {what} did not happen:\n{self.text()[-5000:]}")
            time.sleep(0.3)

    def quiet(self, seconds: float = 1.5) -> bool:
        """The log has not grown for `seconds` (the watcher's report of the server's own writes, if it
        comes, comes within that)."""
        size = len(self.text())
        time.sleep(seconds)
        return len(self.text()) == size and self.settled(0)

    def settled(self, since: int) -> bool:
        """The rebuilds started after `since` (a log offset) are done and no page waits for its turn."""
        log = self.text()[since:]
        builds = log.count("Building documentation") + log.count("Detected file changes")
        if not builds:
            return False
        lines = [line for line in log.splitlines() if '"GET /' not in line]  # the requests it answered
        tail = lines[-1] if lines else ""
        return "refreshed next" not in log.rsplit("kb: ", 1)[-1] and "Reloading browsers" in tail

    def reload_after(self, epoch: int, timeout: float = 120) -> int | None:
        """What a page's live-reload script asks (`/livereload/<epoch>/<id>`): the server answers with a
        newer site's epoch as soon as there is one (the page then reloads); None when it did not
        within `timeout`."""
        try:
            with urllib.request.urlopen(f"{self.url}livereload/{epoch}/1", timeout=timeout) as response:
                answer = int(response.read())
        except TimeoutError:
            return None
        return answer if answer > epoch else None


def _epoch(html: bytes) -> int:
    """The site's epoch the server wrote into a page's live-reload script."""
    found = re.search(rb"livereload\((\d+), \d+\);", html)
    assert found, html[-500:]
    return int(found.group(1))


@pytest.fixture
def server(project: Path, tmp_path: Path) -> Iterator[_Server]:
    srv = _Server(project, tmp_path / "serve.log")
    try:
        srv.wait_until(lambda: _up(srv), "the first build")
        yield srv
    finally:
        srv.proc.terminate()
        try:
            srv.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            srv.proc.kill()
            srv.proc.wait()


def _up(srv: _Server) -> bool:
    try:
        return srv.get("")[0] == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _full_build(root: Path, copy: Path, url: str) -> Path:
    """The site a full MkDocs build (with the `kb` plugin) gives for the project's sources, served at
    `url` (the server gives every page its canonical URL)."""
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("site", ".kb-cache"))
    (copy / "mkdocs.yml").write_text(
        (copy / "mkdocs.yml").read_text(encoding="utf-8") + f"\nsite_url: {url}\n", encoding="utf-8"
    )
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--quiet"],
        cwd=copy,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "SOURCE_DATE_EPOCH": EPOCH},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return copy / "site"


@pytest.mark.slow
def test_mkdocs_serve_rebuilds_incrementally_to_the_full_builds_site_after_each_kind_of_edit(
    project: Path, server: _Server, tmp_path: Path
) -> None:
    # One page's worth of new navigation per rebuild: the other pages follow in later rebuilds. No PDFs
    # (`mkdocs serve` renders none; the full build to compare with would).
    config = project / "mkdocs.yml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "  - kb\n", "  - kb:\n      serve_refresh_s: 0\n      pdf: false\n"
        ),
        encoding="utf-8",
    )
    server.wait_until(lambda: server.settled(0), "the rebuild for mkdocs.yml")
    for what, edit in EDITS:
        since = len(server.text())
        page = edit(project)
        if what == "removed card":
            server.wait_until(lambda page=page: server.get(page)[0] == 404, f"{what}: {page} removed")
        server.wait_until(lambda since=since: server.settled(since), f"{what}: the rebuilds")
        server.wait_until(server.quiet, f"{what}: the server's echo of its own writes")
        log = server.text()[since:]
        # Its own page writes start no second build (the watcher may or may not report them, as one
        # event with the edit or as one of their own), and no rebuild builds every page again.
        assert log.count("page(s) written") == 1, log
        assert "Cleaning site directory" not in log, log
        if "refreshed next" not in log and log.count("Detected file changes") > 1:
            assert "nothing changed but the pages this server wrote itself" in log, log
        want = _files(_full_build(project, tmp_path / "full", server.url))
        got = {}
        for rel in want:
            status, body = server.get(rel)
            assert status == 200, f"{what}: {rel} answers {status}"
            body = gzip.decompress(body) if rel.endswith(".gz") else body
            got[rel] = _livereload_stripped(body) if rel.endswith(".html") else body
        if _differences(got, want) and os.environ.get("KB_DEBUG_DUMP"):
            for rel, data in got.items():
                (tmp_path / "got" / rel).parent.mkdir(parents=True, exist_ok=True)
                (tmp_path / "got" / rel).write_bytes(data)
        assert _differences(got, want) == [], f"{what}:\n{log}"
        if what == "name":
            # The renamed card's page was served first; the other pages followed, one per rebuild.
            assert "is refreshed next" in log, log


@pytest.mark.slow
def test_mkdocs_serve_reloads_the_browser_once_per_saved_card(project: Path, server: _Server) -> None:
    status, html = server.get("models/tiny-hyena/")
    assert status == 200
    shown = _epoch(html)
    page = _content(project)
    newer = server.reload_after(shown)
    assert newer is not None, server.text()[-3000:]
    assert b"A Hyena model, its summary edited." in server.get(page)[1]
    # The pages the rebuild wrote into the docs folder are no change of the author's: the browser is
    # not told to reload a second time, and a page asked for meanwhile is answered at once.
    server.wait_until(server.quiet, "the server's echo of its own writes")
    assert server.reload_after(newer, timeout=3) is None, server.text()[-3000:]
    started = time.monotonic()
    assert server.get(page)[0] == 200
    assert time.monotonic() - started < 2


@pytest.mark.slow
def test_mkdocs_serve_says_a_warning_again_only_when_it_changed(project: Path, server: _Server) -> None:
    # A card related to nothing draws a warning; saving another card does not list it again.
    since = len(server.text())
    write_card(project, make_card(id="tiny-alone", name="Tiny Alone"))
    server.wait_until(lambda: server.get("models/tiny-alone/")[0] == 200, "the new card's page")
    server.wait_until(server.quiet, "the rebuild for the new card")
    warned = [line for line in server.text()[since:].splitlines() if "tiny-alone.yaml" in line]
    assert warned and all(line.startswith("WARNING") for line in warned), server.text()[since:]
    since = len(server.text())
    page = _content(project)
    server.wait_until(lambda: b"A Hyena model, its summary edited." in server.get(page)[1], "the edit")
    server.wait_until(server.quiet, "the rebuild for the edit")
    log = server.text()[since:]
    assert not [line for line in warned if line in log], log
    assert f"kb: {len(warned)} warning(s) that the last rebuild gave, not repeated" in log, log
    # The card's own warning is said again once it changes (here: it goes, then comes back).
    since = len(server.text())
    related = {"datasets": ["synthetic-dna"]}
    write_card(project, make_card(id="tiny-alone", name="Tiny Alone", related=related))
    server.wait_until(server.quiet, "the rebuild for the fix")
    write_card(project, make_card(id="tiny-alone", name="Tiny Alone"))
    server.wait_until(lambda: all(w in server.text()[since:] for w in warned), "the warning said again")

"""From saving a card to its page being served, under a running `mkdocs serve`.

    python benchmarks/serve_latency.py edit PROJECT URL CARD_ID (text|name) N [--all]

Edits the card the way an author would (its summary, or its name: `(edit N)` / `(rename N)` added,
N above the one the card already has),
then asks the server for the card's page every 50 ms until the page shows the edit, and exits: the
process's wall time is the latency (plus this script's start, about 0.05 s: it imports only the
standard library). With `--all`, it also waits until the server's log says no page is left waiting
for the new navigation (`kb: ... is refreshed next` no longer in its last build's line).

The benchmark runner (`benchmarks/stages.py`) starts the server once per project (`start`), untimed,
and waits between runs until the server is idle (`wait_idle`).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

TIMEOUT_S = 1800.0


def start(root: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`mkdocs serve` of the project on a free port; returns once its first build is served."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    mkdocs = Path(sys.executable).with_name("mkdocs")
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [str(mkdocs), "serve", "--dev-addr", f"127.0.0.1:{port}"],
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        )
    deadline = time.monotonic() + TIMEOUT_S
    while not _get(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"mkdocs serve did not start:\n{log.read_text(encoding='utf-8')[-3000:]}")
        time.sleep(0.5)
    return proc, url


def wait_idle(log: Path, quiet_s: float = 2.0) -> None:
    """Until the server's log has not grown for `quiet_s` and no page waits for its navigation."""
    deadline = time.monotonic() + TIMEOUT_S
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        size = log.stat().st_size
        if size != last:
            last, since = size, time.monotonic()
        elif time.monotonic() - since >= quiet_s and not _pending(log):
            return
        time.sleep(0.2)


def _pending(log: Path) -> bool:
    text = log.read_text(encoding="utf-8", errors="replace")
    builds = re.findall(r"kb: \d+ page\(s\) built again.*", text)
    return bool(builds) and "refreshed next" in builds[-1]


def _get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return bytes(response.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def edit(root: Path, url: str, card_id: str, what: str, n: int, wait_all: bool) -> int:
    card = root / "kb" / "model_cards" / f"{card_id}.yaml"
    log = root / "serve.log"
    offset = log.stat().st_size if log.exists() else 0
    text = card.read_text(encoding="utf-8")
    key, word = ("summary", "edit") if what == "text" else ("name", "rename")
    # Each run of the same command saves a new text: a marker the page already shows measures nothing.
    before = re.search(rf"(?m)^{key}: .*? \({word} (\d+)\)$", text)
    n = max(n, int(before.group(1)) + 1) if before else n
    marker = f"({word} {n})"
    text = re.sub(
        rf"(?m)^{key}: (.*?)( \((edit|rename) \d+\))?$",
        lambda m: f"{key}: {m.group(1)} {marker}",
        text,
        count=1,
    )
    card.write_text(text, encoding="utf-8")
    deadline = time.monotonic() + TIMEOUT_S
    page = f"{url}models/{card_id}/"
    while marker.encode() not in (_get(page) or b""):
        if time.monotonic() > deadline:
            print(f"{page} never showed {marker!r}", file=sys.stderr)
            return 1
        time.sleep(0.05)
    while wait_all and not _all_current(log, offset):
        if time.monotonic() > deadline:
            return 1
        time.sleep(0.1)
    return 0


def _all_current(log: Path, offset: int) -> bool:
    """The last rebuild since `offset` is done and left no page waiting for its navigation."""
    with log.open("rb") as fh:
        fh.seek(offset)
        text = fh.read().decode(errors="replace")
    builds = list(re.finditer(r"kb: \d+ page\(s\) built again.*", text))
    if not builds:
        return False
    last = builds[-1]
    return "refreshed next" not in last.group(0) and "Reloading browsers" in text[last.end() :]


def main(argv: list[str]) -> int:
    if len(argv) >= 6 and argv[0] == "edit":
        return edit(Path(argv[1]), argv[2], argv[3], argv[4], int(argv[5]), "--all" in argv)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""A real headless Chromium (Debian's, driven by Playwright) browses the built site over HTTP."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factory import new_project, write_card
from tests.site.conftest import build, model

CHROMIUM = "/usr/bin/chromium"
# FACTS.md: without the background-networking flags Chromium keeps trying to reach hosts it cannot.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def served_site(project: Path) -> Iterator[str]:
    build(project)
    yield from _serve(project / "site")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # the stdlib's name
        pass


@pytest.mark.browser
def test_find_a_model_by_search_and_read_its_page(served_site: str) -> None:
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page()
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            # The search index loads in a web worker after the page; a query typed earlier is lost.
            page.goto(served_site, wait_until="networkidle")
            page.keyboard.press("s")  # material's shortcut opens the search box
            box = page.locator("input[data-md-component='search-query']")
            # The page's own result (its title as <h1>), not a section of another page mentioning it.
            result = page.locator(".md-search-result__link", has=page.locator("h1", has_text="Tiny Hyena"))
            for _ in range(5):  # a query typed before the search worker is ready is not answered
                box.fill("")
                box.press_sequentially("Tiny Hyena", delay=30)
                try:
                    result.wait_for(timeout=3_000)
                    break
                except PlaywrightTimeout:
                    continue
            result.click()
            page.wait_for_url("**/models/tiny-hyena/**")

            assert page.locator("h1").inner_text().rstrip("¶").strip() == "Tiny Hyena"
            metadata = page.locator("table").first.inner_text()
            assert "Tag / commit" in metadata and "0123456 (v1.0)" in metadata and "Apache-2.0" in metadata
            note = page.locator(".admonition.info").first.inner_text()
            assert "This walkthrough references tiny-bert under Apache-2.0." in note
        finally:
            browser.close()
    assert errors == []


@pytest.fixture
def sized_site(project: Path) -> Iterator[str]:
    """The test project with three distinct parameter counts (and one model that states none)."""
    write_card(
        project,
        model(
            "tiny-bert", architecture__parameters="117M", selection={"best_for": ["short variant effects"]}
        ),
    )
    write_card(
        project, model("tiny-hyena", architecture__parameters="2.5B", architecture__model_type="causal")
    )
    write_card(
        project,
        model(
            "tiny-brain", modality="fmri", tokenization__kind="roi-tensors", architecture__parameters="7.7M"
        ),
    )
    write_card(project, model("tiny-none", architecture__parameters=None))
    build(project)
    yield from _serve(project / "site")


def _serve(site: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.browser
def test_the_tabs_are_in_reader_order(served_site: str) -> None:
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(served_site, wait_until="networkidle")
            tabs = [t.strip() for t in page.locator("nav.md-tabs a.md-tabs__link").all_inner_texts()]
            # The test project has no integration or recipe card, so that tab is absent.
            assert tabs == ["Home", "Models", "Compare", "Choose", "Datasets", "Reference"]
            page.locator("nav.md-tabs a.md-tabs__link", has_text="Models").click()
            page.wait_for_url("**/models/")
            # Instant navigation changes the URL before it swaps the new page's sidebar in.
            page.wait_for_function(
                "() => [...document.querySelectorAll('nav.md-nav--primary')]"
                ".some(n => n.innerText.includes('Tiny Brain'))",
                timeout=20000,
            )
            sidebar = page.locator("nav.md-nav--primary").first.inner_text()
            assert (
                sidebar.index("DNA")
                < sidebar.index("Tiny Bert")
                < sidebar.index("fMRI")
                < sidebar.index("Tiny Brain")
            )
        finally:
            browser.close()


@pytest.mark.browser
def test_the_comparison_sorts_by_parameters_both_ways_and_filters_offline(sized_site: str) -> None:
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(sized_site + "catalog/comparison/", wait_until="networkidle")
            table = page.locator("article table").first

            def names() -> list[str]:
                return [
                    c.strip()
                    for c in table.locator("tbody tr:not([hidden]) td:nth-child(1)").all_inner_texts()
                ]

            heading = table.locator("thead th", has_text="Parameters")
            heading.click()
            by_click = {heading.get_attribute("aria-sort"): names()}
            heading.click()
            by_click[heading.get_attribute("aria-sort")] = names()
            # 2.5B > 117M > 7.7M, and the model that states no count comes last going down.
            assert by_click == {
                "descending": ["Tiny Hyena", "Tiny Bert", "Tiny Brain", "Tiny None"],
                "ascending": ["Tiny None", "Tiny Brain", "Tiny Bert", "Tiny Hyena"],
            }

            page.select_option("select[name='Modality']", "fMRI")
            assert names() == ["Tiny Brain"]
            page.select_option("select[name='Modality']", "")
            assert len(names()) == 4
        finally:
            browser.close()
    base = sized_site.rstrip("/")
    assert [u for u in requests if not u.startswith(base)] == []  # offline: no CDN
    assert errors == []


@pytest.fixture
def serving(project: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, Path]]:
    """`mkdocs serve` on the test project, a real process with live reload: its URL and its log
    (with the extra command-line options of an indirect parameter, such as `--strict`)."""
    options = list(getattr(request, "param", []))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp_path / "serve.log"
    url = f"http://127.0.0.1:{port}/"
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", f"127.0.0.1:{port}", *options],
            cwd=project,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 240  # the first build renders every page (slow on a busy machine)
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"mkdocs serve did not start:\n{log.read_text(encoding='utf-8')}")
                time.sleep(0.5)
        yield url, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("serving", [[], ["--strict"]], indirect=True, ids=["serve", "serve-strict"])
def test_serve_shows_a_broken_cards_located_errors_on_its_page_until_it_is_fixed(
    project: Path, serving: tuple[str, Path]
) -> None:
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    url, log = serving
    card = project / "kb" / "model_cards" / "tiny-bert.yaml"
    good = card.read_text(encoding="utf-8")
    line = next(n for n, text in enumerate(good.splitlines(), 1) if text.startswith("license:"))
    evil = "<img src=x onerror=alert(1)>"
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))

            def heading() -> str:
                return page.locator("article h1").first.inner_text().rstrip("¶").strip()

            def wait_for_heading(text: str) -> None:
                # Live reload: the open page reloads itself once the rebuild is done.
                try:
                    page.wait_for_function(
                        "t => (document.querySelector('article h1')?.innerText || '').includes(t)",
                        arg=text,
                        timeout=180_000,
                    )
                except PlaywrightTimeout:
                    pytest.fail(f"the page never showed {text!r}:\n{log.read_text(encoding='utf-8')}")

            page.goto(url + "models/tiny-bert/")
            assert heading() == "Tiny Bert"

            card.write_text(
                good.replace("license: Apache-2.0", f"license: Apache-2.0 {evil}"), encoding="utf-8"
            )
            wait_for_heading("this card has 1 error")
            assert page.url == url + "models/tiny-bert/"
            shown = page.locator("article").inner_text()
            assert f"kb/model_cards/tiny-bert.yaml:{line}:1" in shown
            assert f"'Apache-2.0 {evil}' is not a valid SPDX license expression" in shown  # as text
            assert page.locator("article img").count() == 0
            logged = log.read_text(encoding="utf-8")
            assert "until it is fixed, its page models/tiny-bert/ shows them" in logged
            # The rest of the site is still built, and the card is still in the Models section.
            assert "Tiny Brain" in page.locator("nav.md-nav--primary").first.inner_text()
            other = page.request.get(url + "models/tiny-brain/")
            assert other.ok and "Tiny Brain" in other.text()

            card.write_text(good, encoding="utf-8")
            wait_for_heading("Tiny Bert")
            assert heading() == "Tiny Bert"
            assert "error" not in page.locator("article").inner_text().split("\n")[0]
        finally:
            browser.close()
    assert errors == []


@pytest.fixture(scope="module")
def shipped_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The shipped cards (long names, wide tables), built without PDFs and served."""
    root = new_project(tmp_path_factory.mktemp("shipped"), with_shipped_kb=True)
    build(root)
    yield from _serve(root / "site")


@pytest.mark.browser
@pytest.mark.slow
def test_at_phone_width_no_page_scrolls_sideways_and_wide_tables_scroll_in_their_box(
    shipped_served: str,
) -> None:
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
            widths = {}
            for rel in (
                "",
                "catalog/comparison/",
                "models/nucleotide-transformer-2.5b-multi-species/",
                "models/brainlm/",
                "models/caduceus-ps-131k/",
                "reference/card-format/",
            ):
                page.goto(shipped_served + rel, wait_until="networkidle")
                widths[rel or "home"] = page.evaluate(
                    "[document.scrollingElement.scrollWidth, window.innerWidth]"
                )
            assert {rel: w for rel, w in widths.items() if w[0] > w[1]} == {}
            # The comparison is wider than a phone: it scrolls sideways inside its own box.
            page.goto(shipped_served + "catalog/comparison/", wait_until="networkidle")
            box = page.locator("article table").first.locator(
                "xpath=ancestor::div[contains(@class, 'md-typeset__scrollwrap')]"
            )
            scroll, client = box.evaluate("b => [b.scrollWidth, b.clientWidth]")
            assert scroll > client and client <= 375
            # A long checkpoint path wraps after a `/`, never inside a folder's name.
            page.goto(shipped_served + "models/caduceus-ps-131k/", wait_until="networkidle")
            # (its Folder cell in the table of checkpoints)
            path = page.locator(
                "td code", has_text="external_repos/caduceus/checkpoints/caduceus-ps-131k"
            ).first
            assert path.inner_text() == "external_repos/caduceus/checkpoints/caduceus-ps-131k"
            before_breaks = path.evaluate(LINE_BREAKS_JS)
            assert before_breaks and all(text.endswith("/") for text in before_breaks), before_breaks
        finally:
            browser.close()


# The text of an element before each of its line breaks (where a character starts a new line box).
LINE_BREAKS_JS = """el => {
  const out = []; let text = ""; let top = null;
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange(); range.setStart(node, i); range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (rect) { if (top !== null && rect.top > top + 2) out.push(text); top = rect.top; }
      text += node.data[i];
    }
  }
  return out;
}"""

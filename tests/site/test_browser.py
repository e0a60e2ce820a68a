"""A real headless Chromium (Debian's, driven by Playwright) browses the built site over HTTP."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factory import write_card
from tests.site.conftest import build, model

CHROMIUM = "/usr/bin/chromium"
# FACTS.md: without the background-networking flags Chromium keeps trying to reach hosts it cannot.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


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
    write_card(project, model("tiny-bert", architecture__parameters="117M",
                              selection={"best_for": ["short variant effects"]}))
    write_card(project, model("tiny-hyena", architecture__parameters="2.5B", architecture__model_type="causal"))
    write_card(project, model("tiny-brain", modality="fmri", tokenization__kind="roi-tensors",
                              architecture__parameters="7.7M"))
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
            page.wait_for_function("() => [...document.querySelectorAll('nav.md-nav--primary')]"
                                   ".some(n => n.innerText.includes('Tiny Brain'))", timeout=20000)
            sidebar = page.locator("nav.md-nav--primary").first.inner_text()
            assert (sidebar.index("DNA") < sidebar.index("Tiny Bert") < sidebar.index("fMRI")
                    < sidebar.index("Tiny Brain"))
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
                return [c.strip() for c in table.locator("tbody tr:not([hidden]) td:nth-child(1)")
                        .all_inner_texts()]

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

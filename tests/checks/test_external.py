"""External links requested from a local HTTP server: status codes, Retry-After, timeouts, the cache."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from generator.checks.external import check_urls
from generator.checks.links import check_site
from generator.problems import Severity
from tests.checks.conftest import write_site

Server = tuple[str, Counter[tuple[str, str]]]


def test_status_codes_redirects_and_head_fallback(server: Server, tmp_path: Path) -> None:
    base, hits = server
    urls = [f"{base}/ok", f"{base}/missing", f"{base}/moved", f"{base}/no-head"]
    results = check_urls(urls, retries=0, backoff=0.01)
    assert results[f"{base}/ok"].ok
    assert not results[f"{base}/missing"].ok
    assert results[f"{base}/missing"].reason == "HTTP 404 Not Found"
    assert results[f"{base}/moved"].ok and results[f"{base}/moved"].final_url == f"{base}/ok"
    assert results[f"{base}/no-head"].ok  # HEAD refused with 405, GET answered 200
    assert hits[("HEAD", "/no-head")] == 1 and hits[("GET", "/no-head")] == 1


def test_429_waits_for_retry_after_then_succeeds(server: Server) -> None:
    base, hits = server
    result = check_urls([f"{base}/busy"], retries=2, backoff=0.01)[f"{base}/busy"]
    assert result.ok
    assert hits[("HEAD", "/busy")] == 2


def test_always_rate_limited_is_a_warning_after_the_retries(server: Server) -> None:
    base, hits = server
    result = check_urls([f"{base}/always-busy"], retries=2, backoff=0.01)[f"{base}/always-busy"]
    assert not result.ok and result.severity is Severity.WARNING
    assert "rate limited after 3 attempts" in result.reason
    assert hits[("HEAD", "/always-busy")] == 3


def test_a_slow_endpoint_times_out(server: Server) -> None:
    base, _ = server
    result = check_urls([f"{base}/slow"], timeout=0.3, retries=0)[f"{base}/slow"]
    assert not result.ok and result.reason == "timed out after 0.3 s"
    assert result.severity is Severity.ERROR


def test_the_cache_avoids_a_second_request_and_expires(server: Server, tmp_path: Path) -> None:
    base, hits = server
    cache = tmp_path / ".kb-cache" / "links.json"
    urls = [f"{base}/ok", f"{base}/missing"]
    check_urls(urls, cache_file=cache, retries=0)
    second = check_urls(urls, cache_file=cache, retries=0)
    assert hits[("HEAD", "/ok")] == 1  # served from the cache the second time
    assert second[f"{base}/ok"].from_cache
    assert hits[("HEAD", "/missing")] == 2  # failures are requested again: a fix shows at once
    assert list(json.loads(cache.read_text())["urls"]) == [f"{base}/ok"]
    check_urls(urls, cache_file=cache, retries=0, max_age=0)
    assert hits[("HEAD", "/ok")] == 2


def test_check_site_reports_broken_external_links_on_their_pages(server: Server, tmp_path: Path) -> None:
    base, _ = server
    site = write_site(
        tmp_path / "site",
        {
            "index.html": f'<a href="{base}/ok">ok</a> <a href="{base}/missing#x">gone</a>',
            "models/a/index.html": f'<a href="{base}/missing">gone</a>',
        },
    )
    problems = check_site(
        site, external=True, allow_local=True, retries=0, cache_file=tmp_path / "links.json"
    )
    assert sorted((p.file, p.message) for p in problems) == [
        ("index.html", f"link '{base}/missing' is broken: HTTP 404 Not Found"),
        ("models/a/index.html", f"link '{base}/missing' is broken: HTTP 404 Not Found"),
    ]

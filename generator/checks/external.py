"""Requesting external URLs politely: asynchronous httpx, a limit per host, retries with exponential
backoff, `Retry-After` honoured on 429/503, HEAD falling back to GET, and an on-disk cache.

A scheduled CI job runs this every day over the same few hundred URLs; the cache (results younger
than `max_age` seconds are not requested again) and the per-host limit keep it from hammering
GitHub, arXiv or the model hubs.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from generator.problems import Severity
from generator.settings import DEFAULTS

USER_AGENT = "kb-linkcheck/0.1 (+https://github.com/; checks the links of a model-card site)"
RETRY_STATUSES = {429, 500, 502, 503, 504}
# Servers that answer HEAD wrongly (no HEAD support, bot walls) often answer GET correctly.
GET_FALLBACK_STATUSES = {403, 404, 405, 406, 501}
MAX_RETRY_AFTER = 120.0
"""Longest wait honoured from a Retry-After header (seconds); longer ones count as rate limited."""


@dataclass(frozen=True)
class UrlResult:
    """The outcome of requesting one URL."""

    url: str
    ok: bool
    status: int = 0
    reason: str = ""
    final_url: str = ""
    checked_at: float = 0.0
    from_cache: bool = False

    @property
    def severity(self) -> Severity:
        # Access denied and rate limits say more about the server's bot policy than about the link.
        if self.status in (401, 403, 429):
            return Severity.WARNING
        return Severity.ERROR


@dataclass(frozen=True)
class Options:
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.5
    """First retry waits this long (seconds), then twice as long each time (with jitter)."""
    per_host: int = 2
    """Requests in flight to one host at a time."""
    total: int = 16
    """Requests in flight in all."""


def check_urls(
    urls: Iterable[str],
    *,
    cache_file: Path | None = None,
    max_age: int = DEFAULTS.link_cache_max_age,
    timeout: float = 10.0,
    retries: int = 3,
    backoff: float = 0.5,
    per_host: int = 2,
    total: int = 16,
) -> dict[str, UrlResult]:
    """Request each URL (or take its result from the cache) and return url -> result.

    Successful results are cached in `cache_file` (JSON) for `max_age` seconds; failures are always
    requested again, so a fixed link stops failing on the next run.
    """
    options = Options(timeout, retries, backoff, per_host, total)
    wanted = list(dict.fromkeys(urls))
    cache = _read_cache(cache_file)
    now = time.time()
    results: dict[str, UrlResult] = {}
    todo = []
    for url in wanted:
        hit = cache.get(url)
        if hit is not None and hit.ok and now - hit.checked_at < max_age:
            results[url] = UrlResult(**{**asdict(hit), "from_cache": True})
        else:
            todo.append(url)
    if todo:
        results.update(asyncio.run(_check_all(todo, options)))
    if cache_file is not None:
        fresh = {u: r for u, r in cache.items() if r.ok and now - r.checked_at < max_age}
        fresh.update({u: r for u, r in results.items() if r.ok and not r.from_cache})
        _write_cache(cache_file, fresh)
    return {url: results[url] for url in wanted}


async def _check_all(urls: list[str], options: Options) -> dict[str, UrlResult]:
    import httpx

    limits = httpx.Limits(max_connections=options.total, max_keepalive_connections=options.total)
    timeout = httpx.Timeout(options.timeout)
    overall = asyncio.Semaphore(options.total)
    hosts: dict[str, asyncio.Semaphore] = {}
    async with httpx.AsyncClient(
        follow_redirects=True,
        timeout=timeout,
        limits=limits,
        headers={"User-Agent": USER_AGENT},
        trust_env=False,
    ) as client:

        async def one(url: str) -> tuple[str, UrlResult]:
            host = (urlsplit(url).hostname or "").lower()
            gate = hosts.setdefault(host, asyncio.Semaphore(options.per_host))
            async with overall, gate:
                return url, await _check_one(client, url, options)

        pairs = await asyncio.gather(*(one(u) for u in urls))
    return dict(pairs)


async def _check_one(client: Any, url: str, options: Options) -> UrlResult:
    """HEAD (then GET where HEAD is refused), retrying timeouts, network errors, 429 and 5xx."""
    import httpx

    reason = ""
    status = 0
    for attempt in range(options.retries + 1):
        wait = options.backoff * (2**attempt) * (1 + random.random() / 4)
        try:
            response = await client.head(url)
            if response.status_code in GET_FALLBACK_STATUSES:
                async with client.stream("GET", url) as streamed:  # headers only; the body is not read
                    response = streamed
            status = response.status_code
            if status < 400:
                final = str(response.url)
                return UrlResult(url, True, status, "ok", final if final != url else "", time.time())
            reason = f"HTTP {status}" + (f" {response.reason_phrase}" if response.reason_phrase else "")
            if status not in RETRY_STATUSES:
                break
            retry_after = _retry_after(response.headers.get("Retry-After"))
            if retry_after is not None:
                if retry_after > MAX_RETRY_AFTER:
                    reason += f" (Retry-After {retry_after:.0f} s is longer than this check waits)"
                    break
                wait = max(wait, retry_after)
        except httpx.TimeoutException:
            status, reason = 0, f"timed out after {options.timeout:g} s"
        except httpx.TooManyRedirects:
            status, reason = 0, "too many redirects"
            break
        except (httpx.HTTPError, OSError) as exc:
            status, reason = 0, f"cannot connect ({type(exc).__name__}: {exc})".replace(" ()", "")
        if attempt < options.retries:
            await asyncio.sleep(wait)
    if status == 429:
        reason = f"{reason}; rate limited after {options.retries + 1} attempts"
    return UrlResult(url, False, status, reason, "", time.time())


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _read_cache(path: Path | None) -> dict[str, UrlResult]:
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {url: UrlResult(**entry) for url, entry in data.get("urls", {}).items()}
    except (OSError, ValueError, TypeError):
        return {}  # a corrupt cache only costs requests


def _write_cache(path: Path, results: dict[str, UrlResult]) -> None:
    from generator.io import atomic_write_bytes

    entries = {
        url: {k: v for k, v in asdict(r).items() if k != "from_cache"} for url, r in sorted(results.items())
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, (json.dumps({"version": 1, "urls": entries}, indent=1) + "\n").encode())

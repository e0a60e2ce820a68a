"""The link check of the built site: every `href` and `src` of every HTML page resolves.

Internal targets must exist (a directory URL means its `index.html`), `#fragments` must be ids (or
`<a name>` anchors) on the target page, PDFs must exist and be PDFs, and nothing may point at the
local machine or at `file:`. External URLs are checked for form here and requested by
`generator.checks.external` only when asked.

Built MkDocs pages repeat the whole navigation, so the same few hundred links occur on every page.
The check therefore parses each file once (lxml, C-level XPath for the attributes), keeps the ids of
every page in a dict, and resolves each distinct (page folder, link) pair once.
"""

from __future__ import annotations

import multiprocessing
import os
import posixpath
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from generator.problems import Problem, Severity
from generator.settings import DEFAULTS
from generator.workers import exit_with_parent

SKIPPED_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "blob:", "about:")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "::1", "[::1]"}
_LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*\.?$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
# rel values whose href is a hint to the browser, not a page anyone opens.
_HINT_RELS = {"preconnect", "dns-prefetch"}
# Element names whose `href`/`src` is a link worth checking (others, e.g. <base> or SVG <use>, are not).
_LINK_XPATH = "//@href | //@src"
_ID_XPATH = "//@id | //a/@name"
_SELF = "\0self"
"""Resolved target of a link that is only a fragment: the page it is on (not cacheable per folder)."""


@dataclass(frozen=True)
class ExternalLink:
    """An http(s) URL found on a page (where it was first seen, for the report)."""

    url: str
    page: str
    line: int


@dataclass
class LinkReport:
    """What one run of the link check found: problems, and the external URLs to request."""

    problems: list[Problem] = field(default_factory=list)
    external: dict[str, list[ExternalLink]] = field(default_factory=dict)
    pages: int = 0
    links: int = 0


def site_base_path(site_url: str | None) -> str:
    """The URL path the site is served under (`/` unless site_url has a path, e.g. `/kb/`)."""
    if not site_url:
        return "/"
    path = urlsplit(site_url).path or "/"
    return path if path.endswith("/") else path + "/"


def check_site(
    site_dir: Path,
    *,
    external: bool = False,
    site_url: str | None = None,
    cache_file: Path | None = None,
    cache_max_age: int = DEFAULTS.link_cache_max_age,
    allow_local: bool = False,
    timeout: float = 10.0,
    jobs: int = 0,
    pages: Collection[str] | None = None,
    was: Path | None = None,
    rewritten: Collection[str] = (),
    **external_options: Any,
) -> list[Problem]:
    """Every problem with the links of the built site in `site_dir` (empty when all resolve).

    `pages` (HTML files relative to the site): check only the links of these pages, the ones an
    incremental build wrote, against the whole site. With `was` (the site they replace), every page is
    checked after all when one of the `rewritten` pages lost an id another page may link to.

    `site_url` (mkdocs.yml's) maps absolute links such as the 404 page's `/kb/...` and the canonical
    `https://host/kb/...` onto the site folder. With `external`, http(s) URLs are requested (see
    `generator.checks.external.check_urls`), using `cache_file` for results younger than
    `cache_max_age` seconds. `allow_local` accepts links to localhost (tests only). `jobs` processes
    parse the pages (0 = one per core).
    """
    report = scan_site(site_dir, site_url=site_url, allow_local=allow_local, jobs=jobs, pages=pages)
    if pages is not None and was is not None and lost_ids(site_dir, was, rewritten):
        report = scan_site(site_dir, site_url=site_url, allow_local=allow_local, jobs=jobs)
    problems = report.problems
    if external and report.external:
        from generator.checks.external import check_urls

        results = check_urls(
            list(report.external),
            cache_file=cache_file,
            max_age=cache_max_age,
            timeout=timeout,
            **external_options,
        )
        for url, result in results.items():
            if result.ok:
                continue
            for where in report.external[url]:
                problems.append(
                    Problem(
                        where.page,
                        f"link '{url}' is broken: {result.reason}",
                        result.severity,
                        line=where.line,
                    )
                )
    return problems


def scan_site(
    site_dir: Path,
    *,
    site_url: str | None = None,
    allow_local: bool = False,
    jobs: int = 0,
    pages: Collection[str] | None = None,
) -> LinkReport:
    """Check the internal links of every HTML page (or of `pages`) and collect the external ones (no
    network).

    `jobs` processes parse the pages (0 = one per core, at most 8); small sites use one.
    """
    return _Scanner(site_dir, site_base_path(site_url), site_url, allow_local).run(jobs, pages)


def lost_ids(site_dir: Path, was: Path, pages: Collection[str]) -> bool:
    """Whether one of `pages` has lost an id (or an `<a name>`) it had in the site `was`."""
    from lxml import etree

    parser = etree.HTMLParser(recover=True, no_network=True, remove_comments=True)
    find_ids = etree.XPath(_ID_XPATH, smart_strings=False)
    for page in pages:
        try:
            before = set(find_ids(etree.parse(str(was / page), parser)))
        except (OSError, etree.LxmlError):
            continue  # a new page: nothing linked to it before
        try:
            after = set(find_ids(etree.parse(str(site_dir / page), parser)))
        except (OSError, etree.LxmlError):
            return True
        if before - after:
            return True
    return False


_Pending = tuple[str, str, str, str, int]
"""A fragment to look up once every page's ids are known: page, link, target page, fragment, line."""


@dataclass
class _Part:
    """What scanning some of the pages found (one per worker process)."""

    ids: dict[str, frozenset[str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    pending: list[_Pending] = field(default_factory=list)
    external: dict[str, list[ExternalLink]] = field(default_factory=dict)
    pages: int = 0
    links: int = 0


_WORKER: _Scanner | None = None
"""The scanner a forked worker process inherits (set just before the pool forks)."""


def _scan_in_worker(pages: list[str]) -> _Part:
    assert _WORKER is not None
    return _WORKER.scan_pages(pages)


def _cache_key(folder: str, link: str) -> tuple[str, str]:
    """(folder, link) with leading `../` climbed, so `../../models/x/` resolves once for every page
    two levels deep (the navigation each page repeats)."""
    if not link.startswith("../"):
        return folder, link
    base = folder
    while link.startswith("../"):
        link = link[3:]
        base = base.rpartition("/")[0]
    if not link or link[0] in "#?":
        link = "./" + link
    return base, link


def _problem(page: str, link: str, reason: str, line: int) -> Problem:
    return Problem(page, f"link '{link}' is broken: {reason}", Severity.ERROR, line=line)


class _Scanner:
    def __init__(self, site_dir: Path, base_path: str, site_url: str | None, allow_local: bool):
        self.root = site_dir
        self.base_path = base_path
        self.site_prefix = site_url.rstrip("/") + "/" if site_url else None
        self.allow_local = allow_local
        self.files: set[str] = set()
        self.dirs: set[str] = {""}
        self.pdf_ok: dict[str, bool] = {}
        # (folder, link) -> (target page or None, fragment, problem text / "external" / None).
        self.resolved: dict[tuple[str, str], tuple[str | None, str, str | None]] = {}

    def run(self, jobs: int = 0, only: Collection[str] | None = None) -> LinkReport:
        self._index_files()
        pages = sorted(f for f in self.files if f.endswith((".html", ".htm")))
        if only is not None:
            wanted = set(only)
            pages = [p for p in pages if p in wanted]
        jobs = jobs or min(os.cpu_count() or 1, 8)
        jobs = min(jobs, max(1, len(pages) // 50))  # forking costs more than parsing a few pages
        if jobs > 1 and "fork" in multiprocessing.get_all_start_methods():
            global _WORKER
            _WORKER = self
            try:
                with multiprocessing.get_context("fork").Pool(
                    jobs, initializer=exit_with_parent, initargs=(os.getpid(),)
                ) as pool:
                    parts = pool.map(_scan_in_worker, [pages[i::jobs] for i in range(jobs)])
            finally:
                _WORKER = None
        else:
            parts = [self.scan_pages(pages)]
        report = LinkReport()
        ids: dict[str, frozenset[str]] = {}
        for part in parts:
            ids.update(part.ids)
            report.problems.extend(part.problems)
            for url, where in part.external.items():
                report.external.setdefault(url, []).extend(where)
            report.pages += part.pages
            report.links += part.links
        for part in parts:
            for page, link, target, fragment, line in part.pending:
                if target not in ids and only is not None:
                    found = self._ids_of(target)  # a page not checked: its ids only
                    if found is not None:
                        ids[target] = found
                target_ids = ids.get(target)
                if target_ids is not None and fragment not in target_ids:
                    report.problems.append(_problem(page, link, f"no anchor '#{fragment}' on {target}", line))
        return report

    def scan_pages(self, pages: list[str]) -> _Part:
        """Parse `pages` once each: their ids, their broken links, fragments to check, external URLs."""
        from lxml import etree

        parser = etree.HTMLParser(recover=True, no_network=True, remove_comments=True)
        find_links = etree.XPath(_LINK_XPATH)
        find_ids = etree.XPath(_ID_XPATH, smart_strings=False)
        part = _Part()
        for page in pages:
            try:
                tree = etree.parse(str(self.root / page), parser)
            except (OSError, etree.LxmlError) as exc:
                part.problems.append(Problem(page, f"cannot read the page: {exc}"))
                continue
            part.pages += 1
            if tree.getroot() is None:
                part.ids[page] = frozenset()
                continue
            part.ids[page] = frozenset(find_ids(tree))
            folder = page.rpartition("/")[0]
            seen: set[str] = set()
            for value in find_links(tree):
                link = value.strip()
                if link in seen:
                    continue
                seen.add(link)
                part.links += 1
                self._check_link(part, page, folder, link, value)
        return part

    def _ids_of(self, page: str) -> frozenset[str] | None:
        from lxml import etree

        parser = etree.HTMLParser(recover=True, no_network=True, remove_comments=True)
        try:
            tree = etree.parse(str(self.root / page), parser)
        except (OSError, etree.LxmlError):
            return None
        return (
            frozenset(etree.XPath(_ID_XPATH, smart_strings=False)(tree))
            if tree.getroot() is not None
            else None
        )

    def _index_files(self) -> None:
        if not self.root.is_dir():
            return
        root = str(self.root)
        for folder, dirnames, filenames in os.walk(root):
            rel = os.path.relpath(folder, root).replace(os.sep, "/")
            rel = "" if rel == "." else rel
            for d in dirnames:
                self.dirs.add(f"{rel}/{d}" if rel else d)
            for f in filenames:
                self.files.add(f"{rel}/{f}" if rel else f)

    def _check_link(self, part: _Part, page: str, folder: str, link: str, value: Any) -> None:
        key = _cache_key(folder, link)
        hit = self.resolved.get(key)
        if hit is None:
            hit = self.resolved[key] = self._resolve(*key)
        target, fragment, error = hit
        if error is None and target is None:
            return
        if error == "external":
            element = value.getparent()
            rel = set((element.get("rel") or "").lower().split())
            if not rel & _HINT_RELS:
                part.external.setdefault(link.split("#", 1)[0], []).append(
                    ExternalLink(link, page, element.sourceline or 0)
                )
            return
        if error:
            part.problems.append(_problem(page, link, error, value.getparent().sourceline or 0))
            return
        if target is None:
            return
        if target is _SELF:
            target = page
        # Material's own `#__drawer`-style ids and the HTML spec's implicit `#top` always work.
        if (
            fragment
            and not fragment.startswith("__")
            and fragment != "top"
            and target.endswith((".html", ".htm"))
        ):
            part.pending.append((page, link, target, fragment, int(value.getparent().sourceline or 0)))

    def _resolve(self, folder: str, link: str) -> tuple[str | None, str, str | None]:
        """(target file relative to the site, fragment, reason it is broken / "external" / None)."""
        if not link:
            return None, "", None
        lowered = link.lower()
        if lowered.startswith(SKIPPED_SCHEMES):
            return None, "", None
        if lowered.startswith("file:"):
            return None, "", "points at a local file (file:); link to a page of the site or a public URL"
        if self.site_prefix and link.startswith(self.site_prefix):
            # The canonical link and other absolute URLs into this site: check them as internal.
            link = self.base_path + link[len(self.site_prefix) :]
        elif lowered.startswith(("http:", "https:", "//")) or re.match(r"^[a-z][a-z0-9+.-]*:", lowered):
            return None, "", self._external_form(link)
        parts = urlsplit(link)
        path, fragment = unquote(parts.path), unquote(parts.fragment)
        if not path:
            return _SELF, fragment, None  # `#anchor` or `?query` on the page itself
        if path.startswith("/"):
            if not (path + "/").startswith(self.base_path) and path != self.base_path.rstrip("/"):
                return None, "", f"absolute path outside the site (the site is served under {self.base_path})"
            target = posixpath.normpath(path[len(self.base_path) :] or ".")
        else:
            joined = posixpath.normpath(posixpath.join("/" + folder, path))
            # Like a browser, '..' above the site root stays at the root (e.g. MkDocs' 404 page).
            target = posixpath.normpath(joined.lstrip("/") or ".")
        if target in (".", ""):
            target = ""
        return self._target(target, link, fragment)

    def _target(self, target: str, link: str, fragment: str) -> tuple[str | None, str, str | None]:
        if target in self.dirs:
            index = f"{target}/index.html" if target else "index.html"
            if index in self.files:
                return index, fragment, None
            return None, "", f"folder '{target or '/'}' has no index.html"
        if target not in self.files:
            return None, "", f"no such file '{target}' in the site"
        if target.lower().endswith(".pdf") and not self._is_pdf(target):
            return None, "", f"'{target}' is not a PDF (it does not start with %PDF-)"
        return target, fragment, None

    def _is_pdf(self, target: str) -> bool:
        ok = self.pdf_ok.get(target)
        if ok is None:
            try:
                with open(self.root / target, "rb") as fh:
                    ok = fh.read(5) == b"%PDF-"
            except OSError:
                ok = False
            self.pdf_ok[target] = ok
        return ok

    def _external_form(self, link: str) -> str | None:
        """ "external" for a well-formed http(s) URL, else the reason it is malformed."""
        if link.startswith("//"):
            link = "https:" + link
        if any(c.isspace() for c in link):
            return "the URL contains whitespace (percent-encode it as %20)"
        try:
            parts = urlsplit(link)
            port = parts.port
        except ValueError as exc:
            return f"malformed URL ({exc})"
        if parts.scheme not in ("http", "https"):
            return None  # other schemes (ftp:, irc:, ...) are not checked
        host = (parts.hostname or "").lower()
        if not host:
            return "the URL has no host"
        if host in LOCAL_HOSTS or host.endswith(".localhost") or host.startswith("127."):
            if not self.allow_local:
                return "points at the local machine (localhost); use the public URL"
        elif not (_HOST.match(host) or _IPV4.match(host) or ":" in host):
            return f"'{host}' is not a valid host name"
        if port == 0:
            return "invalid port"
        return "external"

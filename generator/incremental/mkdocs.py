"""An incremental MkDocs build: only the pages whose Markdown changed are converted and themed again.

MkDocs' dirty build (`build(config, dirty=True)`) skips every page whose file `is_modified()` says no,
but then the pages it skips have no title (the navigation of the pages it builds comes out wrong), no
search entries (the index keeps only the pages built) and nothing for the tags listing, and the outputs
of removed pages stay. `Incremental`, driven by the `kb` plugin's events, makes a dirty build give the
site a full build gives:

- `files`: each page's Markdown is hashed; a page is *read* (converted again) when its hash differs
  from the last build's, or the last build did not know it (no last build: every page); the pages
  holding a tags listing are read whenever any page is.
- `nav`: every other page gets back what the last build made of it (title, table of contents, content,
  anchors); when MkDocs comes to read it, its Markdown goes through the plugins' `on_page_markdown`
  (the tags plugin collects the page's tags there, in the order of a full build), without the costly
  conversion.
- `env`: the navigation changed when its structure, the set of pages, or the title (icon, subtitle,
  status) of a page read again changed; then every page is themed again (its content as kept), not
  only the pages read. Under `mkdocs serve` those other pages are *deferred*: themed a few seconds'
  worth per rebuild after the pages that changed are served (`budget`), so the edited page shows at
  once and the navigation of the rest follows.
- `post_build`: the search index is the last one with the entries of the pages read replaced, in the
  order a full build writes them; outputs of files that are gone are removed (under serve once no page
  is deferred, so no navigation links a page already removed).
- the theme's 404.html is kept as the last build wrote it when the navigation did not change (it shows
  nothing else of a page).

A page themed again without being read keeps its search entries: it is kept out of the search
plugin's indexing for that build (`search.exclude` in its meta while the plugin looks, then restored).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Link, Navigation, Section
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import AnchorLink, TableOfContents

from generator.incremental.state import PageState, SiteState, Toc

SEARCH_INDEX = "search/search_index.json"
LISTING = "<!-- material/tags"
"""The tags plugin's listing directive: a page holding one lists every page's tags."""


class Incremental:
    """One MkDocs build, incremental against `last` (None: everything is read, as in a full build;
    the state for the next build is recorded all the same)."""

    def __init__(
        self,
        last: SiteState | None,
        *,
        signature: str,
        serving: bool,
        budget: float | None = None,
        deferred: set[str] | None = None,
    ) -> None:
        self.last = last if last is not None and last.signature == signature else None
        self.signature = signature
        self.serving = serving
        self.budget = budget
        """Seconds of theming for deferred pages per build (serve); None: theme them all now."""
        self.deferred: set[str] = set(deferred or ()) if self.last is not None else set()
        self.sources: dict[str, str] = {}
        self.read: set[str] = set()
        self.themed: set[str] = set()
        self.built: set[str] = set()
        self.nav_changed = self.last is None
        self.new: dict[str, PageState] = {}
        self._meta: dict[str, MutableMapping[str, Any]] = {}
        self._deadline = 0.0
        self.building = False
        """False while MkDocs reads the pages (before `on_env`), True while it builds them."""
        self._config: Any = None
        self._files: Files | None = None
        self._search_before: dict[str, list[Any]] | None = None
        self._kept_templates: set[str] = set()
        self._nav = ""

    @property
    def incremental(self) -> bool:
        return self.last is not None

    def _inclusion(self) -> Callable[[InclusionLevel], bool]:
        return InclusionLevel.is_in_serve if self.serving else InclusionLevel.is_included

    # -- on_files ------------------------------------------------------------------------------------

    def on_files(self, files: Files, site_dir: str, load_bodies: Callable[[set[str]], bool] | None) -> None:
        """Hash every page, decide which are read, and make MkDocs ask us which pages are modified."""
        pages = files.documentation_pages(inclusion=self._inclusion())
        self.sources = {f.src_uri: hashlib.sha256(f.content_bytes).hexdigest() for f in pages}
        last = self.last
        if last is None:
            self.read = set(self.sources)
        else:
            self.read = {
                u for u, h in self.sources.items() if u not in last.pages or last.pages[u].source != h
            }
            kept = set(self.sources) - self.read
            # kb build keeps the pages' content on disk: read it now, or read the pages whose is missing.
            if load_bodies is not None and not load_bodies(kept):
                self.read |= {u for u in kept if last.pages[u].content is None}
            if self.read or set(last.pages) != set(self.sources):
                self.read |= {f.src_uri for f in pages if LISTING in f.content_string}
            self._search_before = _read_search(Path(site_dir) / SEARCH_INDEX)
            if self._search_before is None:
                self.read = set(self.sources)  # no index to keep entries from
        for file in pages:
            file.is_modified = _Decision(self, file)  # type: ignore[method-assign]  # MkDocs asks each page

    # -- on_nav --------------------------------------------------------------------------------------

    def on_nav(self, nav: Navigation, config: Any, files: Files) -> None:
        """Give each page not read again what the last build made of it."""
        self._nav = _nav_signature(nav, self.sources)
        self._config, self._files = config, files
        if self.last is None:
            return
        if self.last.nav != self._nav:
            self.nav_changed = True
        for file in files.documentation_pages(inclusion=self._inclusion()):
            if file.src_uri in self.read:
                continue
            state = self.last.pages[file.src_uri]
            if state.content is None:
                self.read.add(file.src_uri)  # nothing kept to give it: MkDocs reads it
                continue
            page = file.page if file.page is not None else Page(None, file, config)
            page.content = state.content
            # Its table of contents is made only if the page is themed again (`builds`): no other page
            # shows it.
            page._title_from_render = state.title
            page.present_anchor_ids = None if state.anchors is None else set(state.anchors)

    def reads(self, file: File) -> bool:
        """While MkDocs reads the pages, in their order: whether it reads `file`'s page. A page it
        skips has its Markdown read and handed to the plugins' `on_page_markdown` here, where a full
        build would (the tags plugin collects the page's tags, in the order of a full build), without
        the conversion."""
        if file.src_uri in self.read:
            return True
        page = file.page
        if page is not None and self._config is not None:
            page.read_source(self._config)
            page.markdown = self._config.plugins.on_page_markdown(
                page.markdown, page=page, config=self._config, files=self._files
            )
        return False

    # -- on_env --------------------------------------------------------------------------------------

    def on_env(self, files: Files, config: Any = None) -> None:
        """The pages are read: did the navigation change? Then the build phase starts."""
        if self.last is not None and not self.nav_changed:
            for uri in self.read:
                old = self.last.pages.get(uri)
                page = files.src_uris[uri].page
                if old is None or page is None or old.nav_key != _nav_key(page):
                    self.nav_changed = True
                    break
        if self.last is not None and self.nav_changed:
            self.deferred |= set(self.sources) - self.read
        self.deferred &= set(self.sources)
        if self.last is not None and not self.nav_changed and config is not None:
            self._keep_theme_templates(config)
        self._deadline = time.monotonic() + (self.budget or 0.0)
        self.building = True

    def _keep_theme_templates(self, config: Any) -> None:
        """The theme's 404.html shows the navigation, nothing else of a page: with it unchanged, the
        last build's stays as written. (sitemap.xml carries the build date, and other static templates
        may show pages' content: those are written again.)"""
        templates = config.theme.static_templates
        kept = {t for t in templates & {"404.html"} if (Path(config.site_dir) / t).is_file()}
        templates -= kept
        self._kept_templates = kept

    def builds(self, file: File) -> bool:
        """Whether `file`'s page is built now (MkDocs asks through `is_modified`)."""
        uri = file.src_uri
        if uri in self.read:
            return True
        if uri not in self.deferred:
            return False
        if self.budget is not None and (self.read or (self.themed and time.monotonic() > self._deadline)):
            # Its turn comes in a later rebuild: the pages that changed are served first, then each
            # rebuild themes `budget` seconds' worth (at least one page).
            return False
        page = file.page
        if page is not None:
            state = self.last.pages.get(uri) if self.last is not None else None
            page.toc = _toc(state.toc or []) if state is not None else page.toc
            # Themed again with its content as kept: its search entries are kept too, not indexed again.
            self._meta[uri] = page.meta
            page.meta = {**page.meta, "search": {"exclude": True}}
        self.themed.add(uri)
        return True

    # -- on_page_context / on_post_page -------------------------------------------------------------

    def on_page_context(self, page: Page) -> None:
        meta = self._meta.pop(page.file.src_uri, None)
        if meta is not None:
            page.meta = meta

    def on_post_page(self, page: Page) -> None:
        uri = page.file.src_uri
        self.built.add(uri)
        self.deferred.discard(uri)
        if uri in self.read:
            self.new[uri] = PageState(
                self.sources[uri],
                page._title_from_render,
                None if page.present_anchor_ids is None else sorted(page.present_anchor_ids),
                content=page.content,
                toc=_toc_data(page.toc),
                nav_key=_nav_key(page),
            )

    # -- on_post_build --------------------------------------------------------------------------------

    def on_post_build(self, files: Files, site_dir: str) -> SiteState:
        """Merge the search index, remove the outputs of files gone; the state for the next build."""
        if self._kept_templates and self._config is not None:
            self._config.theme.static_templates |= self._kept_templates
        pages = files.documentation_pages(inclusion=self._inclusion())
        if self.last is not None and self._search_before is not None:
            _merge_search(Path(site_dir) / SEARCH_INDEX, pages, self._search_before, self.read)
        state = SiteState(self.signature, self._nav)
        for uri in self.sources:
            kept = self.new.get(uri) or (self.last.pages.get(uri) if self.last else None)
            if kept is not None:
                state.pages[uri] = kept
        state.files = sorted(f.dest_uri for f in files)
        if self.last is not None and not self.deferred:
            gone = set(self.last.files) - set(state.files)
            _remove_outputs(Path(site_dir), gone)
        elif self.last is not None:
            state.files = sorted(set(state.files) | set(self.last.files))  # removed once nothing is deferred
        return state


class _Decision:
    """`File.is_modified` of a page during an incremental build: read while MkDocs reads the pages,
    then whether it is built (a page not read may be themed again when the navigation changed)."""

    def __init__(self, build: Incremental, file: File) -> None:
        self.build, self.file = build, file

    def __call__(self) -> bool:
        return self.build.builds(self.file) if self.build.building else self.build.reads(self.file)


def _nav_key(page: Page) -> str:
    """What the navigation shows of a page: its title, icon, subtitle, status."""
    meta = page.meta or {}
    return json.dumps([page.title, meta.get("icon"), meta.get("subtitle"), meta.get("status")], default=str)


def _nav_signature(nav: Navigation, sources: dict[str, str]) -> str:
    """The navigation's structure (titles of sections and links, pages by file) and the set of pages."""

    def item(x: Any) -> Any:
        if isinstance(x, Section):
            return ["section", x.title, [item(c) for c in x.children]]
        if isinstance(x, Link):
            return ["link", x.title, x.url]
        if isinstance(x, Page):
            return ["page", x.file.src_uri]
        return ["other", str(x)]

    return hashlib.sha256(
        json.dumps([[item(x) for x in nav.items], sorted(sources)], default=str).encode()
    ).hexdigest()


def _toc_data(toc: Any) -> Toc:
    def one(link: AnchorLink) -> list[Any]:
        return [link.title, link.id, link.level, [one(c) for c in link.children]]

    return [one(link) for link in toc or []]


def _toc(data: Toc) -> TableOfContents:
    def one(entry: list[Any]) -> AnchorLink:
        link = AnchorLink(str(entry[0]), str(entry[1]), int(entry[2]))
        link.children = [one(c) for c in entry[3]]
        return link

    items = [one(e) for e in data]
    if items:
        items[0].active = True  # type: ignore[attr-defined]  # as mkdocs.structure.toc.get_toc marks it
    return TableOfContents(items)


_search_read: dict[str, tuple[tuple[int, int], dict[str, list[Any]]]] = {}
"""The last search index this process wrote or read, by path, with its (size, modification time): under
`mkdocs serve` the next rebuild takes it from here instead of parsing the file again."""


def _read_search(path: Path) -> dict[str, list[Any]] | None:
    """The search index's entries by page URL (None when there is no index to read)."""
    try:
        st = path.stat()
        known = _search_read.get(str(path))
        if known is not None and known[0] == (st.st_size, st.st_mtime_ns):
            return known[1]
        data = json.loads(path.read_text(encoding="utf-8"))
        docs = data["docs"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    by_page = _by_page(docs)
    _search_read[str(path)] = ((st.st_size, st.st_mtime_ns), by_page)
    return by_page


def _by_page(docs: list[Any]) -> dict[str, list[Any]]:
    by_page: dict[str, list[Any]] = {}
    for entry in docs:
        by_page.setdefault(str(entry.get("location", "")).split("#", 1)[0], []).append(entry)
    return by_page


def _merge_search(path: Path, pages: Sequence[File], before: dict[str, list[Any]], read: set[str]) -> None:
    """The index as a full build writes it: each page's entries in page order, from this build for the
    pages read, from the last index for the others."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # no search plugin (or it wrote nothing): nothing to merge
    now = _by_page(data.get("docs", []))
    docs = []
    for file in pages:
        url = file.page.url if file.page is not None else file.url
        docs.extend(now.get(url, []) if file.src_uri in read else before.get(url, []))
    data["docs"] = docs
    # As the search plugin writes it.
    path.write_text(json.dumps(data, separators=(",", ":"), default=str), encoding="utf-8")
    st = path.stat()
    _search_read[str(path)] = ((st.st_size, st.st_mtime_ns), _by_page(docs))


def _remove_outputs(site_dir: Path, gone: set[str]) -> None:
    """Remove the outputs of files no longer in the site (a removed card's page, YAML, PDF) and the
    folders they leave empty."""
    for uri in sorted(gone):
        path = site_dir / uri
        if path.is_file() or path.is_symlink():
            path.unlink()
        folder = path.parent
        while folder != site_dir and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


class _NoDirtyWarning(logging.Filter):
    """MkDocs warns on every dirty build that its navigation may be inaccurate: `Incremental` sees to
    it that it is not, and under `--strict` the warning would abort the build."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "'dirty' build is being performed" not in record.getMessage()


@contextmanager
def dirty_build() -> Iterator[None]:
    """Around `mkdocs.commands.build.build(config, dirty=True)` driven by `Incremental`."""
    logger = logging.getLogger("mkdocs.commands.build")
    quiet = _NoDirtyWarning()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def site_signature(config: Any, extra: str = "") -> str:
    """What shapes every page beyond its own Markdown: mkdocs.yml, the theme's folders, the versions
    of MkDocs and its plugins, this package's code, the site URL and URL style."""
    from importlib import metadata

    from generator.io import code_digest

    h = hashlib.sha256(f"{code_digest()}\0{extra}\0".encode())
    for package in ("mkdocs", "mkdocs-material", "pymdown-extensions", "markdown", "pygments"):
        try:
            h.update(f"{package}={metadata.version(package)}\0".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{package}=none\0".encode())
    path = config.config_file_path
    if path and os.path.isfile(path):
        h.update(Path(path).read_bytes())
    h.update(f"\0{config.site_url}\0{config.use_directory_urls}\0{config.repo_url}\0".encode())
    for folder in config.theme.dirs:
        if "site-packages" in folder:
            continue  # an installed theme: its version is hashed above
        for root, _dirs, names in sorted(os.walk(folder)):
            for name in sorted(names):
                file = Path(root) / name
                h.update(f"\0{file}\0".encode() + file.read_bytes())
    return h.hexdigest()

"""`mkdocs serve` rebuilding incrementally, and only when something changed.

Why saving one card cost two full rebuilds: MkDocs watches docs_dir, and the `kb` plugin writes the
pages it renders there at the start of each build; the watcher saw those writes and queued another
whole build as soon as the first ended (and a full build starts by emptying the served folder, so a
browser reloading in between got a missing page). Now:

- `Inputs` is a listing (size, modification time) of what a rebuild reads: the watched folders and
  mkdocs.yml. It is taken when a build starts, and the pages the plugin writes are added to it as
  written, so the next call of the builder knows whether anything changed besides those writes;
  when nothing did, there is no rebuild.
- `ServeBuilder` replaces MkDocs' builder (`on_serve` is handed both the server and the builder) and
  always asks MkDocs for a dirty build: `generator.incremental.mkdocs.Incremental` decides which pages
  are built, so the result is the site a full build gives. MkDocs' own builder is taken apart for its
  configuration loader and serving URL (`inspect.getclosurevars`); where that is not possible (a
  MkDocs that builds differently) it is called as it is, every rebuild then a full one.
- Pages whose navigation is stale after a name or group changed are themed a few seconds' worth per
  rebuild after the changed pages are served; the next step is asked for by writing a file in a
  folder the server watches (`request_more`).
"""

from __future__ import annotations

import inspect
import logging
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.plugins.kb")

Listing = dict[str, tuple[int, int]]


class Inputs:
    """What a rebuild reads, as (size, modification time) per file: the watched folders, mkdocs.yml."""

    def __init__(self, paths: Iterable[Path]) -> None:
        self.paths = sorted({Path(p).resolve() for p in paths})
        self.seen: Listing | None = None

    def listing(self) -> Listing:
        out: Listing = {}
        for path in self.paths:
            if path.is_file():
                _add(out, path)
                continue
            for folder, _dirs, names in os.walk(path):
                for name in names:
                    _add(out, Path(folder) / name)
        return out

    def start(self) -> None:
        """A build starts: what it is about to read."""
        self.seen = self.listing()

    def wrote(self, paths: Iterable[Path]) -> None:
        """The build wrote (or removed) these files itself: not a change to rebuild for."""
        if self.seen is None:
            return
        for path in paths:
            self.seen.pop(str(path), None)
            _add(self.seen, path)

    def changed(self) -> bool:
        return self.seen is None or self.listing() != self.seen


def _add(out: Listing, path: Path) -> None:
    try:
        st = path.stat()
    except OSError:
        return
    out[str(path)] = (st.st_size, st.st_mtime_ns)


class ServeBuilder:
    """The rebuild `mkdocs serve` runs when a watched file changes."""

    def __init__(
        self,
        original: Callable[..., None],
        *,
        needed: Callable[[], bool],
        before: Callable[[], None],
        after: Callable[[], None],
        server: Any = None,
    ) -> None:
        self.original = original
        self.server = server
        """MkDocs' `LiveReloadServer`, whose rebuild loop this builder is called from."""
        self.needed = needed
        """Whether anything changed since the last build (or pages still wait for their turn)."""
        self.before, self.after = before, after
        found = _closure(original)
        self.get_config: Callable[[], Any] | None = found.get("get_config")
        self.serve_url: str | None = found.get("serve_url")

    @property
    def incremental(self) -> bool:
        return callable(self.get_config) and isinstance(self.serve_url, str)

    def __call__(self, config: Any = None) -> None:
        if config is not None or not self.incremental:
            self.original(config)
            return
        if not self.needed():
            log.info("kb: nothing changed but the pages this server wrote itself: no rebuild")
            self._same_site()
            return
        from mkdocs.commands.build import build

        from generator.incremental.mkdocs import dirty_build

        assert self.get_config is not None and self.serve_url is not None
        config = self.get_config()
        config.site_url = self.serve_url
        self.before()
        with dirty_build():
            build(config, serve_url=self.serve_url, dirty=True)
        self.after()
        self._forget_own_writes()

    # MkDocs' rebuild loop (`LiveReloadServer._build_loop`) starts a rebuild for every change the
    # watcher saw, and tells the browsers to reload after each: the pages this plugin wrote during a
    # build would cost a second reload, and hold every page request while it runs. Where the server
    # has the attributes of MkDocs 1.5-1.6, these two avoid that; elsewhere that rebuild just happens.

    def _forget_own_writes(self) -> None:
        """After a build: a change the watcher saw that was only this build's own writes is dropped."""
        server = self.server
        cond = getattr(server, "_rebuild_cond", None)
        if cond is None or not hasattr(server, "_want_rebuild"):
            return
        with cond:  # the watcher sets the flag under this lock: a save now is either seen here or after
            if server._want_rebuild and not self.needed():
                server._want_rebuild = False

    def _same_site(self) -> None:
        """A rebuild that built nothing: the browsers are not told to reload, and page requests held
        for it go on at once."""
        server = self.server
        cond = getattr(server, "_epoch_cond", None)
        if cond is None or not hasattr(server, "_visible_epoch") or not hasattr(server, "_wanted_epoch"):
            return
        with cond:
            server._wanted_epoch = server._visible_epoch
            cond.notify_all()


WARNING = ": warning: "
"""How a warning reads (`Problem.format`): only those are held back, never an error."""


class Repeats:
    """Under `mkdocs serve`, the warnings of each rebuild that the one before said already are held
    back: saving one card would otherwise list every other card's warnings again (500 lines on a
    knowledge base of 500 cards whose repositories are not synced). A warning that went away and comes
    back is said again. Not under strict mode, where every warning fails the build."""

    def __init__(self) -> None:
        self.last: set[str] = set()
        self.now: set[str] = set()
        self.held = 0

    def wrap(self, say: Callable[[str], None]) -> Callable[[str], None]:
        def once(message: str) -> None:
            self.now.add(message)
            if message in self.last and WARNING in message:  # an error is always said
                self.held += 1
            else:
                say(message)

        return once

    def end(self) -> int:
        """A rebuild's warnings are all said: how many were held back."""
        held = self.held
        self.last, self.now, self.held = self.now, set(), 0
        return held


def _closure(builder: Callable[..., None]) -> dict[str, Any]:
    try:
        return dict(inspect.getclosurevars(builder).nonlocals)
    except (TypeError, ValueError):
        return {}


def request_more(folder: Path) -> None:
    """Ask the server for one more rebuild (a file changes in a folder it watches)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "next").write_text(str(time.time_ns()), encoding="utf-8")

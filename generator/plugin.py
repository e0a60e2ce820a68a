"""The `kb` MkDocs plugin: a thin layer that calls the generator, so plain `mkdocs build` and
`mkdocs serve` regenerate the pages from the cards.

- When a build starts: validate the cards, render the PDFs (`mkdocs build`; `mkdocs serve` only with
  `pdf_on_serve`) and the pages;
  an invalid card fails the build with every located message. Under `mkdocs serve` it does not:
  the rest of the site is built, and the card's page (at its usual URL) lists the card's located
  problems until the card is fixed, so the browser shows them on the next reload.
- `mkdocs serve` also watches `kb/` and `templates/`, so saving a card reloads its page. It rebuilds
  incrementally (`generator.incremental`): the changed card is read again (`CardCache`), its page and
  the pages that show it are rendered (`PageKeys`), MkDocs converts and themes only the pages whose
  Markdown changed (all of them themed, a few seconds' worth per rebuild, when the navigation
  changed), and the writes of the plugin itself never start another rebuild.
- `kb build` hands over the last build's state (`BuildResult.site_state`) for its incremental builds.
- The PDFs under artifacts/ are added to the site's files as `pdf/<id>.pdf`, and each card's YAML as
  `kb/<kind folder>/<id>.yaml`, so MkDocs copies them and its link validation knows them.
- Without a `nav:` in mkdocs.yml, the navigation is the reader's order of `generator.render.nav`.
- A card's page gets the forge's "edit" link of its YAML (with `repo_url`), a generated catalog page
  none (its Markdown is not in the repository).

Its options are the fields of `generator.settings.Settings` (defaults live there only).

MkDocs keeps one instance of a plugin that has `on_startup` for the whole process (its
`Plugins.plugin_cache`, meant for the rebuilds of `mkdocs serve`), so every in-process build of any
project meets the same object: what one build prepared is forgotten when the next one configures
(`on_config`), and a result handed over by `kb build` is used by the one build that follows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mkdocs.config.base import ValidationError as MkDocsValidationError
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files
from pydantic import ValidationError

from generator import forge
from generator.exceptions import KBError
from generator.layout import Layout
from generator.settings import Project, Settings, _plain

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

    from generator.build import BuildResult
    from generator.incremental.mkdocs import Incremental
    from generator.incremental.serve import Inputs, Repeats
    from generator.incremental.state import SiteState
    from generator.knowledge import CardCache
    from generator.render.site import PageKeys

log = logging.getLogger("mkdocs.plugins.kb")


class KBPlugin(BasePlugin):  # options are validated by pydantic, not MkDocs
    """Renders the knowledge base into docs_dir at the start of every MkDocs build."""

    def __init__(self) -> None:
        super().__init__()
        self.settings = Settings()
        self.project: Project | None = None
        self.command = "build"
        self.result: BuildResult | None = None
        """What this build prepared (or what `kb build` prepared and handed over)."""
        self.handed: BuildResult | None = None
        """What `kb build` handed over for the next build (used once, then forgotten)."""
        self.lock: Any = None
        """The project lock (`generator.lock`), held from pre_build to post_build of a plain MkDocs build."""
        self.nav: list[Any] | None = None
        """The navigation this plugin set (mkdocs.yml has no `nav:`): replaced on the next build."""
        self.strict = False
        """MkDocs' strict mode (`--strict` or `strict: true`), which fails the build on any warning."""
        self.dirty = False
        """`mkdocs serve --dirty` / `mkdocs build --dirty`: every build is a dirty one."""
        # -- what `mkdocs serve` keeps between its rebuilds (`generator.incremental`) --
        self.cards: CardCache | None = None
        self.repeats: Repeats | None = None
        self.keys: PageKeys | None = None
        self.site_state: SiteState | None = None
        self.deferred: set[str] = set()
        self.inputs: Inputs | None = None
        self.serve_dirty = False
        """The next build is asked for dirty by the serve builder."""
        self.inc: Incremental | None = None
        """This build's incremental bookkeeping (serve and `kb build`), None for a plain build."""
        self.files: Files | None = None

    def use_prepared(self, result: BuildResult) -> None:
        """`kb build` has validated the cards and rendered the PDFs and pages already: use its result
        instead of preparing again."""
        self.handed = result

    def load_config(
        self, options: dict[str, Any], config_file_path: str | None = None
    ) -> tuple[list[tuple[str, Exception]], list[tuple[str, str]]]:
        """Validate the options against `Settings`; each wrong option is one located MkDocs error."""
        errors, warnings = super().load_config({}, config_file_path)
        try:
            self.settings = Settings.model_validate(_plain(dict(options)))
        except ValidationError as exc:
            for e in exc.errors(include_url=False):
                key = ".".join(str(p) for p in e["loc"]) or "kb"
                errors.append((key, MkDocsValidationError(str(e["msg"]))))
        return errors, warnings

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.command = command
        self.dirty = dirty
        if command == "serve":
            from generator.incremental.serve import Repeats
            from generator.knowledge import CardCache
            from generator.render.site import PageKeys

            self.cards, self.keys, self.repeats = CardCache(), PageKeys(), Repeats()

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        # A new build (perhaps of another project, in the same process): nothing of the last one.
        self.project = Project.from_mkdocs(config, self.settings)
        self.result = None
        self.inc = None
        self.strict = bool(config.strict)
        if not config.repo_url:
            # mkdocs.yml's repo_url comes from the environment (KB_REPO_URL); without it, an edit_uri
            # would become a link relative to each page.
            config.edit_uri = None
        from generator.render.fastlinks import FastLinks

        # Catalog-like pages hold blocks of hundreds of links: linear instead of quadratic (same HTML).
        if not any(isinstance(e, FastLinks) for e in config.markdown_extensions):
            config.markdown_extensions.append(FastLinks())
        from generator.render.unsearched import Unsearched

        # The card listings of catalog-like pages out of the search index, where mkdocs.yml lacks it.
        listed = (e == Unsearched.__module__ or isinstance(e, Unsearched) for e in config.markdown_extensions)
        if not any(listed):
            config.markdown_extensions.append(Unsearched())
        return config

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        """Load the knowledge base, validate and render before MkDocs collects the files of docs_dir;
        set the navigation."""
        project = self._project()
        if self.command == "serve" and self.inputs is not None:
            self.inputs.start()  # before anything is read: a save from now on is a change
        if self.handed is not None:
            self.result, self.handed = self.handed, None
        else:
            self._prepare(project)
        if self.result is not None and (config.nav is None or config.nav is self.nav):
            from generator.render.nav import site_nav

            config.nav = self.nav = site_nav(
                self.result.kb, project.docs_dir, broken=[(b.kind.name, b.page) for b in self.result.broken]
            )
        self._incremental(config)

    def _incremental(self, config: MkDocsConfig) -> None:
        """Serving, or handed an incremental `kb build`: this build's `Incremental` (which pages MkDocs
        reads and builds again)."""
        from generator.incremental.mkdocs import Incremental, site_signature

        serving = self.command == "serve"
        handed = self.result.site_state if self.result is not None else None
        if serving:
            dirty = self.dirty or self.serve_dirty
            self.serve_dirty = False
            self.inc = Incremental(
                self.site_state if dirty else None,
                signature=site_signature(config),
                serving=True,
                budget=self.settings.serve_refresh_s,
                deferred=self.deferred,
            )
        elif self.result is not None and self.result.incremental:
            self.inc = Incremental(handed, signature=site_signature(config), serving=False)

    def _prepare(self, project: Project) -> None:
        from generator.build import prepare
        from generator.knowledge import load_knowledge_base
        from generator.lock import ProjectLock

        # `kb build` holds the project lock itself and hands over its result: _prepare is not called.
        if self.lock is None or self.lock.root != project.root:
            self._release()
            self.lock = ProjectLock(project.root, f"mkdocs {self.command}")
        if not self.lock.is_locked:
            self.lock.acquire(say=log.info)
        # `mkdocs build` renders the PDFs like `kb build`; `mkdocs serve` only when asked (and neither
        # when the `pdf` setting is off: `prepare` checks it).
        serving = self.command == "serve"
        pdf = self.settings.pdf_on_serve if serving else True
        repeats = None
        try:
            kb, _problems = load_knowledge_base(
                project.root, None, project.kb_dir, project.smoke_dir, cache=self.cards
            )
            say, notice, repeats = self._sayers(serving)
            self.result = prepare(
                project,
                kb,
                pdf=pdf,
                strict=self.settings.strict,
                say=say,
                info=log.info,
                show_errors=serving,
                notice=notice,
                keys=self.keys,
            )
        except KBError as exc:
            raise PluginError(f"kb: {exc}") from exc
        finally:
            held = repeats.end() if repeats is not None else 0
            if held:
                log.info(
                    "kb: %d warning(s) that the last rebuild gave, not repeated (`mkdocs build` lists all)",
                    held,
                )
        render = self.result.render
        if render and (render.written or render.removed):
            log.info("kb: %s", render.summary())
            if self.inputs is not None:
                self.inputs.wrote(project.docs_dir / p for p in [*render.written, *render.removed])
        for card in self.result.broken:
            errors = sum(p.is_error for p in card.problems)
            (log.info if self.strict else log.warning)(
                "kb: %s has %d error(s) (listed above): until it is fixed, its page %s shows them "
                "instead of the card; `mkdocs build` refuses to build",
                card.file,
                errors,
                card.page.removesuffix(".md") + "/",
            )

    def _sayers(self, serving: bool) -> tuple[Callable[[str], None], Callable[[str], None], Repeats | None]:
        """How a rebuild tells its problems (`say`) and the maintainer's notices (`notice`), and what
        holds back those the last rebuild told (serving, not strict).

        Serving, a card with errors shows them on its page instead of failing the rebuild. The
        maintainer's notices (a cited snippet not synced) and, serving, the errors a card's page shows
        never fail a build: under strict mode, where every warning does, they are logged as information
        (else `mkdocs serve --strict` would abort and keep the old page)."""
        say: Callable[[str], None] = log.warning
        notice: Callable[[str], None] = log.info if self.strict else log.warning
        repeats = self.repeats if serving and not (self.strict or self.settings.strict) else None
        if repeats is not None:
            say, notice = repeats.wrap(say), repeats.wrap(notice)
        return say, notice, repeats

    def on_nav(self, nav: Any, *, config: MkDocsConfig, files: Files) -> Any:
        if self.inc is not None:
            self.inc.on_nav(nav, config, files)
        return nav

    def on_env(self, env: Any, *, config: MkDocsConfig, files: Files) -> Any:
        from generator.render.jinja import compiled_templates

        env.bytecode_cache = compiled_templates("theme")  # serve: the theme compiled once, not per rebuild
        if self.inc is not None:
            self.inc.on_env(files, config)
        return env

    @event_priority(-100)  # after the search plugin has looked at the page
    def on_page_context(self, context: Any, *, page: Any, config: MkDocsConfig, nav: Any) -> Any:
        if self.inc is not None:
            self.inc.on_page_context(page)
        return context

    def on_post_page(self, output: str, *, page: Any, config: MkDocsConfig) -> str:
        if self.inc is not None:
            self.inc.on_post_page(page)
        return output

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if self.inc is not None and self.files is not None:
            inc = self.inc
            state = inc.on_post_build(self.files, config.site_dir)
            if self.command == "serve":
                self.site_state, self.deferred = state, set(inc.deferred)
                _say_served(inc)
            elif self.result is not None:
                self.result.new_site_state = state
                dest = self.files.src_uris
                self.result.site_built = sorted(dest[u].dest_uri for u in inc.built)
                self.result.site_read = sorted(dest[u].dest_uri for u in inc.built & inc.read)
        self._release()

    def on_build_error(self, *, error: Exception) -> None:
        self._release()
        # A failed rebuild leaves the served folder half built: the next one builds every page.
        self.site_state, self.deferred = None, set()

    def on_shutdown(self) -> None:
        self._release()
        self.command = "build"  # the next in-process build of this (cached) object is not serving
        self.cards = self.keys = self.site_state = self.inputs = self.repeats = None
        self.deferred = set()

    def _release(self) -> None:
        if self.lock is not None:
            self.lock.release()

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        """Publish each card's YAML as `kb/<folder>/<id>.yaml` and its PDF as `pdf/<id>.pdf` (only for
        cards that exist)."""
        files = self._publish_files(files, config)
        self.files = files
        if self.inc is not None:
            handed = self.result.site_state if self.result is not None else None
            project = self._project()
            load = (lambda uris: handed.load_bodies(project.layout, uris)) if handed is not None else None
            self.inc.on_files(files, config.site_dir, load)
        return files

    def _publish_files(self, files: Files, config: MkDocsConfig) -> Files:
        project = self._project()
        from generator.knowledge import card_files

        # Every card file of kb/ (a listing, no validation: the pages link each card's YAML).
        for kind, path in card_files(project.kb_dir):
            files.append(
                File.generated(config, Layout.card_file_path(kind, path.stem), abs_src_path=str(path))
            )
        if not self.settings.pdf or self.result is None:
            return files
        if self.result.pdf_pending is not None:
            # `kb build` is still rendering them: listed (pages link them), copied by `kb build` once made.
            for card_id in sorted(self.result.pdf_pending):
                files.append(
                    _PendingFile.generated(
                        config,
                        Layout.site_pdf_path(card_id),
                        abs_src_path=str(self.result.pdf_pending[card_id]),
                    )
                )
            return files
        for loaded in self.result.kb.all():
            path = project.layout.pdf_file(loaded.id)
            if path.is_file():
                files.append(File.generated(config, Layout.site_pdf_path(loaded.id), abs_src_path=str(path)))
        return files

    def on_page_content(self, html: str, *, page: Any, config: Any, files: Files) -> str:
        """Pages generated from cards pass the allowlist sanitizer (hand-written pages are left as they
        are): whatever Markdown made of untrusted card text, no script, handler or unsafe URL survives."""
        from generator.render.sanitize import clean_page, removed
        from generator.render.site import is_generated

        src = getattr(page.file, "abs_src_path", None)
        if not src or not is_generated(Path(src)):
            return html
        cleaned = clean_page(html)
        gone = removed(html, cleaned)
        if gone:
            # Card text got past the escaping: the sanitizer held, and the page shows it was cut.
            log.info(
                "kb: %s: the sanitizer removed markup made from card text: %s",
                page.file.src_uri,
                ", ".join(gone[:5]) + (" ..." if len(gone) > 5 else ""),
            )
        return cleaned

    def on_page_markdown(self, markdown: str, *, page: Any, config: Any, files: Files) -> str:
        """A card's page edits its YAML on the forge; a generated catalog page has no edit link."""
        source = page.meta.get("kb_generated_from") if page.meta else None
        if isinstance(source, str):
            project = self._project()
            page.edit_url = (
                forge.edit_url(
                    {"repo_url": config.repo_url, "edit_uri": config.edit_uri},
                    project.rel(project.docs_dir),
                    source,
                )
                if source.endswith(".yaml") and config.edit_uri
                else None
            )
        return markdown

    def on_serve(self, server: Any, *, config: Any, builder: Any) -> Any:
        """Reload the site when a card or a template changes; rebuild incrementally, and only when
        something changed besides the pages this plugin wrote (`generator.incremental.serve`)."""
        from generator.incremental.serve import Inputs, ServeBuilder

        project = self._project()
        watched = [project.kb_dir, project.templates_dir, project.template_overrides]
        for folder in watched:
            if folder is not None and folder.is_dir():
                server.watch(str(folder))
        if self.command != "serve":
            return server  # `mkdocs serve --clean`: full builds, as asked
        trigger = project.layout.serve_trigger_dir
        trigger.mkdir(parents=True, exist_ok=True)
        server.watch(str(trigger))
        paths = [config.docs_dir, config.config_file_path, *config.watch, *watched]
        theme_dir = config.theme.custom_dir
        self.inputs = Inputs(Path(p) for p in [*paths, theme_dir] if p)
        self.inputs.start()
        rebuild = ServeBuilder(
            builder, needed=self._rebuild_needed, before=self._dirty_next, after=self._more, server=server
        )
        if rebuild.incremental:
            server.builder = rebuild
        else:
            log.warning("kb: this MkDocs builds its own way: every rebuild of `mkdocs serve` is a full one")
        return server

    def _rebuild_needed(self) -> bool:
        return bool(self.deferred) or self.inputs is None or self.inputs.changed()

    def _dirty_next(self) -> None:
        self.serve_dirty = True

    def _more(self) -> None:
        """Pages still wait for their navigation: ask the server for the next rebuild."""
        if self.deferred and self.project is not None:
            from generator.incremental.serve import request_more

            request_more(self.project.layout.serve_trigger_dir)

    def _project(self) -> Project:
        if self.project is None:
            raise PluginError("kb: the plugin was used before MkDocs loaded its configuration")
        return self.project


def _say_served(inc: Incremental) -> None:
    if not inc.incremental:
        return
    themed = len(inc.built - inc.read)
    pending = f"; the navigation of {len(inc.deferred)} page(s) is refreshed next" if inc.deferred else ""
    log.info(
        "kb: %d page(s) built again (%d changed, %d with the new navigation), %d kept%s",
        len(inc.built),
        len(inc.built & inc.read),
        themed,
        len(inc.sources) - len(inc.built),
        pending,
    )


class _PendingFile(File):
    """A PDF that `kb build` is still rendering while MkDocs builds: a file of the site that MkDocs
    knows (its links are valid) but does not copy; `kb build` copies it once it is made."""

    def copy_file(self, dirty: bool = False) -> None:
        return None

"""The `kb` MkDocs plugin: a thin layer that calls the generator, so plain `mkdocs build` and
`mkdocs serve` regenerate the pages from the cards.

- When a build starts: validate the cards, render the PDFs (`mkdocs build`; `mkdocs serve` only with
  `pdf_on_serve`) and the pages;
  an invalid card fails the build with every located message.
- `mkdocs serve` also watches `kb/` and `templates/`, so saving a card reloads its page.
- The PDFs under artifacts/ are added to the site's files as `pdf/<id>.pdf`, so MkDocs copies them
  and its link validation knows them.

Its options are the fields of `generator.settings.Settings` (defaults live there only).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mkdocs.config.base import ValidationError as MkDocsValidationError
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files
from pydantic import ValidationError

from generator.exceptions import KBError
from generator.render import views
from generator.render.context import PDF_FOLDER
from generator.settings import Project, Settings, _plain

log = logging.getLogger("mkdocs.plugins.kb")


class KBPlugin(BasePlugin):  # options are validated by pydantic, not MkDocs
    """Renders the knowledge base into docs_dir at the start of every MkDocs build."""

    def __init__(self) -> None:
        super().__init__()
        self.settings = Settings()
        self.project: Project | None = None
        self.command = "build"
        self.prepared = False
        """Set by `kb build`, which has validated and rendered already."""
        self.card_ids: list[str] = []

    def load_config(self, options: dict[str, Any], config_file_path: str | None = None) -> tuple[
            list[tuple[str, Exception]], list[tuple[str, str]]]:
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

    def on_config(self, config: Any) -> Any:
        root = Path(config.config_file_path).resolve().parent if config.config_file_path else Path.cwd()
        self.project = Project(root, self.settings, {
            "docs_dir": config.docs_dir, "site_dir": config.site_dir,
            "repo_url": config.repo_url, "edit_uri": config.edit_uri,
        })
        return config

    def on_pre_build(self, *, config: Any) -> None:
        """Validate and render before MkDocs collects the files of docs_dir."""
        from generator.build import prepare

        project = self._project()
        if self.prepared:
            return
        # `mkdocs build` renders the PDFs like `kb build`; `mkdocs serve` only when asked (and neither
        # when the `pdf` setting is off: `prepare` checks it).
        pdf = self.settings.pdf_on_serve if self.command == "serve" else True
        try:
            result = prepare(project, pdf=pdf, strict=self.settings.strict, say=log.warning, info=log.info)
        except KBError as exc:
            raise PluginError(f"kb: {exc}") from exc
        self.card_ids = [c.id for c in result.kb.all()]
        if result.render and result.render.written:
            log.info("kb: %s", result.render.summary())

    def on_files(self, files: Files, *, config: Any) -> Files:
        """Publish each card's PDF as `pdf/<id>.pdf` (only for cards that exist)."""
        project = self._project()
        if not self.settings.pdf:
            return files
        for card_id in self.card_ids:
            path = project.pdf_dir / views.pdf_name(card_id)
            if path.is_file():
                files.append(File.generated(config, f"{PDF_FOLDER}/{path.name}", abs_src_path=str(path)))
        return files

    def on_serve(self, server: Any, *, config: Any, builder: Any) -> Any:
        """Reload the site when a card or a template changes."""
        project = self._project()
        for folder in (project.kb_dir, project.templates_dir, project.template_overrides):
            if folder is not None and folder.is_dir():
                server.watch(str(folder))
        return server

    def _project(self) -> Project:
        if self.project is None:
            raise PluginError("kb: the plugin was used before MkDocs loaded its configuration")
        return self.project


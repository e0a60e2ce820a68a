"""The one Jinja environment: templates from the user's override folder first, then the product's.

`StrictUndefined` makes a typo in a template fail loudly instead of rendering an empty string.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache

from generator.exceptions import RenderError
from generator.render import markup

HTML_EXTENSIONS = ("html", "htm", "xml", "html.j2", "htm.j2", "xml.j2")
"""Templates escaped when autoescaping is on (print templates end in `.html.j2`)."""


class _CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled once per process: `mkdocs serve` renders the same ones on every rebuild, each
    time in a new Jinja environment. Jinja compares each with its source's checksum before using it."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self.compiled.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_compiled: dict[str, _CompiledTemplates] = {}


def compiled_templates(environment: str) -> jinja2.BytecodeCache:
    """The compiled templates of one kind of environment (how a template compiles depends on the
    environment's settings, so each kind keeps its own): `pages`, `print`, `theme` (MkDocs')."""
    return _compiled.setdefault(environment, _CompiledTemplates())


class Renderer:
    """Owns the Jinja environment; renders a named template with a context."""

    def __init__(self, templates_dir: Path, overrides: Path | None = None, *, autoescape: bool = False):
        search = [str(overrides)] if overrides else []
        search.append(str(templates_dir))
        self.search_path = [Path(p) for p in search]
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(search),
            undefined=jinja2.StrictUndefined,
            autoescape=(
                jinja2.select_autoescape(HTML_EXTENSIONS, default_for_string=True) if autoescape else False
            ),
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            bytecode_cache=compiled_templates("print" if autoescape else "pages"),
        )
        self.env.filters["md"] = markup.prose
        self.env.filters["plain"] = markup.plain
        self.env.filters["inline"] = markup.inline
        self.env.filters["md_html"] = markup.markdown_to_html

    def render(self, name: str, **context: Any) -> str:
        try:
            return self.env.get_template(name).render(**context)
        except jinja2.TemplateError as exc:
            where = f"{exc.filename}:{exc.lineno}" if isinstance(exc, jinja2.TemplateSyntaxError) else name
            raise RenderError(f"template {where}: {exc}") from exc
        except (TypeError, ValueError, AttributeError, KeyError, IndexError, ZeroDivisionError) as exc:
            # A template (often a user's override written for an older context) misusing a value.
            raise RenderError(
                f"template {self._located(name, exc)}: {type(exc).__name__}: {exc} (if this "
                "is an override in template_overrides, compare it with the product's "
                "template of the same name)"
            ) from exc

    def _located(self, name: str, exc: BaseException) -> str:
        """`name:line` of the innermost template frame of the traceback (Jinja keeps template lines)."""
        tb, where = exc.__traceback__, name
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            if filename.endswith(".j2"):
                where = f"{filename}:{tb.tb_lineno}"
            tb = tb.tb_next
        return where

    def template_files(self, prefix: str = "") -> list[Path]:
        """Every template file that can shape the output (for cache keys), overrides first."""
        files = []
        for folder in self.search_path:
            base = folder / prefix
            if base.is_dir():
                files.extend(sorted(p for p in base.rglob("*") if p.is_file()))
        return files

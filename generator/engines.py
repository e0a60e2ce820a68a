"""The engines that turn docs_dir into the site: MkDocs with the `kb` plugin (`generator.build.run_mkdocs`)
and Zensical, MkDocs' successor by Material's authors (`kb build --engine zensical`).

Zensical reads mkdocs.yml but runs no MkDocs plugin, so what the plugin does for MkDocs is done here,
around it, and the site is the product's all the same:

- the navigation: Zensical is handed a configuration file that inherits mkdocs.yml (`INHERIT`) and
  adds the product's navigation (`generator.render.nav.site_nav`, unless mkdocs.yml has a `nav:`)
  and the staging folder as `site_dir`; it lives beside mkdocs.yml while Zensical runs, then goes;
- each card's YAML is copied to `kb/<kind folder>/<id>.yaml` and each current PDF to `pdf/<id>.pdf`,
  where the pages link them;
- the output guarantee: the content of every page generated from cards passes the page sanitizer
  (`generator.render.sanitize.clean_page`), as the plugin's `on_page_content` does under MkDocs.

The link check and the swap into site/ are `kb build`'s, as for MkDocs; Zensical keeps its own cache
(`.cache/` in the project), so an unchanged page costs it little.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from generator.exceptions import BuildFailed, UsageError
from generator.io import atomic_write_bytes
from generator.knowledge import KnowledgeBase, card_files
from generator.layout import Layout
from generator.render.sanitize import clean_page
from generator.settings import CONFIG_FILE, Project

ENGINES = ("mkdocs", "zensical")
ZENSICAL_CONFIG = ".kb-zensical.yml"
"""The configuration Zensical is handed, beside mkdocs.yml while it runs."""
ARTICLE = '<article class="md-content__inner md-typeset">'
"""Where a page's content starts in Zensical's (and Material's) page template."""


def zensical_available() -> bool:
    return importlib.util.find_spec("zensical") is not None


def run_zensical(
    project: Project,
    kb: KnowledgeBase,
    site_dir: Path,
    *,
    strict: bool = False,
    say: Callable[[str], None] = print,
) -> None:
    """Build `site_dir` with Zensical from docs_dir (then `finish_zensical` once the PDFs are made)."""
    if not zensical_available():
        raise UsageError(
            "--engine zensical: Zensical is not installed; install it with "
            '`pip install "foundation-model-kb[zensical]"` (or `pip install zensical`)'
        )
    config = project.root / ZENSICAL_CONFIG
    atomic_write_bytes(config, _config(project, kb, site_dir).encode())
    try:
        run = subprocess.run(
            [sys.executable, "-m", "zensical", "build", "-f", str(config), *(["--strict"] if strict else [])],
            cwd=project.root,
            capture_output=True,
            text=True,
        )
    finally:
        config.unlink(missing_ok=True)
    output = (run.stdout + run.stderr).strip()
    if run.returncode != 0 or not (site_dir / "index.html").is_file():
        raise BuildFailed(f"{project.root / CONFIG_FILE}: the Zensical build failed:\n{output[-3000:]}")
    for line in output.splitlines():
        if line.strip() and not line.startswith(("Build started", "Build finished", "No issues found")):
            say(f"kb: zensical: {line}")


def finish_zensical(
    project: Project, site_dir: Path, *, generated: Iterable[str], pdfs: dict[str, Path]
) -> None:
    """What the `kb` plugin does under MkDocs: the cards' YAML and the PDFs (card id -> current PDF)
    into the site, and the content of the pages generated from cards (`generated`) sanitized."""
    _publish_cards(project, site_dir, pdfs)
    _sanitize(site_dir, generated)


def _config(project: Project, kb: KnowledgeBase, site_dir: Path) -> str:
    """mkdocs.yml inherited, with the product's navigation and the staging folder (JSON is YAML)."""
    from generator.render.nav import site_nav

    lines = [f"INHERIT: {CONFIG_FILE}", f"site_dir: {json.dumps(project.rel(site_dir))}"]
    if project.mkdocs_config.get("nav") is None:
        lines.append(f"nav: {json.dumps(site_nav(kb, project.docs_dir))}")
    return "\n".join(lines) + "\n"


def _publish_cards(project: Project, site_dir: Path, pdfs: dict[str, Path]) -> None:
    """Every card file of kb/ as `kb/<folder>/<id>.yaml`, every current PDF as `pdf/<id>.pdf`."""
    copies = [(path, Layout.card_file_path(kind, path.stem)) for kind, path in card_files(project.kb_dir)]
    copies += [(path, Layout.site_pdf_path(card_id)) for card_id, path in sorted(pdfs.items())]
    for source, rel in copies:
        target = site_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def _sanitize(site_dir: Path, generated: Iterable[str]) -> None:
    """The content of each page generated from cards through the page allowlist (from the start of its
    article to the last `</article>` of the file, so nothing a card wrote can end the region early)."""
    for page in generated:
        built = Layout.built_page(site_dir, page)
        try:
            html = built.read_text(encoding="utf-8")
        except OSError:
            continue  # the link check names a page that is missing
        start = html.find(ARTICLE)
        end = html.rfind("</article>")
        if start < 0 or end < start:
            raise BuildFailed(
                f"{built}: no `{ARTICLE}` in the page Zensical wrote, so its content cannot be "
                "sanitized (a Zensical whose page template changed?)"
            )
        start += len(ARTICLE)
        cleaned = clean_page(html[start:end])
        built.write_text(html[:start] + cleaned + html[end:], encoding="utf-8")

"""`kb build`: the one function that publishes, read top to bottom. Each stage is one call into the library.

Stages: validate the cards -> (publishing gate) -> PDFs -> render the pages -> MkDocs build -> link check.
PDFs come before the pages because a page shows its "Download PDF" button only once its PDF exists.
The `kb` MkDocs plugin runs `prepare` itself on a plain `mkdocs build` / `mkdocs serve`; `kb build`
runs it here and tells the plugin not to repeat it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from generator.exceptions import BuildFailed, PublishRefused, ValidationFailed
from generator.knowledge import KnowledgeBase, load_knowledge_base
from generator.problems import Problem, escalate
from generator.render.context import Site, smoke_status
from generator.render.site import RenderReport, render_site
from generator.settings import CONFIG_FILE, Project

Say = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


@dataclass
class BuildResult:
    """What a build did: the knowledge base it published, the problems shown, the pages written."""

    kb: KnowledgeBase
    problems: list[Problem] = field(default_factory=list)
    render: RenderReport | None = None
    pdf: Any = None


def validate(project: Project, *, strict: bool = False) -> tuple[KnowledgeBase, list[Problem]]:
    """Load every card; raise `ValidationFailed` (carrying every located problem) on any error."""
    kb, problems = load_knowledge_base(project.root, None, project.kb_dir)
    problems = escalate(problems, strict or project.settings.strict)
    if any(p.is_error for p in problems):
        raise ValidationFailed(problems)
    return kb, problems


def smoke_gate(project: Project, kb: KnowledgeBase) -> None:
    """Refuse to publish while any model card's smoke test failed, is stale or has not run."""
    site = Site(project, kb)
    blocked = []
    for loaded in kb.models:
        status = smoke_status(site, loaded)
        state = status.state if status else "not declared"
        if state in ("failed", "stale", "not run", "not declared"):
            blocked.append(f"  {loaded.rel}: smoke test {state}")
    if blocked:
        raise PublishRefused(
            f"{len(blocked)} model card(s) are not verified, so the site is not published:\n"
            + "\n".join(blocked)
            + "\nRun `kb smoke <id>` for each (a card declares how in its `smoke_test` section), "
            "or build without --require-smoke.")


def pdf_step(project: Project, kb: KnowledgeBase, say: Say = _stderr) -> Any:
    """Render the PDF walkthroughs (incremental: unchanged cards cost nothing)."""
    try:
        from generator.pdf import build_pdfs  # type: ignore[attr-defined]  # lands with the PDF issue
    except ImportError:
        say("kb: PDFs skipped: the PDF renderer (generator.pdf.build_pdfs) is not available")
        return None
    return build_pdfs(project=project, kb=kb)


def prepare(project: Project, *, pdf: bool, strict: bool = False, say: Say = _stderr) -> BuildResult:
    """Everything before MkDocs: validate, PDFs, pages. Used by the MkDocs plugin and `kb render`."""
    kb, problems = validate(project, strict=strict)
    return outputs(project, kb, problems, pdf=pdf, say=say)


def outputs(project: Project, kb: KnowledgeBase, problems: list[Problem], *, pdf: bool,
            say: Say = _stderr) -> BuildResult:
    """PDFs, then the pages that link them, from a validated knowledge base."""
    for p in problems:
        say(p.format())
    result = BuildResult(kb, problems)
    # PDFs first, so the pages rendered next can link the ones that exist.
    if pdf and project.settings.pdf:
        result.pdf = pdf_step(project, kb, say)
    # Pages into docs_dir: only changed ones are written, orphans removed, hand-written ones refused.
    result.render = render_site(project, kb)
    return result


def build(project: Project, *, strict: bool = False, pdf: bool = True, require_smoke: bool = False,
          say: Say = _stderr) -> BuildResult:
    """`kb build`: validate -> gate -> PDFs -> pages -> `mkdocs build` -> link check."""
    # 1. Validate (and, when asked, refuse unverified cards before producing anything).
    kb, problems = validate(project, strict=strict)
    if require_smoke:
        smoke_gate(project, kb)
    # 2-3. PDFs, then the pages that link them.
    result = outputs(project, kb, problems, pdf=pdf, say=say)
    say(f"kb: pages: {result.render.summary() if result.render else 'none'}")
    # 4. The MkDocs build, in-process with the project's mkdocs.yml; the plugin skips its own prepare.
    run_mkdocs(project, strict=strict, card_ids=[c.id for c in kb.all()])
    # 5. Link check: wired in by the link-check issue.
    return result


def run_mkdocs(project: Project, *, strict: bool = False, card_ids: list[str] | None = None) -> None:
    """Build site/ with MkDocs; `strict` fails on any MkDocs warning (broken link, missing anchor)."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    _show_mkdocs_log()
    config_file = project.root / CONFIG_FILE
    try:
        config = load_config(config_file=str(config_file), strict=strict)
        plugin = config.plugins.get("kb")
        if plugin is not None and card_ids is not None:
            plugin.prepared = True  # type: ignore[attr-defined]  # attributes of KBPlugin
            plugin.card_ids = card_ids  # type: ignore[attr-defined]
        mkdocs_build(config)
    except MkDocsException as exc:
        raise BuildFailed(f"{config_file}: the MkDocs build failed: {exc}") from exc


def _show_mkdocs_log() -> None:
    """Print MkDocs' warnings the way `mkdocs build` does (it logs; nobody listens in-process)."""
    log = logging.getLogger("mkdocs")
    if not any(getattr(h, "_kb", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
        handler.setLevel(logging.WARNING)
        handler._kb = True  # type: ignore[attr-defined]
        log.addHandler(handler)
        log.setLevel(min(log.level or logging.INFO, logging.INFO))

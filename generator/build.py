"""`kb build`: the one function that publishes, read top to bottom. Each stage is one call into the library.

Stages: validate the cards -> (publishing gate) -> PDFs -> render the pages -> MkDocs build -> link check.
PDFs come before the pages because a page shows its "Download PDF" button only once its PDF exists.
The `kb` MkDocs plugin runs `prepare` itself on a plain `mkdocs build` / `mkdocs serve`; `kb build`
runs it here and hands the plugin its result (`KBPlugin.use_prepared`). The entry points (the `kb`
commands, the plugin) load the knowledge base once and pass it down.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import sys
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from generator.incremental.state import SiteState
    from generator.pdf import PdfPlan, PdfRun, Rendering

from generator.exceptions import BuildFailed, PublishRefused, ValidationFailed
from generator.facts import Facts, build_facts, missing_snippets
from generator.knowledge import KnowledgeBase
from generator.layout import Layout
from generator.problems import Problem, Severity, escalate
from generator.render.site import (
    BrokenCard,
    PageKeys,
    RenderReport,
    broken_cards,
    error_pages,
    render_site,
)
from generator.settings import CONFIG_FILE, Project
from generator.sitedir import failed_dir, publish, staging_dir
from generator.stamp import BuildStamp

Say = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


@dataclass
class BuildResult:
    """What a build did: the knowledge base it published, its facts, the problems shown, the pages
    written."""

    kb: KnowledgeBase
    facts: Facts
    problems: list[Problem] = field(default_factory=list)
    render: RenderReport | None = None
    pdf: PdfRun | None = None
    links: list[Problem] = field(default_factory=list)
    broken: list[BrokenCard] = field(default_factory=list)
    """`prepare(show_errors=True)` only: the cards with errors, whose pages show them."""
    pdf_pending: dict[str, Path] | None = None
    """Card id -> PDF under artifacts/ of the PDFs `kb build` is still rendering while MkDocs runs: the
    plugin lists them in the site without copying them (the build copies them once they exist)."""
    incremental: bool = False
    """`kb build` builds the site incrementally (MkDocs dirty, into a copy of the last site)."""
    site_state: SiteState | None = None
    """The last build's state, for an incremental build (None: every page is built)."""
    new_site_state: SiteState | None = None
    """What the plugin recorded of this build, saved once the site is published."""
    site_built: list[str] = field(default_factory=list)
    """The HTML files of the pages MkDocs built (the others are kept from the last site)."""
    site_read: list[str] = field(default_factory=list)
    """Of those, the pages whose Markdown was converted again (the others were themed again only)."""


def validate(project: Project, kb: KnowledgeBase, *, strict: bool = False) -> list[Problem]:
    """The loading problems plus the license policy's; raise `ValidationFailed` (carrying every
    located problem) on any error."""
    from generator.checks.licenses import policy_problems

    problems = list(kb.problems)
    if not any(p.is_error for p in problems):
        problems += [p for p in policy_problems(project, kb) if p.severity is not Severity.INFO]
    problems = escalate(problems, strict or project.settings.strict)
    if any(p.is_error for p in problems):
        raise ValidationFailed(problems)
    return problems


def smoke_gate(kb: KnowledgeBase, facts: Facts, accept_reference: bool = True, say: Say = _stderr) -> None:
    """Refuse to publish while any model card's smoke test failed, is stale, has not run or is not
    verified (no allowed signer signed its report), or, with `accept_reference` false, passed on the
    reference kernels only. Lines of the allowed signers that could not be read are shown first."""
    for p in facts.signers.problems:
        say(dataclasses.replace(p, severity=Severity.WARNING).format())
    blocked = []
    for loaded in kb.models:
        smoke = facts.of(loaded).smoke
        why = smoke.blocked(accept_reference) if smoke else "smoke test not run"
        if why:
            blocked.append(f"  {loaded.rel}: {why}")
    if blocked:
        raise PublishRefused(
            f"{len(blocked)} model card(s) are not verified, so the site is not published:\n"
            + "\n".join(blocked)
            + "\nRun `kb smoke <id>` for each (a card declares how in its `smoke_test` section) with a "
            "signing key an allowed signer holds (SECURITY.md), or build without --require-smoke."
        )


def pdf_step(
    project: Project,
    kb: KnowledgeBase,
    facts: Facts,
    say: Say = _stderr,
    info: Say | None = None,
    *,
    strict: bool = False,
) -> PdfRun:
    """Render the PDF walkthroughs (incremental: unchanged cards cost nothing).

    A card whose PDF fails is reported and the others are still written; the build then fails, so a
    site is never published with a PDF missing or out of date.
    """
    from generator.pdf import build_pdfs

    run = build_pdfs(project, kb, facts=facts, jobs=project.settings.pdf_jobs, progress=sys.stderr.isatty())
    return pdf_report(project, run, say, info, strict=strict)


def pdf_report(
    project: Project, run: PdfRun, say: Say = _stderr, info: Say | None = None, *, strict: bool = False
) -> PdfRun:
    """Show what the PDF stage did; raise `BuildFailed` when a PDF failed (or warned, under `strict`)."""
    for line in run.report_lines(project.rel):
        (say if line.startswith(("warning:", "error:")) else info or say)(f"kb: pdf: {line}")
    if run.failed:
        raise BuildFailed(
            f"{len(run.failed)} PDF walkthrough(s) failed to render: "
            + ", ".join(sorted(run.failed))
            + " (see the messages above)"
        )
    if strict and run.warnings:
        raise BuildFailed(f"{len(run.warnings)} PDF warning(s), errors under --strict (listed above)")
    return run


def checked(
    project: Project,
    kb: KnowledgeBase,
    problems: list[Problem],
    *,
    say: Say = _stderr,
    require_smoke: bool = False,
    notice: Say | None = None,
) -> BuildResult:
    """On validated cards (`problems`: the warnings `validate` returned): each card's facts once (for
    the gate, the PDFs, the pages), the publishing gate when asked, the problems shown, and `notice`
    (default: `say`) told of cited code whose snippet is missing."""
    facts = build_facts(project, kb)
    if require_smoke:
        smoke_gate(kb, facts, project.settings.smoke_accept_reference_kernels, say)
    for p in problems:
        say(p.format())
    # Cited code whose snippet is not in the lock files: readers get the permalink, the maintainer the
    # fix, once per build. Never an error, not even under --strict: a fresh clone has no synced
    # repositories, and the Pages workflow syncs them (`kb repos sync` fails on its own if it cannot).
    for p in missing_snippets(kb, facts):
        (notice or say)(p.format())
    return BuildResult(kb, facts, problems)


def prepare(
    project: Project,
    kb: KnowledgeBase,
    *,
    pdf: bool,
    strict: bool = False,
    say: Say = _stderr,
    info: Say | None = None,
    require_smoke: bool = False,
    show_errors: bool = False,
    notice: Say | None = None,
    keys: PageKeys | None = None,
) -> BuildResult:
    """Everything before MkDocs: validate, (the publishing gate), PDFs, pages. Used by `kb build`,
    `kb render` and the MkDocs plugin. `say` shows problems, `info` progress (default: `say`; the
    MkDocs plugin logs it below warning level), `notice` the maintainer's warnings that never fail a
    build, even a strict one (default: `say`). `keys`: card pages rendered from the same inputs
    before are not rendered again (`mkdocs serve`).

    With `show_errors` (`mkdocs serve`) invalid cards do not raise: the pages are rendered from the
    valid cards, each broken card's page lists its problems instead (`BuildResult.broken`), no PDF."""
    try:
        problems = validate(project, kb, strict=strict)
    except ValidationFailed as exc:
        if not show_errors:
            raise
        return _prepare_with_errors(project, kb, exc.problems, say, notice or say, keys)
    result = checked(project, kb, problems, say=say, require_smoke=require_smoke, notice=notice)
    # PDFs first, so the pages rendered next can link the ones that exist.
    if pdf and project.settings.pdf:
        result.pdf = pdf_step(project, kb, result.facts, say, info, strict=strict)
    # Pages into docs_dir: only changed ones are written, orphans removed, hand-written ones refused.
    result.render = render_site(project, kb, result.facts, keys=keys)
    return result


def _prepare_with_errors(
    project: Project,
    kb: KnowledgeBase,
    problems: list[Problem],
    say: Say,
    shown_on_page: Say,
    keys: PageKeys | None = None,
) -> BuildResult:
    """The problems a broken card's page shows are told through `shown_on_page` (information under
    `mkdocs serve --strict`, so the rebuild does not abort and the page appears), the others `say`."""
    broken = broken_cards(project, problems)
    shown = {p for card in broken for p in card.problems}
    for p in problems:
        (shown_on_page if p in shown else say)(p.format())
    if any(p.is_error and p not in shown for p in problems):
        raise ValidationFailed(problems)  # an error no card's page can show (not in a card file)
    facts = build_facts(project, kb)
    result = BuildResult(kb, facts, problems, broken=broken)
    result.render = render_site(project, kb, facts, extra=error_pages(project, broken), keys=keys)
    return result


def build(
    project: Project,
    kb: KnowledgeBase,
    *,
    strict: bool = False,
    pdf: bool = True,
    require_smoke: bool = False,
    force: bool = False,
    say: Say = _stderr,
    wait: bool = True,
    engine: str = "mkdocs",
) -> BuildResult:
    """`kb build`: validate -> gate -> PDFs -> pages -> `mkdocs build` (or Zensical) -> link check.

    One build at a time per project (`generator.lock`): a second one waits for the first, saying so,
    or with `wait=False` raises `BuildLocked` naming the process that holds the lock.
    """
    from generator.lock import project_lock

    with project_lock(project.root, wait=wait, say=say):
        return _build(
            project,
            kb,
            strict=strict,
            pdf=pdf,
            require_smoke=require_smoke,
            force=force,
            say=say,
            engine=engine,
        )


def _build(
    project: Project,
    kb: KnowledgeBase,
    *,
    strict: bool,
    pdf: bool,
    require_smoke: bool,
    force: bool,
    say: Say,
    engine: str = "mkdocs",
) -> BuildResult:
    # 1-2. Validate (and, when asked, refuse unverified cards before producing anything).
    result = checked(project, kb, validate(project, kb, strict=strict), say=say, require_smoke=require_smoke)
    # 3. PDFs: which are current and which to render. With nothing to render, this is all.
    plan = _pdf_plan(project, kb, result) if pdf and project.settings.pdf else None
    # 4-6. While the PDF pool renders (in its worker processes), this process renders the pages and
    #      runs MkDocs: the pages link the PDFs being made, and MkDocs lists them without copying them.
    #      Leaving the block with an error or Ctrl-C kills the pool (`Rendering`).
    with plan.start() if plan is not None else nullcontext() as rendering:
        result.pdf_pending = plan.expected if plan is not None else None
        # Card pages rendered from the same inputs by the last build are not rendered again.
        keys = PageKeys() if force else PageKeys.load(project)
        result.render = render_site(project, kb, result.facts, pdfs=result.pdf_pending, keys=keys)
        keys.save(project)
        say(f"kb: pages: {result.render.summary()}")
        strict_build = strict or bool(project.mkdocs_config.get("strict"))
        stamp = BuildStamp.of(project, strict=strict_build, engine=engine)
        if plan is None and not force and stamp.up_to_date():
            say(
                f"kb: {project.rel(project.site_dir)}/ is up to date: nothing MkDocs reads changed since "
                "the last build, which passed the link check (--force builds it again)"
            )
            return result
        stamp.forget()
        if engine == "zensical":
            warnings = _zensical_site(project, result, rendering, strict=strict, say=say)
        else:
            warnings = _site(project, result, rendering, strict=strict, say=say, force=force)
    if plan is not None:
        stamp = BuildStamp.of(project, strict=strict_build, engine=engine)  # of the PDFs as they are now
    if not warnings and not result.links:
        stamp.save()  # a build with warnings is built (and its warnings shown) again next time
        _keep_state(project, result)
    return result


def _pdf_plan(project: Project, kb: KnowledgeBase, result: BuildResult) -> PdfPlan | None:
    """The PDF plan when there are PDFs to render; else the PDF stage is finished here (nothing to
    render: the manifest is brought up to date, failures of invalid cards are raised) and None."""
    from generator.pdf import plan_pdfs

    plan = plan_pdfs(
        project, kb, facts=result.facts, jobs=project.settings.pdf_jobs, progress=sys.stderr.isatty()
    )
    if plan.todo and not plan.run.failed:
        return plan
    result.pdf = pdf_report(project, plan.finish())
    return None


def _site(
    project: Project,
    result: BuildResult,
    rendering: Rendering | None,
    *,
    strict: bool,
    say: Say,
    force: bool = False,
) -> int:
    """MkDocs into a staging folder, then (once the PDFs are all made) the PDFs into it, the link
    check, and the swap into site/. Built beside site/ and put in its place only once the link check
    passed: a failed build leaves the last good site as it was (and is kept in .site.failed/ to look
    at). Returns the number of MkDocs warnings.

    Incremental unless `force`d: when the last build's state (`generator.incremental.state`) still
    describes site/ and nothing shaping every page changed, the staging folder starts as a copy of
    site/, MkDocs builds only the pages whose Markdown changed (all of them themed again when the
    navigation changed), and the link check reads the pages it built (every page when one lost an
    anchor or a file was removed)."""
    config = load_mkdocs_config(project, strict=strict)
    result.incremental = True  # the plugin records what the next build needs, even of a full build
    result.site_state = None if force else _last_state(project, config)
    with staging_dir(project.site_dir) as staging:
        if result.site_state is not None:
            copy_site(project.site_dir, staging)
        # In-process with the project's mkdocs.yml (the plugin is handed this result instead of
        # preparing again).
        warnings = run_mkdocs(project, strict=strict, prepared=result, site_dir=staging, config=config)
        _say_site(result, say)
        if rendering is not None:
            result.pdf = pdf_report(project, rendering.wait(), say, strict=strict)
            _copy_pdfs(result.pdf, staging)
        # Internal links, anchors, PDFs (`kb check links --external` adds the http(s) ones).
        result.links = link_check(project, say, site_dir=staging, origins=result, pages=_changed(result))
        publish(staging, project.site_dir)
    return warnings


def _zensical_site(
    project: Project, result: BuildResult, rendering: Rendering | None, *, strict: bool, say: Say
) -> int:
    """As `_site`, with Zensical building the staging folder (`generator.engines`): the PDFs are
    copied in once made, the link check reads every page, and the site is swapped in only then."""
    from generator.engines import finish_zensical, run_zensical

    with staging_dir(project.site_dir) as staging:
        run_zensical(project, result.kb, staging, strict=strict, say=say)  # while the PDF pool renders
        if rendering is not None:
            result.pdf = pdf_report(project, rendering.wait(), say, strict=strict)
        render = result.render or RenderReport()
        finish_zensical(
            project,
            staging,
            generated=[*render.written, *render.unchanged],
            pdfs=result.pdf.paths if result.pdf is not None else _pdfs_on_disk(project, result.kb),
        )
        pages = len(render.written) + len(render.unchanged)
        say(f"kb: site: every page built by Zensical ({pages} generated from cards)")
        result.links = link_check(project, say, site_dir=staging, origins=result)
        publish(staging, project.site_dir)
    return 0


def _pdfs_on_disk(project: Project, kb: KnowledgeBase) -> dict[str, Path]:
    """With no PDF rendered by this build (`--no-pdf`): the PDFs already under artifacts/, which the
    pages link (`Site.pdf_file`), as the `kb` plugin publishes them for MkDocs."""
    if not project.settings.pdf:
        return {}
    paths = {loaded.id: project.layout.pdf_file(loaded.id) for loaded in kb.all()}
    return {card_id: path for card_id, path in paths.items() if path.is_file()}


def _say_site(result: BuildResult, say: Say) -> None:
    state = result.new_site_state
    if state is None:
        return
    if result.site_state is None:
        say(f"kb: site: every page built ({len(state.pages)})")
        return
    kept = len(state.pages) - len(result.site_built)
    say(
        f"kb: site: {len(result.site_built)} page(s) built again, {kept} kept from the last build "
        "(--force builds every page)"
    )


def _last_state(project: Project, config: Any) -> SiteState | None:
    """The last build's state when it still describes site/ (as that build left it) and nothing that
    shapes every page changed since; else None (a full build)."""
    from generator.incremental.mkdocs import site_signature
    from generator.incremental.state import SiteState
    from generator.stamp import outputs_hash

    state = SiteState.load(project.layout)
    if state is None or not project.site_dir.is_dir() or state.signature != site_signature(config):
        return None
    return state if state.outputs == outputs_hash(project.site_dir) else None


def _changed(result: BuildResult) -> list[str] | None:
    """The HTML files whose links an incremental build must check, or None when every page must be
    checked (a full build; a file removed, whose links may live on any page).

    The pages read again (their content is new) and the 404 page are checked whole. Of the pages only
    themed again for a new navigation, one per folder depth is: their content is the last build's,
    already checked, and the navigation and footer links they got are the same on every page of a
    depth (relative links to the same pages), which that one shows."""
    last, new = result.site_state, result.new_site_state
    if last is None or new is None or set(last.files) - set(new.files):
        return None
    read = set(result.site_read)
    sample: dict[int, str] = {}
    for uri in result.site_built:
        if uri not in read:
            sample.setdefault(uri.count("/"), uri)
    return ["404.html", *sorted(read), *sorted(sample.values())]


def _keep_state(project: Project, result: BuildResult) -> None:
    """After a build that passed: what the next incremental build needs (with the site it describes)."""
    from generator.stamp import outputs_hash

    state = result.new_site_state
    if state is None:
        return
    state.outputs = outputs_hash(project.site_dir)
    state.save(project.layout)


def copy_site(site: Path, staging: Path) -> None:
    """The last site, as the starting point of an incremental build (modification times kept: MkDocs
    copies a static file again only when its source is newer)."""
    shutil.copytree(site, staging, symlinks=True, ignore=lambda folder, names: _hidden(site, folder, names))


def _hidden(site: Path, folder: str, names: list[str]) -> list[str]:
    """Hidden entries at the top of the site (a gh-pages `.git`) stay where they are (`publish` carries
    them over)."""
    return [n for n in names if n.startswith(".")] if Path(folder) == site else []


def _copy_pdfs(run: PdfRun, site_dir: Path) -> None:
    """Each current PDF to `pdf/<id>.pdf` of the built site (where the pages link it)."""
    for card_id, path in sorted(run.paths.items()):
        target = site_dir / Layout.site_pdf_path(card_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def link_check(
    project: Project,
    say: Say = _stderr,
    site_dir: Path | None = None,
    origins: BuildResult | None = None,
    pages: list[str] | None = None,
) -> list[Problem]:
    """Every internal link and anchor of the built site resolves; raise `BuildFailed` naming the broken
    ones (pages are named relative to the site; with `origins`, the build's cards, a link written in a
    card is named at its field, `FILE:LINE:COL`). `pages`: only these pages' links are checked (what an
    incremental build wrote; every page when one lost an anchor the old site/ had)."""
    from generator.checks import check_site
    from generator.checks.origin import in_cards

    problems = check_site(
        site_dir or project.site_dir,
        site_url=project.mkdocs_config.get("site_url"),
        pages=pages,
        was=project.site_dir if pages is not None else None,
        rewritten=origins.site_read if origins is not None else (),
    )
    if origins is not None:
        problems = in_cards(problems, origins.kb, origins.facts)
    for p in problems:
        say(p.format())
    errors = [p for p in problems if p.is_error]
    if errors:
        where = project.rel(failed_dir(project.site_dir)) if site_dir else project.rel(project.site_dir)
        kept = f"; {project.rel(project.site_dir)}/ still holds the last good build" if site_dir else ""
        raise BuildFailed(
            f"the link check found {len(errors)} broken link(s) in the new build, kept in "
            f"{where}/ (listed above){kept}; fix the card or page each one names and "
            "build again"
        )
    which = f"the {len(pages)} page(s) built in " if pages is not None else ""
    site = project.rel(project.site_dir)
    say(f"kb: link check: every internal link, anchor and PDF of {which}{site}/ resolves")
    return problems


@runtime_checkable
class TakesPrepared(Protocol):
    """The `kb` MkDocs plugin as `run_mkdocs` sees it (`generator.plugin.KBPlugin`): it is handed the
    result of `prepare` and does not prepare again."""

    def use_prepared(self, result: BuildResult) -> None: ...


def load_mkdocs_config(project: Project, *, strict: bool = False) -> Any:
    """The project's mkdocs.yml as MkDocs loads it for a build."""
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    config_file = project.root / CONFIG_FILE
    try:
        # None, not False: MkDocs keeps mkdocs.yml's own `strict: true` only when the option is unset.
        return load_config(config_file=str(config_file), strict=strict or None)
    except MkDocsException as exc:
        raise BuildFailed(f"{config_file}: the MkDocs build failed: {exc}") from exc


def run_mkdocs(
    project: Project,
    *,
    strict: bool = False,
    prepared: BuildResult | None = None,
    site_dir: Path | None = None,
    config: Any = None,
) -> int:
    """Build site/ with MkDocs; `strict` (or `strict: true` in mkdocs.yml) fails on any MkDocs warning
    (broken link, missing anchor). Returns the number of warnings MkDocs logged. A `prepared` result
    with the last build's state (`site_state`) builds incrementally (MkDocs' dirty build, into a copy
    of the last site)."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.exceptions import MkDocsException

    from generator.incremental.mkdocs import dirty_build

    _show_mkdocs_log()
    counter = _WarningCounter()
    log = logging.getLogger("mkdocs")
    log.addHandler(counter)
    config_file = project.root / CONFIG_FILE
    dirty = prepared is not None and prepared.site_state is not None
    try:
        config = config if config is not None else load_mkdocs_config(project, strict=strict)
        if site_dir is not None:
            config["site_dir"] = str(site_dir)
        plugin = config.plugins.get("kb")
        if isinstance(plugin, TakesPrepared) and prepared is not None:
            plugin.use_prepared(prepared)
        with dirty_build() if dirty else nullcontext():
            mkdocs_build(config, dirty=dirty)
    except MkDocsException as exc:
        raise BuildFailed(f"{config_file}: the MkDocs build failed: {exc}") from exc
    finally:
        log.removeHandler(counter)
    return counter.count


class _WarningCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


class _StderrHandler(logging.StreamHandler):
    """Writes to the `sys.stderr` of the moment: a caller that redirects it later (a test capturing the
    output, a tool embedding the build) gets the messages, and no write ever goes to a closed stream."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass  # StreamHandler.__init__ sets it; the current sys.stderr is always used


def _show_mkdocs_log() -> None:
    """Print MkDocs' warnings the way `mkdocs build` does (it logs; nobody listens in-process)."""
    log = logging.getLogger("mkdocs")
    if not any(getattr(h, "_kb", False) for h in log.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
        handler.setLevel(logging.WARNING)
        handler._kb = True  # type: ignore[attr-defined]  # our marker on a stdlib handler: found again above
        log.addHandler(handler)
        log.setLevel(min(log.level or logging.INFO, logging.INFO))

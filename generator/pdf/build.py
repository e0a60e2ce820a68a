"""`build_pdfs`: every card of a printed kind to `artifacts/pdf/code_walkthroughs/<id>.pdf`.

Stages: pick the cards (kinds declared `printed`, or with a `templates/pdf/<kind>.html.j2`), hash
what shapes each PDF,
skip those whose key is in the manifest, render the rest in parallel processes, then record the new
keys. One card failing never stops the others.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.facts import CardFacts, Facts, build_facts, printed
from generator.io import atomic_write_bytes
from generator.knowledge import KnowledgeBase, LoadedCard
from generator.pdf.context import PdfJob
from generator.pdf.document import JobResult, preload, renderer_for, run_job
from generator.pdf.inputs import Fingerprint, card_dates, fingerprint
from generator.problems import Problem
from generator.schema import CARD_KINDS, GENERIC_PRINT, Card, CardKind
from generator.settings import Project
from generator.workers import exit_with_parent

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1


@dataclass
class PdfRun:
    """What a PDF build did, by card id."""

    rendered: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Up to date: their inputs did not change since the PDF was written."""
    failed: dict[str, str] = field(default_factory=dict)
    """Card id -> `card path: reason`."""
    warnings: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    """PDFs of cards that no longer exist, deleted."""
    paths: dict[str, Path] = field(default_factory=dict)
    """Card id -> its PDF, for every card whose PDF is current (rendered or skipped)."""
    seconds: float = 0.0
    render_seconds: dict[str, float] = field(default_factory=dict)
    """Card id -> seconds its worker spent rendering it."""
    render_cpu_seconds: float = 0.0
    """CPU seconds the workers spent rendering, all PDFs together."""

    @property
    def ok(self) -> bool:
        return not self.failed

    def report_lines(self, rel: Callable[[Path], str]) -> list[str]:
        """What `kb pdf` and `kb build` print: warnings, each PDF written or removed, each failure, and
        a summary line with the seconds per PDF. `rel` shows a path relative to the project."""
        lines = [f"warning: {w}" for w in self.warnings]
        lines += [f"wrote {rel(self.paths[i])}" for i in self.rendered]
        lines += [f"removed the PDF of {i} (the card no longer exists)" for i in self.removed]
        lines += [f"error: {reason}" for _i, reason in sorted(self.failed.items())]
        count = len(self.rendered)
        per_pdf = (
            f", {self.seconds / count:.2f} s per PDF ({self.render_cpu_seconds / count:.2f} s CPU)"
            if count
            else ""
        )
        lines.append(
            f"{count} rendered, {len(self.skipped)} unchanged, {len(self.failed)} failed "
            f"in {self.seconds:.1f} s{per_pdf}"
        )
        return lines


def printable_kinds(project: Project) -> list[str]:
    """The card kinds whose cards get a PDF (`generator.facts.printed`)."""
    return [k.name for k in CARD_KINDS.values() if printed(project, k)]


def print_template(project: Project, kind: CardKind) -> str:
    """The kind's own print template when there is one (in the overrides or the product's templates),
    else the generic one."""
    folders = [p for p in (project.template_overrides, project.templates_dir) if p]
    own = any((f / kind.print_template).is_file() for f in folders)
    return kind.print_template if own else GENERIC_PRINT


def build_pdfs(
    project: Project,
    kb: KnowledgeBase,
    ids: Iterable[str] | None = None,
    *,
    facts: Facts | None = None,
    jobs: int = 0,
    force: bool = False,
    progress: bool = True,
) -> PdfRun:
    """Render the PDFs of `ids` (default: every printable card) whose inputs changed, in parallel.

    Cards of `kb` that failed validation are reported as failed. `facts` are the build's (computed
    here, for the cards printed, when not given). Raises `UsageError` for an unknown id.
    """
    return plan_pdfs(project, kb, ids, facts=facts, jobs=jobs, force=force, progress=progress).finish()


def plan_pdfs(
    project: Project,
    kb: KnowledgeBase,
    ids: Iterable[str] | None = None,
    *,
    facts: Facts | None = None,
    jobs: int = 0,
    force: bool = False,
    progress: bool = True,
) -> PdfPlan:
    """Decide what `build_pdfs` renders, rendering nothing: the cards to print, each one's key, those
    already current (`PdfPlan.run.skipped`) and those to render (`PdfPlan.todo`). Then either
    `finish()` (render, record, return the run) or `start()` (render in the background)."""
    started = time.perf_counter()
    run = PdfRun()
    # 1. The cards to print.
    targets, known = _targets(project, kb, ids, run)
    # 2. Keys: the shared inputs once, then each card's text, facts and date.
    renderer = renderer_for(_search_path(project))
    shared = fingerprint(renderer.template_files("pdf"))
    dates = card_dates(project.root, [c.path for c in targets])
    manifest = _read_manifest(project.pdf_dir)
    entries: dict[str, Any] = manifest["pdfs"]
    todo: list[PdfJob] = []
    facts = facts if facts is not None else build_facts(project, kb, targets)
    for loaded in targets:
        job = _job(project, loaded, facts.of(loaded), shared, dates[loaded.path.resolve()])
        if not force and entries.get(loaded.id, {}).get("key") == job.key and job.out.is_file():
            run.skipped.append(loaded.id)
            run.paths[loaded.id] = job.out
        else:
            todo.append(job)
    _remove_leftovers(project.pdf_dir)
    manifest["fonts"] = list(shared.fonts)
    return PdfPlan(project, run, manifest, todo, known if ids is None else None, jobs, progress, started)


@dataclass
class PdfPlan:
    """The PDFs a build renders, decided before any is rendered (`plan_pdfs`)."""

    project: Project
    run: PdfRun
    manifest: dict[str, Any]
    todo: list[PdfJob]
    """The cards whose PDF is rendered: new, changed, or forced."""
    known: list[str] | None
    """Every card id that may have a PDF (None when only some ids were asked for: nothing is removed)."""
    jobs: int = 0
    progress: bool = True
    started: float = 0.0

    @property
    def expected(self) -> dict[str, Path]:
        """Card id -> its PDF, for every card whose PDF is current once the plan ran without a failure
        (those up to date and those to render): what the site links before the PDFs exist."""
        return {**self.run.paths, **{job.card_id: job.out for job in self.todo}}

    def finish(self) -> PdfRun:
        """Render the PDFs to render (here, or in a pool), record them and return the run."""
        jobs = {job.card_id: job for job in self.todo}
        try:
            for result in _render_all(self.todo, self.jobs, self.progress):
                _record(self.run, self.manifest["pdfs"], jobs[result.card_id], result)
        finally:
            self.save()
        return self.run

    def start(self) -> Rendering:
        """Start rendering in worker processes and return at once (see `Rendering`)."""
        return Rendering(self)

    def save(self) -> None:
        """Forget (and delete) the PDFs of cards that are gone, save the manifest, finish the report."""
        if self.known is not None:
            _forget(self.project, self.run, self.manifest["pdfs"], self.known)
        _write_manifest(self.project.pdf_dir, self.manifest)
        self.run.rendered.sort()
        self.run.skipped.sort()
        self.run.warnings.sort()  # results arrive in completion order; reports should not depend on it
        self.run.seconds = time.perf_counter() - self.started


class Rendering:
    """A plan's PDFs rendering in worker processes while this process does other work (`kb build`
    renders the pages and runs MkDocs meanwhile); `wait()` collects them.

    Use it as a context manager: leaving the block with an exception (a stage that failed, Ctrl-C)
    kills the workers. The PDFs finished by then are kept and recorded (each is written whole, by an
    atomic rename); the others are not written, and a killed worker's temporary file is removed.
    """

    def __init__(self, plan: PdfPlan):
        self.plan = plan
        self.jobs = {job.card_id: job for job in plan.todo}
        workers = min(plan.jobs if plan.jobs > 0 else _cores(), len(plan.todo))
        self.pool: _Pool | None = _Pool(plan.todo, workers, plan.progress) if plan.todo else None

    def __enter__(self) -> Rendering:
        return self

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if self.pool is not None:
            self.abort()

    def wait(self) -> PdfRun:
        """Every PDF rendered (or failed), recorded in the manifest: the finished run."""
        if self.pool is not None:
            for result in self.pool.results():
                _record(self.plan.run, self.plan.manifest["pdfs"], self.jobs[result.card_id], result)
            self.pool.close(kill=False)
            self.pool = None
            self.plan.save()
        return self.plan.run

    def abort(self) -> None:
        """Kill the workers; record the PDFs that were finished whole; leave the others as they were."""
        pool, self.pool = self.pool, None
        if pool is None:
            return
        pool.close(kill=True)
        for result in pool.finished():
            if result.ok:
                _record(self.plan.run, self.plan.manifest["pdfs"], self.jobs[result.card_id], result)
        _remove_leftovers(self.plan.project.pdf_dir)
        _write_manifest(self.plan.project.pdf_dir, self.plan.manifest)


def _targets(
    project: Project, kb: KnowledgeBase, ids: Iterable[str] | None, run: PdfRun
) -> tuple[list[LoadedCard[Card]], list[str]]:
    """The cards to print (failures of invalid cards and id collisions go into `run`), and every id
    known to have a PDF."""
    kinds = printable_kinds(project)
    if not kinds:
        where = project.rel(project.templates_dir)
        run.warnings.append(f"no print templates: add {where}/pdf/<kind>.html.j2 (e.g. model.html.j2)")
    cards, collisions = _printable_cards(project, kb)
    run.failed.update(collisions)
    invalid = {card_id: _invalid_message(problems) for card_id, problems in kb.invalid(kinds).items()}
    wanted = [
        c.id
        for c in kb.select(
            kinds,
            list(ids) if ids is not None else None,
            keep_invalid=True,
            missing="unknown card id(s): {ids}; known ids: {known}",
        )
    ]
    wanted += [i for i in (invalid if ids is None else dict.fromkeys(ids)) if i in invalid]
    for card_id in wanted:
        if card_id in invalid:
            run.failed[card_id] = invalid[card_id]
    targets = [cards[i] for i in wanted if i in cards and i not in run.failed]
    return targets, sorted(set(cards) | set(invalid))


def _invalid_message(problems: list[Problem]) -> str:
    first = problems[0]
    return f"{first.file}: invalid card: {first.format().split(': ', 1)[1]} (run kb validate)"


def _record(run: PdfRun, entries: dict[str, Any], job: PdfJob, result: JobResult) -> None:
    """One rendered (or failed) PDF into the run's report and the manifest."""
    run.warnings.extend(result.warnings)
    if result.ok:
        run.rendered.append(result.card_id)
        run.paths[result.card_id] = job.out
        run.render_seconds[result.card_id] = round(result.seconds, 3)
        run.render_cpu_seconds += result.cpu_seconds
        entries[result.card_id] = {
            "key": job.key,
            "card": job.rel,
            "pages": result.pages,
            "file": job.out.name,
        }
    else:
        run.failed[result.card_id] = f"{result.rel}: {result.error}"
        # The old PDF no longer matches its card: do not leave it to be published.
        if entries.pop(result.card_id, None) is not None:
            job.out.unlink(missing_ok=True)


def _forget(project: Project, run: PdfRun, entries: dict[str, Any], known: list[str]) -> None:
    """Delete the PDFs of cards that no longer exist, and their manifest entries."""
    for card_id in sorted(set(entries) - set(known)):
        name = entries.pop(card_id).get("file", "")
        stale = project.pdf_dir / name
        if name and stale.parent == project.pdf_dir and stale.is_file():
            stale.unlink()
            run.removed.append(card_id)


def _remove_leftovers(folder: Path) -> None:
    """Temporary files of a run that was killed mid-write (atomic writes never leave a partial PDF)."""
    if folder.is_dir():
        for tmp in folder.glob(".*.pdf.*.tmp"):
            tmp.unlink(missing_ok=True)


def _search_path(project: Project) -> list[Path]:
    return [p.resolve() for p in (project.template_overrides, project.templates_dir) if p]


def _printable_cards(
    project: Project, kb: KnowledgeBase
) -> tuple[dict[str, LoadedCard[Card]], dict[str, str]]:
    """Printable cards by id; PDFs share one folder, so an id used by two kinds is an error."""
    cards: dict[str, LoadedCard[Card]] = {}
    collisions: dict[str, str] = {}
    for kind in printable_kinds(project):
        for loaded in kb.of_kind(kind):
            if loaded.id in cards:
                collisions[loaded.id] = (
                    f"{loaded.rel}: the id '{loaded.id}' is also used by "
                    f"{cards[loaded.id].rel} and both PDFs would be {loaded.id}.pdf: "
                    "rename one card"
                )
            else:
                cards[loaded.id] = loaded
    return cards, collisions


def _job(
    project: Project, loaded: LoadedCard[Card], facts: CardFacts, shared: Fingerprint, date: int
) -> PdfJob:
    """The job of one card; its key hashes everything the PDF shows (the card, its facts, its date)
    and the shared inputs, so nothing can be left out of it."""
    key = shared.card_key(loaded.doc.source, facts.digest(), date)
    return PdfJob(
        key=key,
        card=loaded.card,
        facts=facts,
        out=project.layout.pdf_file(loaded.id),
        date=date,
        templates=_search_path(project),
        assets_dir=(project.kb_dir / "assets").resolve(),
        template=print_template(project, loaded.kind),
        weight=len(loaded.doc.source),
    )


def print_jobs(project: Project, kb: KnowledgeBase) -> list[PdfJob]:
    """The print job of every printable card, as `build_pdfs` makes them (nothing rendered): for tools
    and tests that read the HTML a PDF is made from (`generator.pdf.document.render_html`)."""
    cards, _ = _printable_cards(project, kb)
    shared = fingerprint(renderer_for(_search_path(project)).template_files("pdf"))
    dates = card_dates(project.root, [c.path for c in cards.values()])
    facts = build_facts(project, kb, cards.values())
    return [_job(project, c, facts.of(c), shared, dates[c.path.resolve()]) for c in cards.values()]


def _render_all(todo: list[PdfJob], jobs: int, progress: bool) -> Iterable[JobResult]:
    """Results as they finish: in this process for one card or one job, else in a process pool."""
    if not todo:
        return
    workers = min(jobs if jobs > 0 else _cores(), len(todo))
    if workers > 1:
        pool = _Pool(todo, workers, progress)
        try:
            yield from pool.results()
        finally:
            pool.close(kill=sys.exc_info()[0] is not None)
        return
    bar = _bar(len(todo), progress)
    try:
        for job in todo:
            bar.set_postfix_str(job.card_id, refresh=False)
            result = run_job(job)
            bar.update()
            yield result
    finally:
        bar.close()


class _Pool:
    """Jobs submitted to worker processes at once; results collected as they finish."""

    def __init__(self, todo: list[PdfJob], workers: int, progress: bool):
        context = _context()
        forked = context is not None and context.get_start_method() == "fork"
        if forked:
            preload()  # imported once here, not once per worker
        self.futures: dict[Future[JobResult], PdfJob] = {}
        try:
            if forked:
                gc.freeze()  # the workers' collections then leave the parent's objects alone
            # Workers are forked here, before this process starts threads of its own (see `_context`).
            self.executor = ProcessPoolExecutor(
                workers, mp_context=context, initializer=exit_with_parent, initargs=(os.getpid(),)
            )
            self.bar = _bar(len(todo), progress)
            for job in sorted(todo, key=lambda j: j.weight, reverse=True):
                future = self.executor.submit(run_job, job)
                self.futures[future] = job
                future.add_done_callback(self._done)
        finally:
            if forked:
                gc.unfreeze()
        self.collected: set[Future[JobResult]] = set()

    def _done(self, future: Future[JobResult]) -> None:
        """Progress, from the pool's own thread as each job ends (while this process works on)."""
        job = self.futures.get(future)
        self.bar.set_postfix_str(job.card_id if job else "", refresh=False)
        self.bar.update()

    def results(self) -> Iterable[JobResult]:
        for future in as_completed(self.futures):
            yield self._result(future)

    def finished(self) -> list[JobResult]:
        """The results that arrived and were not collected yet."""
        return [
            f.result()
            for f in self.futures
            if f.done() and not f.cancelled() and f.exception() is None and f not in self.collected
        ]

    def _result(self, future: Future[JobResult]) -> JobResult:
        self.collected.add(future)
        job = self.futures[future]
        try:
            return future.result()
        except BrokenProcessPool as exc:  # a worker died (killed, out of memory)
            return JobResult(job.card_id, job.rel, False, error=f"the renderer process died: {exc}")

    def close(self, *, kill: bool) -> None:
        """Wait for the workers to exit; with `kill`, kill them first (jobs not started are dropped)."""
        if kill:
            # ProcessPoolExecutor can only wait for its workers. Python 3.14's `kill_workers` shuts the
            # executor down without joining them, so they are killed and joined here on every version.
            workers = list((getattr(self.executor, "_processes", None) or {}).values())
            for process in workers:
                process.kill()
            for process in workers:
                process.join()
        self.executor.shutdown(wait=True, cancel_futures=kill)
        self.bar.close()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _context() -> Any:
    # fork shares WeasyPrint imported before the pool starts (`preload`; about 1 s of imports per worker
    # otherwise). Forking is unsafe in a process running other threads (`mkdocs serve`'s server), and
    # macOS and Windows lack a safe fork: those start clean workers instead.
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork" if _only_thread() else "forkserver")
    return None


def _only_thread(grace: float = 1.0) -> bool:
    """Whether this is the process's only thread, given `grace` seconds for short-lived ones to end
    (GitPython's output readers, say, which end with their `git` command)."""
    deadline = time.monotonic() + grace
    while threading.active_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    return threading.active_count() == 1


def _bar(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    # No monitor thread (it only tunes the refresh rate): workers are forked while the bar runs, and a
    # process with other threads is not forked safely (`_context` would fall back to forkserver).
    tqdm.monitor_interval = 0
    return tqdm(
        total=total,
        desc="PDF",
        unit="pdf",
        file=sys.stderr,
        disable=not enabled,
        dynamic_ncols=True,
        leave=False,
    )


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    if (
        not isinstance(data, dict)
        or data.get("version") != MANIFEST_VERSION
        or not isinstance(data.get("pdfs"), dict)
    ):
        return {"version": MANIFEST_VERSION, "pdfs": {}}
    return data


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    manifest["pdfs"] = dict(sorted(manifest["pdfs"].items()))
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    path = folder / MANIFEST
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    atomic_write_bytes(path, text.encode("utf-8"))
    path.chmod(0o644)

"""`build_pdfs`: every card with a print template to `artifacts/pdf/code_walkthroughs/<id>.pdf`.

Stages: pick the cards (kinds with a `templates/pdf/<kind>.html.j2`), hash what shapes each PDF,
skip those whose key is in the manifest, render the rest in parallel processes, then record the new
keys. One card failing never stops the others.
"""

from __future__ import annotations

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

from generator.exceptions import UsageError
from generator.io import atomic_write_bytes
from generator.knowledge import KnowledgeBase, LoadedCard, load_knowledge_base
from generator.pdf.context import PdfJob, RelatedCard, template_name
from generator.pdf.document import JobResult, renderer_for, run_job
from generator.pdf.inputs import Fingerprint, card_dates, fingerprint
from generator.render import views
from generator.repos.citations import lock_path, read_lock
from generator.repos.pins import pin_info
from generator.schema import CARD_KINDS
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
        per_pdf = (f", {self.seconds / count:.2f} s per PDF ({self.render_cpu_seconds / count:.2f} s CPU)"
                   if count else "")
        lines.append(f"{count} rendered, {len(self.skipped)} unchanged, {len(self.failed)} failed "
                     f"in {self.seconds:.1f} s{per_pdf}")
        return lines


def pdf_path(project: Project, card_id: str) -> Path:
    """Where a card's PDF is written (and where the site copies it from)."""
    return project.pdf_dir / views.pdf_name(card_id)


def printable_kinds(project: Project) -> list[str]:
    """Card kinds that have a print template (in the overrides or the product's templates)."""
    folders = [p for p in (project.template_overrides, project.templates_dir) if p]
    return [k for k in CARD_KINDS if any((f / template_name(k)).is_file() for f in folders)]


def build_pdfs(project: Project, kb: KnowledgeBase | None = None, ids: Iterable[str] | None = None, *,
               jobs: int = 0, force: bool = False, progress: bool = True) -> PdfRun:
    """Render the PDFs of `ids` (default: every printable card) whose inputs changed, in parallel.

    With `kb=None` the knowledge base is loaded here and cards that fail validation are reported as
    failed. Raises `UsageError` for an unknown id.
    """
    started = time.perf_counter()
    run = PdfRun()
    invalid: dict[str, str] = {}
    if kb is None:
        kb, problems = load_knowledge_base(project.root, None, project.kb_dir)
        invalid = _invalid_cards(project, kb, problems)

    # 1. The cards to print.
    if not printable_kinds(project):
        where = project.rel(project.templates_dir)
        run.warnings.append(f"no print templates: add {where}/pdf/<kind>.html.j2 (e.g. model.html.j2)")
    cards, collisions = _printable_cards(project, kb)
    for card_id, message in collisions.items():
        run.failed[card_id] = message
    known = sorted(set(cards) | set(invalid))
    wanted = _select(ids, known)
    for card_id in wanted:
        if card_id in invalid:
            run.failed[card_id] = invalid[card_id]
    targets = [cards[i] for i in wanted if i in cards and i not in run.failed]

    # 2. Keys: the shared inputs once, then each card's bytes and date.
    renderer = renderer_for(_search_path(project))
    shared = fingerprint(renderer.template_files("pdf"),
                         {"permalinks": project.settings.permalink_templates})
    dates = card_dates(project.root, [c.path for c in targets])
    manifest = _read_manifest(project.pdf_dir)
    entries: dict[str, Any] = manifest["pdfs"]
    todo: list[PdfJob] = []
    for loaded in targets:
        job = _job(project, kb, loaded, shared, dates[loaded.path.resolve()])
        entry = entries.get(loaded.id, {})
        if not force and entry.get("key") == job.key and job.out.is_file():
            run.skipped.append(loaded.id)
            run.paths[loaded.id] = job.out
        else:
            todo.append(job)

    # 3. Render what changed; record each result in the manifest as it arrives.
    _remove_leftovers(project.pdf_dir)
    try:
        for result in _render_all(todo, jobs, progress):
            job = next(j for j in todo if j.card_id == result.card_id)
            run.warnings.extend(result.warnings)
            if result.ok:
                run.rendered.append(result.card_id)
                run.paths[result.card_id] = job.out
                run.render_seconds[result.card_id] = round(result.seconds, 3)
                run.render_cpu_seconds += result.cpu_seconds
                entries[result.card_id] = {"key": job.key, "card": job.rel, "pages": result.pages,
                                           "file": job.out.name}
            else:
                run.failed[result.card_id] = f"{result.rel}: {result.error}"
                # The old PDF no longer matches its card: do not leave it to be published.
                if entries.pop(result.card_id, None) is not None:
                    job.out.unlink(missing_ok=True)
    finally:
        # 4. Forget (and delete) the PDFs of cards that are gone, then save the manifest.
        if ids is None:
            for card_id in sorted(set(entries) - set(known)):
                name = entries.pop(card_id).get("file", "")
                stale = project.pdf_dir / name
                if name and stale.parent == project.pdf_dir and stale.is_file():
                    stale.unlink()
                    run.removed.append(card_id)
        manifest["fonts"] = list(shared.fonts)
        _write_manifest(project.pdf_dir, manifest)
    run.rendered.sort()
    run.skipped.sort()
    run.warnings.sort()  # results arrive in completion order; reports should not depend on it
    run.seconds = time.perf_counter() - started
    return run


def _remove_leftovers(folder: Path) -> None:
    """Temporary files of a run that was killed mid-write (atomic writes never leave a partial PDF)."""
    if folder.is_dir():
        for tmp in folder.glob(".*.pdf.*.tmp"):
            tmp.unlink(missing_ok=True)


def _search_path(project: Project) -> list[Path]:
    return [p.resolve() for p in (project.template_overrides, project.templates_dir) if p]


def _printable_cards(project: Project, kb: KnowledgeBase) -> tuple[dict[str, LoadedCard], dict[str, str]]:
    """Printable cards by id; PDFs share one folder, so an id used by two kinds is an error."""
    cards: dict[str, LoadedCard] = {}
    collisions: dict[str, str] = {}
    for kind in printable_kinds(project):
        for loaded in kb.of_kind(kind):
            if loaded.id in cards:
                collisions[loaded.id] = (f"{loaded.rel}: the id '{loaded.id}' is also used by "
                                         f"{cards[loaded.id].rel} and both PDFs would be {loaded.id}.pdf: "
                                         "rename one card")
            else:
                cards[loaded.id] = loaded
    return cards, collisions


def _invalid_cards(project: Project, kb: KnowledgeBase, problems: list[Any]) -> dict[str, str]:
    """Card files of printable kinds that did not load: id (file stem) -> `path: first error`."""
    loaded = {c.rel for c in kb.all()}
    out: dict[str, str] = {}
    kinds = set(printable_kinds(project))
    for p in problems:
        if not p.is_error or p.file in loaded:
            continue
        path = project.root / p.file
        kind = next((k for k in kinds if path.parent.name == CARD_KINDS[k].folder), None)
        if kind is not None and path.stem not in out:
            out[path.stem] = f"{p.file}: invalid card: {p.format().split(': ', 1)[1]} (run kb validate)"
    return out


def _select(ids: Iterable[str] | None, known: list[str]) -> list[str]:
    if ids is None:
        return known
    wanted = list(dict.fromkeys(ids))
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise UsageError(f"unknown card id(s): {', '.join(unknown)}; known ids: "
                         + (", ".join(known) or "none (no cards under kb/)"))
    return wanted


def _job(project: Project, kb: KnowledgeBase, loaded: LoadedCard, shared: Fingerprint, date: int) -> PdfJob:
    related = [RelatedCard(CARD_KINDS[kind].title, c.id, str(c.card.name), c.rel)
               for kind, group in kb.related(loaded).items() for c in group]
    out = pdf_path(project, loaded.id)
    job = PdfJob(key="", kind=loaded.kind.name, card_id=loaded.id, card=loaded.card, rel=loaded.rel,
                 out=out, date=date, lock=read_lock(loaded.path), templates=_search_path(project),
                 assets_dir=(project.kb_dir / "assets").resolve(), related=related,
                 permalink_templates=dict(project.settings.permalink_templates),
                 pdf_artifact=project.rel(out) if out.is_relative_to(project.root) else str(out),
                 pinned=pin_info(project, loaded).label if loaded.kind.name == "model" else None)
    # Related cards' names and the pin line are printed too; the date is part of the document.
    extra = {"related": [(r.kind_title, r.id, r.name) for r in related], "artifact": job.pdf_artifact,
             "pinned": job.pinned}
    job.key = shared.card_key(loaded.path, lock_path(loaded.path), date, extra)
    return job


def _render_all(todo: list[PdfJob], jobs: int, progress: bool) -> Iterable[JobResult]:
    """Results as they finish: in this process for one card or one job, else in a process pool."""
    if not todo:
        return
    workers = min(jobs if jobs > 0 else _cores(), len(todo))
    bar = _bar(len(todo), progress)
    try:
        if workers <= 1:
            for job in todo:
                bar.set_postfix_str(job.card_id, refresh=False)
                result = run_job(job)
                bar.update()
                yield result
            return
        with ProcessPoolExecutor(workers, mp_context=_context(), initializer=exit_with_parent,
                                 initargs=(os.getpid(),)) as pool:
            futures: dict[Future[JobResult], PdfJob] = {pool.submit(run_job, job): job for job in todo}
            for future in as_completed(futures):
                job = futures[future]
                try:
                    result = future.result()
                except BrokenProcessPool as exc:  # a worker died (killed, out of memory)
                    result = JobResult(job.card_id, job.rel, False, error=f"the renderer process died: {exc}")
                bar.set_postfix_str(job.card_id, refresh=False)
                bar.update()
                yield result
    finally:
        bar.close()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _context() -> Any:
    # fork shares the already imported WeasyPrint (about 1 s of imports per worker otherwise). Forking
    # is unsafe in a process running other threads (`mkdocs serve`'s server), and macOS and Windows
    # lack a safe fork: those start clean workers instead.
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork" if threading.active_count() == 1 else "forkserver")
    return None


def _bar(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="PDF", unit="pdf", file=sys.stderr, disable=not enabled,
                dynamic_ncols=True, leave=False)


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION \
            or not isinstance(data.get("pdfs"), dict):
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

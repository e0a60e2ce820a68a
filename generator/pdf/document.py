"""One card to one PDF: Jinja print template -> HTML (table of contents, safe links) -> WeasyPrint.

Runs inside worker processes, so it takes a picklable `PdfJob` and returns a picklable `JobResult`.
The PDF is written atomically; its bytes depend only on the job (no wall clock, fixed identifier).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.exceptions import KBError
from generator.io import atomic_write_bytes
from generator.pdf.context import FILTERS, PdfJob, card_context, pygments_css
from generator.render.jinja import Renderer

_SAFE_SCHEMES = ("http://", "https://", "mailto:")

_renderers: dict[tuple[Path, ...], Renderer] = {}


@dataclass
class JobResult:
    """What a worker reports back for one card."""

    card_id: str
    rel: str
    ok: bool
    pages: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    """CPU time the worker spent on this card (steadier than wall time on a busy machine)."""
    warnings: list[str] = field(default_factory=list)
    error: str = ""


def renderer_for(templates: list[Path]) -> Renderer:
    """The print renderer for a template search path (one per process: Jinja caches compiled templates)."""
    key = tuple(templates)
    if key not in _renderers:
        overrides = templates[0] if len(templates) > 1 else None
        renderer = Renderer(templates[-1], overrides, autoescape=True)
        renderer.env.filters.update(FILTERS)
        _renderers[key] = renderer
    return _renderers[key]


def preload() -> None:
    """Import what rendering a PDF needs (WeasyPrint: about 1 s), so that workers forked afterwards
    share it instead of each importing it again."""
    import weasyprint  # noqa: F401

    import generator.pdf.fetcher  # noqa: F401


def render_html(job: PdfJob) -> tuple[str, list[str]]:
    """The print HTML of a card (with its table of contents) and warnings about links removed."""
    html = renderer_for(job.templates).render(job.template, **card_context(job))
    return finish_html(html, job.rel)


def finish_html(html: str, where: str, *, sanitize: bool = True) -> tuple[str, list[str]]:
    """Fill `<nav id="toc">` from the section headings and `<style id="code-style">` with the rules of
    the code classes the body uses; drop links a PDF reader should not follow;
    pass the body through the print allowlist (`sanitize=False` only to compare, in the tests)."""
    import lxml.html

    doc = lxml.html.document_fromstring(html)
    warnings: list[str] = []
    for a in doc.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith("#") or href.lower().startswith(_SAFE_SCHEMES):
            continue
        a.attrib.pop("href")
        a.set("class", (a.get("class", "") + " dropped-link").strip())
        warnings.append(
            f"{where}: dropped the link to {href}: a PDF keeps only http(s), mailto and in-document links"
        )
    toc = doc.get_element_by_id("toc", None)
    if toc is not None:
        _fill_toc(doc, toc)
    if sanitize:
        _sanitize_body(doc)
    code_style = doc.get_element_by_id("code-style", None)
    if code_style is not None:
        used = {name for el in doc.body.iter() for name in (el.get("class") or "").split()}
        code_style.text = pygments_css(used)
    out = lxml.html.tostring(doc, encoding="unicode", doctype="<!DOCTYPE html>")
    return out, warnings


def _sanitize_body(doc: Any) -> None:
    """The body WeasyPrint reads passes the print allowlist (`generator.render.sanitize`); the head is
    the product's own (metadata, print CSS)."""
    import lxml.html

    from generator.render.sanitize import clean_print_body

    body = doc.body
    inner = (body.text or "") + "".join(lxml.html.tostring(child, encoding="unicode") for child in body)
    attrs = dict(body.attrib)
    body.clear()
    body.attrib.update(attrs)
    for part in lxml.html.fragments_fromstring(clean_print_body(inner)):
        if isinstance(part, str):
            if len(body):
                body[-1].tail = (body[-1].tail or "") + part
            else:
                body.text = (body.text or "") + part
        else:
            body.append(part)


def _fill_toc(doc: Any, toc: Any) -> None:
    """One entry per `h2`/`h3` with an id inside `main`, nested, each with its page number (CSS)."""
    from lxml.html import builder as E

    top = E.OL(E.CLASS("toc-list"))
    current = None
    for heading in doc.xpath("//main//*[self::h2 or self::h3][@id]"):
        text = " ".join(heading.text_content().split())
        item = E.LI(E.A(text, href="#" + heading.get("id")))
        if heading.tag == "h2" or current is None:
            item.set("class", "toc-l1")
            top.append(item)
            current = item
        else:
            item.set("class", "toc-l2")
            sub = current.find("ol")
            if sub is None:
                sub = E.OL()
                current.append(sub)
            sub.append(item)
    toc.append(top)


class _Collect(logging.Handler):
    """Collects WeasyPrint's warnings for one document (so they are reported with the card's name)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        # Refused URLs are reported by the fetcher itself, with the reason.
        if "BlockedURL" not in message and message not in self.messages:
            self.messages.append(message)


def run_job(job: PdfJob) -> JobResult:
    """Render one card to its PDF file. Never raises: a failure is reported in the result."""
    started, cpu = time.perf_counter(), time.process_time()
    try:
        data, pages, warnings = _render(job)
        atomic_write_bytes(job.out, data)
    except KBError as exc:
        return JobResult(job.card_id, job.rel, False, error=str(exc), seconds=time.perf_counter() - started)
    except Exception as exc:  # one broken card must not stop the others
        return JobResult(
            job.card_id,
            job.rel,
            False,
            error=f"{type(exc).__name__}: {exc}",
            seconds=time.perf_counter() - started,
        )
    return JobResult(
        job.card_id, job.rel, True, pages, time.perf_counter() - started, time.process_time() - cpu, warnings
    )


def _render(job: PdfJob) -> tuple[bytes, int, list[str]]:
    from weasyprint import HTML

    from generator.pdf.fetcher import SafeFetcher

    html, warnings = render_html(job)
    fetcher = SafeFetcher([*job.templates, job.assets_dir], job.rel)
    collect = _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collect)
    propagate, logger.propagate = logger.propagate, False
    try:
        base = job.assets_dir.resolve().as_uri() + "/"
        document = HTML(string=html, base_url=base, url_fetcher=fetcher).render()
        # A fixed identifier derived from the inputs: the same inputs give the same bytes.
        data = document.write_pdf(pdf_identifier=job.key[:32].encode("ascii"))
    finally:
        logger.removeHandler(collect)
        logger.propagate = propagate
    warnings += fetcher.blocked
    warnings += [f"{job.rel}: WeasyPrint: {m}" for m in collect.messages]
    return data, len(document.pages), warnings

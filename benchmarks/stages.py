"""Every measured stage, one `Stage` object each: its name, its group (`--stages`), its label in the
table, the command it times, and what it needs done first or reads afterwards. `STAGES` lists them in
the order they run (later stages reuse what earlier ones built); `GROUPS` follows from it.

A new stage is one more `Stage` in `STAGES` (and, for a ratio between two stages, one line in
`benchmarks/report.py::TARGETS`).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.measure import PY, Bench

HERE = Path(__file__).resolve().parent

PYYAML_LOAD = (
    "import sys, yaml\n"
    "from pathlib import Path\n"
    "for p in sorted(Path(sys.argv[1]).rglob('*.yaml')):\n"
    "    with p.open('rb') as fh:\n"
    "        yaml.load(fh, Loader=yaml.CSafeLoader)\n"
)


@dataclass(frozen=True)
class Stage:
    """One measured stage."""

    name: str
    group: str
    label: str
    command: Callable[[Bench], list[str]]
    prepare: Callable[[Bench], str | None] | None = None
    """Run once before measuring, not timed; returns why the stage is skipped at this N (or None)."""
    before: Callable[[Bench, int], None] | None = None
    """Run before each timed run (its index given), not timed."""
    after: Callable[[Bench, dict[str, Any]], None] | None = None
    """Adds what the stage made to its result (PDFs, pages) once measured."""
    ok_codes: tuple[int, ...] = (0,)
    route: bool = False
    """A comparison tool of the usual route: stopped at `--route-timeout` (its time a lower bound)."""

    def run(self, b: Bench) -> None:
        reason = self.prepare(b) if self.prepare else None
        if reason:
            b.skipped[self.name] = reason
            return
        before = self.before
        result = b.measure(
            self.name,
            self.label,
            self.command(b),
            before=(lambda i: before(b, i)) if before else None,
            ok_codes=self.ok_codes,
            timeout=b.route_timeout if self.route else None,
        )
        if self.after:
            self.after(b, result)


# -- what stages need and read ----------------------------------------------------------------------


def _clean(b: Bench, _i: int) -> None:
    b.clean()


def _touch(key: str, offset: int) -> Callable[[Bench, int], None]:
    """Change one card's `key` (a top-level text field) the way an author would, a different edit each
    run. `name`: the card relating to it is rendered again too, and the navigation; `summary`: its page
    and the catalog pages that show summaries change, the navigation does not."""

    def touch(b: Bench, i: int) -> None:
        card = b.root / "kb" / "model_cards" / f"{b.ids[0]}.yaml"
        text = card.read_text(encoding="utf-8")
        text = re.sub(
            rf"(?m)^{key}: (.*?)( \(edit \d+\))?$",
            lambda m: f"{key}: {m.group(1)} (edit {offset + i})",
            text,
            count=1,
        )
        card.write_text(text, encoding="utf-8")

    return touch


def _pdfs(b: Bench) -> str | None:
    return None if b.pdf_ok else b.pdf_skip_reason


def _pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(path).pages)


def _pdf_pages(b: Bench, result: dict[str, Any]) -> None:
    """PDF pages `kb pdf` / `kb build` produced (from the manifest), beside the stage's times."""
    try:
        manifest = json.loads((b.root / "artifacts/pdf/code_walkthroughs/manifest.json").read_text())
    except (OSError, ValueError):
        return
    result["pdfs"] = len(manifest["pdfs"])
    result["pdf_pages"] = sum(int(e.get("pages", 0)) for e in manifest["pdfs"].values())


def _floor_dump(b: Bench) -> str | None:
    """The print HTML `kb pdf` hands WeasyPrint, dumped untimed (`benchmarks/pdf_floor.py`)."""
    if not b.pdf_ok:
        return b.pdf_skip_reason
    html_dir = b.root / "floor-html"
    shutil.rmtree(html_dir, ignore_errors=True)
    b.ensure([PY, str(HERE / "pdf_floor.py"), "dump", str(b.root), str(html_dir)], "dumping the print HTML")
    return None


def _floor_counts(b: Bench, result: dict[str, Any]) -> None:
    out = b.root / "floor-pdf"
    result["pdfs"] = sum(1 for _ in out.glob("*.pdf"))
    result["pdf_pages"] = sum(_pages(p) for p in out.glob("*.pdf"))


def _build_cold_or_site(b: Bench) -> str | None:
    """Above --pdf-max-cards: no cold build with PDFs, but a site for the stages after it."""
    if b.pdf_ok:
        return None
    b.ensure(b.kb("build", "--no-pdf"), "kb build --no-pdf")
    return b.pdf_skip_reason


def _build(b: Bench) -> list[str]:
    return b.kb("build") if b.pdf_ok else b.kb("build", "--no-pdf")


def _without_pdfs(suffix: str) -> Callable[[Bench, dict[str, Any]], None]:
    def note(b: Bench, result: dict[str, Any]) -> None:
        if not b.pdf_ok:
            result["label"] += suffix

    return note


def _site_ready(b: Bench) -> str | None:
    if not (b.root / "site" / "index.html").exists():
        b.ensure(_build(b), "kb build")
    return None


def config_copy(b: Bench, name: str, site_dir: str, extra_plugins: str = "", *, usual: bool = False) -> str:
    """mkdocs.yml without the `kb` plugin (same pages, theme and extensions), building into site_dir.
    `usual`: for the usual route's venv, which lacks this package: its Markdown extensions go too."""
    text = (b.root / "mkdocs.yml").read_text(encoding="utf-8")
    plain, removed = re.subn(r"(?m)^(\s*)- kb\s*(#.*)?\n", extra_plugins, text, count=1)
    if not removed:
        raise SystemExit("mkdocs.yml lists no `- kb` plugin line to remove for the plain baseline")
    if usual:
        plain = re.sub(r"(?m)^\s*- generator\.[\w.]+:?\s*\n", "", plain)
    plain, moved = re.subn(r"(?m)^site_dir:.*$", f"site_dir: {site_dir}", plain, count=1)
    if not moved:
        plain = f"site_dir: {site_dir}\n" + plain
    (b.root / name).write_text(plain, encoding="utf-8")
    return name


def _mkdocs_kb_plugin(b: Bench) -> list[str]:
    if b.pdf_ok:
        return b.mkdocs("mkdocs.yml")
    # Plain `mkdocs build` renders the PDFs too; above --pdf-max-cards they are switched off.
    return b.mkdocs(config_copy(b, "mkdocs-nopdf.yml", "site", "  - kb:\n      pdf: false\n"))


TO_PDF = (
    "  - to-pdf:\n      output_path: pdf/knowledge-base.pdf\n      custom_template_path: no-such-folder\n"
)
"""MkDocs' PDF plugin: one combined PDF of every page, WeasyPrint as in the product; its template path
points away from the project's templates/ (the kb's Jinja templates, not the plugin's)."""


def _to_pdf_ready(b: Bench) -> str | None:
    if not b.pdf_ok:
        return b.pdf_skip_reason
    if b.venv is None:
        return "the benchmark venv (.venv-bench) could not be made"
    return _site_ready(b)


def _to_pdf_counts(b: Bench, result: dict[str, Any]) -> None:
    out = b.root / "site-topdf" / "pdf" / "knowledge-base.pdf"
    result["pdf_bytes"] = out.stat().st_size if out.exists() else None
    result["pdfs"] = 1 if out.exists() else 0
    result["pdf_pages"] = _pages(out) if out.exists() else None


def _site_pages(b: Bench, result: dict[str, Any]) -> None:
    result["pages"] = sum(1 for _ in (b.root / "site").rglob("*.html"))


def _linkchecker_ready(b: Bench) -> str | None:
    lc = b.venv / "bin" / "linkchecker" if b.venv else None
    if lc is None or not lc.exists():
        return "linkchecker is not installed in .venv-bench"
    _site_ready(b)
    # Internal links only (LinkChecker checks no external URL unless asked), #fragments too (its
    # AnchorCheck plugin), as `kb check links` does.
    (b.root / "linkcheckerrc").write_text("[AnchorCheck]\n", encoding="utf-8")
    return None


def _linkchecker(b: Bench) -> list[str]:
    assert b.venv is not None
    rc, site = b.root / "linkcheckerrc", b.root / "site"
    lc = b.venv / "bin" / "linkchecker"
    return [str(lc), "--config", str(rc), "--no-warnings", "--no-status", f"file://{site}/index.html"]


def _smoke_ready(b: Bench) -> str | None:
    return None if b.smoke_root is not None else b.smoke_skip_reason


# -- one card's text changed (not its name: the navigation stays) -------------------------------------


# -- mkdocs serve: from saving a card to its page being served ----------------------------------------


def _serve_ready(b: Bench) -> str | None:
    """A running `mkdocs serve` of the project (its first build untimed), until the group ends."""
    from benchmarks.serve_latency import start

    if b.server is None:
        b.server = start(b.root, b.root / "serve.log")
    return None


def _serve_idle(b: Bench, _i: int) -> None:
    from benchmarks.serve_latency import wait_idle

    wait_idle(b.root / "serve.log")


def _serve_edit(what: str, *extra: str) -> Callable[[Bench], list[str]]:
    def command(b: Bench) -> list[str]:
        assert b.server is not None
        b.edits += 1
        return [
            PY,
            str(HERE / "serve_latency.py"),
            "edit",
            str(b.root),
            b.server[1],
            b.ids[0],
            what,
            str(1000 * b.edits),
            *extra,
        ]

    return command


def _serve_stop(b: Bench, result: dict[str, Any]) -> None:
    """After the last serve stage: the server goes."""
    if b.server is not None:
        proc = b.server[0]
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except Exception:
            proc.kill()
        b.server = None


# -- the engines: MkDocs and Zensical on the same pages ------------------------------------------------


def _engines_ready(b: Bench) -> str | None:
    """The pages rendered (untimed), and for each engine a copy of mkdocs.yml without the `kb` plugin
    but with the product's navigation, building into a folder of its own."""
    import importlib.util

    b.ensure(b.kb("render"), "kb render")
    nav = subprocess.run(
        [PY, "-c", NAV_JSON, str(b.root)], cwd=b.root, capture_output=True, text=True, check=True
    ).stdout.strip()
    for name, site in (("mkdocs-engine.yml", "site-engine-mkdocs"), ("mkdocs-zensical.yml", "site-zensical")):
        config_copy(b, name, site)
        with (b.root / name).open("a", encoding="utf-8") as fh:
            fh.write(f"\nnav: {nav}\n")
    if importlib.util.find_spec("zensical") is None:
        return "zensical is not installed (pip install zensical)"
    return None


NAV_JSON = (
    "import json, sys\n"
    "from pathlib import Path\n"
    "from generator.knowledge import load_knowledge_base\n"
    "from generator.render.nav import site_nav\n"
    "from generator.settings import Project\n"
    "p = Project.load(Path(sys.argv[1]))\n"
    "kb, _ = load_knowledge_base(p.root, None, p.kb_dir, p.smoke_dir)\n"
    "print(json.dumps(site_nav(kb, p.docs_dir)))\n"
)
"""The product's navigation of a project, as JSON (which YAML reads)."""


def _zensical(b: Bench) -> list[str]:
    return [PY, "-m", "zensical", "build", "--clean", "-f", str(b.root / "mkdocs-zensical.yml")]


# -- the stages, in the order they run -----------------------------------------------------------------

STAGES: list[Stage] = [
    Stage("validate", "validate", "kb validate", lambda b: b.kb("validate")),
    Stage(
        "pyyaml-load",
        "validate",
        "PyYAML CSafeLoader reads the same cards (process)",
        lambda b: [PY, "-c", PYYAML_LOAD, str(b.root / "kb")],
    ),
    Stage("render", "render", "kb render (cold)", lambda b: b.kb("render"), before=_clean),
    Stage(
        "pdf-cold",
        "pdf",
        "kb pdf (cold)",
        lambda b: b.kb("pdf", "--no-progress"),
        prepare=_pdfs,
        before=_clean,
        after=_pdf_pages,
    ),
    Stage(
        "pdf-floor",
        "pdf",
        "WeasyPrint alone on the same print HTML (one process per core)",
        lambda b: [
            PY,
            str(HERE / "pdf_floor.py"),
            "render",
            str(b.root / "floor-html"),
            str(b.root / "floor-pdf"),
        ],
        prepare=_floor_dump,
        before=lambda b, _i: shutil.rmtree(b.root / "floor-pdf", ignore_errors=True),
        after=_floor_counts,
    ),
    Stage(
        "pdf-noop", "pdf", "kb pdf (nothing changed)", lambda b: b.kb("pdf", "--no-progress"), prepare=_pdfs
    ),
    Stage(
        "pdf-one-changed",
        "pdf",
        "kb pdf (one card changed)",
        lambda b: b.kb("pdf", "--no-progress"),
        prepare=_pdfs,
        before=_touch("name", 0),
    ),
    Stage(
        "build-cold",
        "build",
        "kb build (cold, per-card PDFs)",
        lambda b: b.kb("build"),
        prepare=_build_cold_or_site,
        before=_clean,
        after=_pdf_pages,
    ),
    Stage("build-noop", "build", "kb build (nothing changed)", _build, after=_without_pdfs(" (--no-pdf)")),
    Stage(
        "build-one-changed",
        "build",
        "kb build (one card changed)",
        _build,
        before=_touch("name", 100),
        after=_without_pdfs(" (--no-pdf)"),
    ),
    Stage(
        "build-one-text",
        "build",
        "kb build (one card's text changed: 1 PDF, its pages)",
        _build,
        before=_touch("summary", 200),
        after=_without_pdfs(" (--no-pdf)"),
    ),
    Stage(
        "mkdocs-kb-plugin",
        "mkdocs",
        "mkdocs build (kb plugin, pages up to date)",
        _mkdocs_kb_plugin,
        prepare=_site_ready,
        after=_without_pdfs(" (pdf: false)"),
    ),
    Stage(
        "mkdocs-plain",
        "mkdocs",
        "mkdocs build (plain, same pages)",
        lambda b: b.mkdocs(config_copy(b, "mkdocs-plain.yml", "site-plain")),
    ),
    Stage(
        "mkdocs-to-pdf",
        "pdf-route",
        "mkdocs build + mkdocs-to-pdf (cold, one PDF)",
        lambda b: b.mkdocs(config_copy(b, "mkdocs-topdf.yml", "site-topdf", TO_PDF, usual=True), b.venv),
        prepare=_to_pdf_ready,
        before=lambda b, _i: shutil.rmtree(b.root / "site-topdf", ignore_errors=True),
        after=_to_pdf_counts,
        route=True,
    ),
    Stage(
        "check-links",
        "links",
        "kb check links",
        lambda b: b.kb("check", "links", "--site", str(b.root / "site")),
        prepare=_site_ready,
        after=_site_pages,
        ok_codes=(0, 1),
    ),
    # Exit code 1 means LinkChecker found broken links: measured all the same.
    Stage(
        "linkchecker",
        "links",
        "linkchecker (same site)",
        _linkchecker,
        prepare=_linkchecker_ready,
        ok_codes=(0, 1),
        route=True,
    ),
    Stage(
        "serve-text",
        "serve",
        "mkdocs serve: one card's text saved -> its page served",
        _serve_edit("text"),
        prepare=_serve_ready,
        before=_serve_idle,
    ),
    Stage(
        "serve-name",
        "serve",
        "mkdocs serve: one card's name saved -> its page served",
        _serve_edit("name"),
        prepare=_serve_ready,
        before=_serve_idle,
    ),
    Stage(
        "serve-name-all",
        "serve",
        "mkdocs serve: one card's name saved -> every page has the new navigation",
        _serve_edit("name", "--all"),
        prepare=_serve_ready,
        before=_serve_idle,
        after=_serve_stop,
    ),
    Stage(
        "engine-mkdocs",
        "engines",
        "plain mkdocs build (same pages and navigation, cold)",
        lambda b: b.mkdocs("mkdocs-engine.yml"),
        prepare=_engines_ready,
        before=lambda b, _i: shutil.rmtree(b.root / "site-engine-mkdocs", ignore_errors=True),
    ),
    Stage(
        "engine-zensical",
        "engines",
        "plain zensical build (same pages and navigation, cold: --clean)",
        _zensical,
        prepare=_engines_ready,
        before=lambda b, _i: shutil.rmtree(b.root / "site-zensical", ignore_errors=True),
    ),
    Stage(
        "build-mkdocs-force",
        "engines",
        "kb build --force --no-pdf (MkDocs, every page)",
        lambda b: b.kb("build", "--force", "--no-pdf"),
        prepare=_engines_ready,
    ),
    Stage(
        "build-zensical-force",
        "engines",
        "kb build --engine zensical --force --no-pdf",
        lambda b: b.kb("build", "--engine", "zensical", "--force", "--no-pdf"),
        prepare=_engines_ready,
    ),
    Stage(
        "smoke",
        "smoke",
        "kb smoke (CPU stand-ins)",
        lambda b: [PY, "-m", "generator", "-C", str(b.smoke_root), "smoke", "--device", "cpu"],
        prepare=_smoke_ready,
    ),
]

GROUPS: dict[str, list[str]] = {}
for _stage in STAGES:
    GROUPS.setdefault(_stage.group, []).append(_stage.name)
"""Stage groups for `--stages`, in the order they run."""

LABELS = {s.name: s.label for s in STAGES}

"""The whole pipeline, measured stage by stage beside the routes a user would otherwise take.

    .venv/bin/python benchmarks/run.py --cards 10 100 500 [--runs 3] [--stages validate build links ...]

For each N it makes a throwaway project (the repository's mkdocs.yml, templates and hand-written pages,
and a synthetic kb/ of N model cards varied from the shipped ones) and runs every stage as a whole
process, as a user would: wall time, CPU time and peak memory, median of `--runs` runs. Beside it, on
the same pages in the same run, the usual route: a plain `mkdocs build` (the `kb` plugin removed),
MkDocs with the `mkdocs-to-pdf` plugin (one combined PDF) and LinkChecker on the built site; those
tools live in a separate virtual environment (`.venv-bench/`, made on first use from PyPI).

Results go to `benchmarks/results/pipeline-<N>.json`; the table of every result file is printed and
written into `benchmarks/README.md`. Nothing here asserts a time: targets are reported, met or not.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
RESULTS = HERE / "results"
PROFILES = HERE / "profiles"
README = HERE / "README.md"
BENCH_VENV = REPO_ROOT / ".venv-bench"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO_ROOT))

from procstat import Sample, run_measured  # noqa: E402  (a sibling module, not a package)
from synthetic import make_kb  # noqa: E402

from tests.factory import new_project  # noqa: E402

PY = sys.executable
# The comparison tools, pinned to the versions of MkDocs, Material and WeasyPrint the product uses so
# that both routes build the same pages with the same engines.
SAME_AS_PRODUCT = ("mkdocs", "mkdocs-material", "pymdown-extensions", "weasyprint", "markdown")
ROUTE_TOOLS = ("mkdocs-to-pdf", "linkchecker", "pyinstrument")

# Stage groups for --stages, in the order they run (later stages reuse what earlier ones built).
GROUPS = {
    "validate": ["validate", "pyyaml-load"],
    "render": ["render"],
    "pdf": ["pdf-cold", "pdf-floor", "pdf-noop", "pdf-one-changed"],
    "build": ["build-cold", "build-noop", "build-one-changed"],
    "mkdocs": ["mkdocs-kb-plugin", "mkdocs-plain"],
    "pdf-route": ["mkdocs-to-pdf"],
    "links": ["check-links", "linkchecker"],
    "smoke": ["smoke"],
}
LABELS = {
    "validate": "kb validate",
    "pyyaml-load": "PyYAML CSafeLoader reads the same cards (process)",
    "render": "kb render (cold)",
    "pdf-cold": "kb pdf (cold)",
    "pdf-noop": "kb pdf (nothing changed)",
    "pdf-one-changed": "kb pdf (one card changed)",
    "pdf-floor": "WeasyPrint alone on the same print HTML (one process per core)",
    "build-cold": "kb build (cold, per-card PDFs)",
    "build-noop": "kb build (nothing changed)",
    "build-one-changed": "kb build (one card changed)",
    "mkdocs-kb-plugin": "mkdocs build (kb plugin, pages up to date)",
    "mkdocs-plain": "mkdocs build (plain, same pages)",
    "mkdocs-to-pdf": "mkdocs build + mkdocs-to-pdf (cold, one PDF)",
    "check-links": "kb check links",
    "linkchecker": "linkchecker (same site)",
    "smoke": "kb smoke (CPU stand-ins)",
}
# (name, numerator stage, denominator stage(s), comparison, target): ratio = numerator / denominator
# (a tuple of stages: the sum of their times).
TARGETS: list[tuple[str, str, str | tuple[str, ...], str, float]] = [
    ("kb build cold vs MkDocs + PDF plugin", "mkdocs-to-pdf", "build-cold", ">=", 5.0),
    ("kb pdf cold vs WeasyPrint alone (same print HTML)", "pdf-cold", "pdf-floor", "<=", 1.3),
    (
        "kb build one card changed vs kb pdf + mkdocs build of it, one after the other",
        "build-one-changed",
        ("pdf-one-changed", "mkdocs-kb-plugin"),
        "<=",
        1.0,
    ),
    ("kb build no-op vs plain mkdocs build", "build-noop", "mkdocs-plain", "<=", 1.2),
    ("kb check links vs linkchecker", "linkchecker", "check-links", ">=", 10.0),
    ("kb validate vs PyYAML C loader (process)", "validate", "pyyaml-load", "<=", 2.0),
]
PDF_SUMMARY = re.compile(r"(\d+) rendered, (\d+) unchanged")
PYYAML_LOAD = (
    "import sys, yaml\n"
    "from pathlib import Path\n"
    "for p in sorted(Path(sys.argv[1]).rglob('*.yaml')):\n"
    "    with p.open('rb') as fh:\n"
    "        yaml.load(fh, Loader=yaml.CSafeLoader)\n"
)


class StageFailed(Exception):
    """A measured command failed: its stage group is reported as skipped, the others still run."""


@dataclass
class Bench:
    """One project of N cards and what has been measured on it."""

    cards: int
    root: Path
    ids: list[str]
    runs: int
    budget_s: float
    log: Path
    results: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    pristine_docs: Path | None = None
    pdf_skip_reason: str = ""
    smoke_skip_reason: str = ""
    route_timeout: float | None = None
    """Seconds after which a comparison tool's run is stopped (its time then is a lower bound)."""

    # -- commands -----------------------------------------------------------------------------------
    def kb(self, *args: str) -> list[str]:
        return [PY, "-m", "generator", "-C", str(self.root), *args]

    def mkdocs(self, config: str, venv: Path | None = None) -> list[str]:
        exe = (venv / "bin" / "mkdocs") if venv else Path(PY).with_name("mkdocs")
        return [str(exe), "build", "--quiet", "--config-file", str(self.root / config)]

    # -- state --------------------------------------------------------------------------------------
    def clean(self) -> None:
        """Back to a fresh checkout: no site, no PDFs or caches, only the hand-written pages."""
        for name in ("site", "site-plain", "site-topdf", "artifacts", ".kb-cache"):
            shutil.rmtree(self.root / name, ignore_errors=True)
        assert self.pristine_docs is not None
        shutil.rmtree(self.root / "site_src", ignore_errors=True)
        shutil.copytree(self.pristine_docs, self.root / "site_src")

    def ensure(self, cmd: list[str], what: str) -> None:
        """Run a setup step (not measured); fail loudly if it fails."""
        run = subprocess.run(cmd, cwd=self.root, capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"{what} failed ({run.returncode}):\n{(run.stdout + run.stderr)[-3000:]}")

    # -- measuring ----------------------------------------------------------------------------------
    def measure(
        self,
        name: str,
        cmd: list[str],
        before: Callable[[int], None] | None = None,
        runs: int | None = None,
        ok_codes: tuple[int, ...] = (0,),
        env: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any] | None:
        """Median of up to `runs` runs; stops early once the stage has used its time budget."""
        runs = runs or self.runs
        samples: list[Sample] = []
        spent = 0.0
        for i in range(runs):
            if before:
                before(i)
            offset = self.log.stat().st_size if self.log.exists() else 0
            sample = run_measured(cmd, self.root, self.log, env=env, timeout=timeout)
            with self.log.open("rb") as fh:
                fh.seek(offset)
                output = fh.read().decode(errors="replace")
            if sample.timed_out:
                samples.append(sample)
                print(
                    f"  [{self.cards:>4} cards] {name}: stopped after {timeout:.0f} s (--route-timeout); "
                    "its time is a lower bound",
                    flush=True,
                )
                break
            if sample.returncode not in ok_codes:
                print(output[-2500:], file=sys.stderr)
                raise StageFailed(f"`{Path(cmd[0]).name} ...` exited {sample.returncode} (see the log)")
            samples.append(sample)
            spent += sample.wall_s
            print(
                f"  [{self.cards:>4} cards] {name:<18} run {i + 1}: {sample.wall_s:7.2f} s wall, "
                f"{sample.cpu_s:7.2f} s CPU, {sample.tree_peak_rss_mb:6.0f} MB",
                flush=True,
            )
            if spent > self.budget_s and i + 1 < runs:
                print(
                    f"  [{self.cards:>4} cards] {name}: {spent:.0f} s spent, budget "
                    f"{self.budget_s:.0f} s: no more runs",
                    flush=True,
                )
                break
        result = {
            "label": LABELS[name],
            "command": " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd)),
            "runs": len(samples),
            "wall_s": round(statistics.median(s.wall_s for s in samples), 3),
            "cpu_s": round(statistics.median(s.cpu_s for s in samples), 3),
            "max_rss_mb": round(max(s.max_rss_mb for s in samples), 1),
            "tree_peak_rss_mb": round(max(s.tree_peak_rss_mb for s in samples), 1),
            "samples": [s.as_dict() for s in samples],
        }
        if any(s.timed_out for s in samples):
            result["timed_out_after_s"] = timeout  # the median is a lower bound
        pdfs = PDF_SUMMARY.search(output)
        if pdfs:  # what the last run of `kb pdf` / `kb build` did: rendered vs unchanged PDFs
            result["pdfs_rendered"], result["pdfs_unchanged"] = int(pdfs.group(1)), int(pdfs.group(2))
        self.results[name] = result
        return result


# -- the stages ---------------------------------------------------------------------------------------


def stage_validate(b: Bench) -> None:
    b.measure("validate", b.kb("validate"))
    b.measure("pyyaml-load", [PY, "-c", PYYAML_LOAD, str(b.root / "kb")])


def stage_render(b: Bench) -> None:
    b.measure("render", b.kb("render"), before=lambda _: b.clean())


def _touch_card(b: Bench, i: int) -> None:
    """Change one card's text the way an author would (a different edit each run)."""
    card = b.root / "kb" / "model_cards" / f"{b.ids[0]}.yaml"
    text = card.read_text(encoding="utf-8")
    text = re.sub(
        r"(?m)^name: (.*?)( \(edit \d+\))?$", lambda m: f"name: {m.group(1)} (edit {i})", text, count=1
    )
    card.write_text(text, encoding="utf-8")


def stage_pdf(b: Bench, pdf_ok: bool) -> None:
    if not pdf_ok:
        for name in GROUPS["pdf"]:
            b.skipped[name] = b.pdf_skip_reason
        return
    pdf = b.kb("pdf", "--no-progress")
    b.measure("pdf-cold", pdf, before=lambda _: b.clean())
    _pdf_pages(b, "pdf-cold")
    stage_pdf_floor(b)
    b.measure("pdf-noop", pdf)
    b.measure("pdf-one-changed", pdf, before=lambda i: _touch_card(b, i))


def stage_pdf_floor(b: Bench) -> None:
    """WeasyPrint alone on the print HTML `kb pdf` gave it (dumped first, not timed)."""
    html_dir, out = b.root / "floor-html", b.root / "floor-pdf"
    shutil.rmtree(html_dir, ignore_errors=True)
    b.ensure([PY, str(HERE / "pdf_floor.py"), "dump", str(b.root), str(html_dir)], "dumping the print HTML")
    result = b.measure(
        "pdf-floor",
        [PY, str(HERE / "pdf_floor.py"), "render", str(html_dir), str(out)],
        before=lambda _: shutil.rmtree(out, ignore_errors=True),
    )
    if result:
        result["pdfs"] = sum(1 for _ in out.glob("*.pdf"))
        result["pdf_pages"] = sum(_pages(p) for p in out.glob("*.pdf"))


def _pages(path: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(path).pages)


def _pdf_pages(b: Bench, name: str) -> None:
    """PDF pages `kb pdf` / `kb build` produced (from the manifest), beside the stage's times."""
    if name not in b.results:
        return
    try:
        manifest = json.loads((b.root / "artifacts/pdf/code_walkthroughs/manifest.json").read_text())
    except (OSError, ValueError):
        return
    b.results[name]["pdfs"] = len(manifest["pdfs"])
    b.results[name]["pdf_pages"] = sum(int(e.get("pages", 0)) for e in manifest["pdfs"].values())


PDF_CPU_S = 1.5
"""CPU seconds per PDF of a synthetic card, measured at 100 cards (used only to explain a skip)."""


def stage_build(b: Bench, pdf_ok: bool) -> None:
    if pdf_ok:
        b.measure("build-cold", b.kb("build"), before=lambda _: b.clean())
        _pdf_pages(b, "build-cold")
    else:
        b.skipped["build-cold"] = b.pdf_skip_reason
        b.ensure(b.kb("build", "--no-pdf"), "kb build --no-pdf")
    build = b.kb("build") if pdf_ok else b.kb("build", "--no-pdf")
    b.measure("build-noop", build)
    # A different edit each run (the card's name: the card relating to it is rendered again too).
    b.measure("build-one-changed", build, before=lambda i: _touch_card(b, 100 + i))
    if not pdf_ok:
        b.results["build-noop"]["label"] += " (--no-pdf)"
        b.results["build-one-changed"]["label"] += " (--no-pdf)"


def _site_ready(b: Bench, pdf_ok: bool) -> None:
    if not (b.root / "site" / "index.html").exists():
        b.ensure(b.kb("build") if pdf_ok else b.kb("build", "--no-pdf"), "kb build")


def _config_copy(b: Bench, name: str, site_dir: str, extra_plugins: str = "") -> str:
    """mkdocs.yml without the `kb` plugin (same pages, theme and extensions), building into site_dir."""
    text = (b.root / "mkdocs.yml").read_text(encoding="utf-8")
    plain, removed = re.subn(r"(?m)^(\s*)- kb\s*(#.*)?\n", extra_plugins, text, count=1)
    if not removed:
        raise SystemExit("mkdocs.yml lists no `- kb` plugin line to remove for the plain baseline")
    plain, moved = re.subn(r"(?m)^site_dir:.*$", f"site_dir: {site_dir}", plain, count=1)
    if not moved:
        plain = f"site_dir: {site_dir}\n" + plain
    (b.root / name).write_text(plain, encoding="utf-8")
    return name


def stage_mkdocs(b: Bench, pdf_ok: bool) -> None:
    _site_ready(b, pdf_ok)
    if pdf_ok:
        b.measure("mkdocs-kb-plugin", b.mkdocs("mkdocs.yml"))
    else:
        # Plain `mkdocs build` renders the PDFs too; above --pdf-max-cards they are switched off.
        b.measure(
            "mkdocs-kb-plugin",
            b.mkdocs(_config_copy(b, "mkdocs-nopdf.yml", "site", "  - kb:\n      pdf: false\n")),
        )
        b.results["mkdocs-kb-plugin"]["label"] += " (pdf: false)"
    b.measure("mkdocs-plain", b.mkdocs(_config_copy(b, "mkdocs-plain.yml", "site-plain")))


def stage_pdf_route(b: Bench, pdf_ok: bool, venv: Path | None) -> None:
    if not pdf_ok:
        b.skipped["mkdocs-to-pdf"] = b.pdf_skip_reason
        return
    if venv is None:
        b.skipped["mkdocs-to-pdf"] = "the benchmark venv (.venv-bench) could not be made"
        return
    _site_ready(b, pdf_ok)
    # One combined PDF of every page, WeasyPrint as in the product; custom_template_path points away
    # from the project's templates/ (the kb's Jinja templates, not the plugin's).
    plugin = (
        "  - to-pdf:\n      output_path: pdf/knowledge-base.pdf\n      custom_template_path: no-such-folder\n"
    )
    config = _config_copy(b, "mkdocs-topdf.yml", "site-topdf", plugin)
    b.measure(
        "mkdocs-to-pdf",
        b.mkdocs(config, venv),
        before=lambda _: shutil.rmtree(b.root / "site-topdf", ignore_errors=True),
        timeout=b.route_timeout,
    )
    out = b.root / "site-topdf" / "pdf" / "knowledge-base.pdf"
    b.results["mkdocs-to-pdf"]["pdf_bytes"] = out.stat().st_size if out.exists() else None
    b.results["mkdocs-to-pdf"]["pdfs"] = 1 if out.exists() else 0
    b.results["mkdocs-to-pdf"]["pdf_pages"] = _pages(out) if out.exists() else None


def stage_links(b: Bench, pdf_ok: bool, venv: Path | None) -> None:
    _site_ready(b, pdf_ok)
    site = b.root / "site"
    result = b.measure("check-links", b.kb("check", "links", "--site", str(site)), ok_codes=(0, 1))
    if result:
        result["pages"] = sum(1 for _ in site.rglob("*.html"))
    lc = venv / "bin" / "linkchecker" if venv else None
    if lc is None or not lc.exists():
        b.skipped["linkchecker"] = "linkchecker is not installed in .venv-bench"
        return
    # Internal links only (LinkChecker checks no external URL unless asked), #fragments too (its
    # AnchorCheck plugin), as `kb check links` does. Exit code 1 means it found broken links.
    rc = b.root / "linkcheckerrc"
    rc.write_text("[AnchorCheck]\n", encoding="utf-8")
    b.measure(
        "linkchecker",
        [str(lc), "--config", str(rc), "--no-warnings", "--no-status", f"file://{site}/index.html"],
        ok_codes=(0, 1),
        timeout=b.route_timeout,
    )


def stage_smoke(b: Bench, smoke_root: Path | None) -> None:
    if smoke_root is None:
        b.skipped["smoke"] = b.smoke_skip_reason
        return
    b.measure(
        "smoke", [PY, "-m", "generator", "-C", str(smoke_root), "smoke", "--device", "cpu"], ok_codes=(0,)
    )


def smoke_project(work: Path) -> tuple[Path | None, str]:
    """The smoke engineer's CPU stand-ins (tests/smoke/standins.py), in a project of their own."""
    try:
        from tests.factory import write_card
        from tests.smoke.standins import build_all
    except ImportError as exc:
        return None, f"the smoke stand-ins are not available ({exc})"
    shutil.rmtree(work / "smoke", ignore_errors=True)
    (work / "smoke").mkdir()
    root = new_project(work / "smoke")
    specs = build_all(root)
    for spec in specs.values():
        write_card(root, spec.card)
    return root, ""


# -- the comparison venv ------------------------------------------------------------------------------


def bench_venv(path: Path = BENCH_VENV) -> Path | None:
    """The separate venv with the usual route's tools, made from PyPI on first use."""
    if (path / "bin" / "linkchecker").exists() and (path / "bin" / "mkdocs").exists():
        return path
    from importlib.metadata import PackageNotFoundError, version

    pins = []
    for name in SAME_AS_PRODUCT:
        try:
            pins.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            pins.append(name)
    print(f"making {path} with {' '.join(pins + list(ROUTE_TOOLS))} ...", flush=True)
    try:
        subprocess.run([PY, "-m", "venv", str(path)], check=True)
        subprocess.run([str(path / "bin" / "pip"), "install", "--quiet", *pins, *ROUTE_TOOLS], check=True)
    except subprocess.CalledProcessError as exc:
        print(f"could not make {path}: {exc}; the usual route's stages are skipped", file=sys.stderr)
        return None
    return path


def versions(venv: Path | None) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in (
        "mkdocs",
        "mkdocs-material",
        "weasyprint",
        "pyyaml",
        "jinja2",
        "markdown",
        "pydantic",
        "torch",
        "transformers",
    ):
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    if venv:
        listing = subprocess.run(
            [str(venv / "bin" / "pip"), "list", "--format=json"], capture_output=True, text=True
        )
        if listing.returncode == 0:
            wanted = {"mkdocs-to-pdf", "linkchecker", "pyinstrument"}
            for pkg in json.loads(listing.stdout):
                if pkg["name"].lower() in wanted:
                    found[pkg["name"].lower() + " (.venv-bench)"] = pkg["version"]
    return found


def machine() -> dict[str, Any]:
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


# -- one N --------------------------------------------------------------------------------------------


def run_group(b: Bench, group: str, pdf_ok: bool, venv: Path | None, smoke: tuple[Path | None, str]) -> None:
    """One stage group (see GROUPS)."""
    if group == "validate":
        stage_validate(b)
    elif group == "render":
        stage_render(b)
    elif group == "pdf":
        stage_pdf(b, pdf_ok)
    elif group == "build":
        stage_build(b, pdf_ok)
    elif group == "mkdocs":
        stage_mkdocs(b, pdf_ok)
    elif group == "pdf-route":
        stage_pdf_route(b, pdf_ok, venv)
    elif group == "links":
        stage_links(b, pdf_ok, venv)
    elif group == "smoke":
        stage_smoke(b, smoke[0])


def run_for(
    n: int, args: argparse.Namespace, venv: Path | None, smoke: tuple[Path | None, str], work: Path
) -> dict[str, Any]:
    wanted = [s for g in args.stages for s in GROUPS[g]]
    for old in (work / f"n{n}", work / f"n{n}-site_src"):  # a kept folder from an earlier run
        shutil.rmtree(old, ignore_errors=True)
    (work / f"n{n}").mkdir()
    project = new_project(work / f"n{n}")
    ids = make_kb(project / "kb", n)
    log = work / f"n{n}.log"
    log.unlink(missing_ok=True)
    b = Bench(n, project, ids, args.runs, args.budget, log, route_timeout=args.route_timeout)
    b.pristine_docs = work / f"n{n}-site_src"
    shutil.copytree(project / "site_src", b.pristine_docs)
    pdf_ok = n <= args.pdf_max_cards
    b.pdf_skip_reason = (
        f"PDFs of {n} cards take about {n * PDF_CPU_S / 60:.0f} min of CPU, "
        f"{n * PDF_CPU_S / (os.cpu_count() or 1) / 60:.0f} min on {os.cpu_count()} "
        f"cores, per run ({PDF_CPU_S} s CPU per PDF): above "
        f"--pdf-max-cards {args.pdf_max_cards}"
    )
    b.smoke_skip_reason = smoke[1]
    load_before = os.getloadavg()
    started = time.perf_counter()
    for group in args.stages:
        try:
            run_group(b, group, pdf_ok, venv, smoke)
        except (StageFailed, SystemExit) as exc:
            for name in GROUPS[group]:
                if name not in b.results:
                    b.skipped[name] = f"failed: {exc}"
    result = {
        "cards": n,
        "files": sum(1 for _ in (project / "kb").rglob("*.yaml")),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "runs_asked": args.runs,
        "stage_budget_s": args.budget,
        "elapsed_s": round(time.perf_counter() - started, 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "machine": machine(),
        "versions": versions(venv),
        "stages": {name: b.results[name] for name in wanted if name in b.results},
        "skipped": {name: b.skipped[name] for name in wanted if name in b.skipped},
        "targets": ratios(b.results),
    }
    return result


def ratios(stages: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, num, den, op, target in TARGETS:
        dens = (den,) if isinstance(den, str) else den
        den_wall = sum(stages[d]["wall_s"] for d in dens if d in stages)
        den_cpu = sum(stages[d]["cpu_s"] for d in dens if d in stages)
        if num in stages and all(d in stages for d in dens) and den_wall > 0:
            ratio = stages[num]["wall_s"] / den_wall
            met = ratio >= target if op == ">=" else ratio <= target
            cpu = stages[num]["cpu_s"] / den_cpu if den_cpu > 0 else None
            # A comparison tool stopped at --route-timeout took at least that long: a lower bound.
            bound = bool(stages[num].get("timed_out_after_s"))
            if bound and op == ">=" and not met:
                met = None
            out.append(
                {
                    "target": name,
                    "ratio": round(ratio, 2),
                    "wanted": f"{op} {target}",
                    "met": met,
                    "lower_bound": bound,
                    "cpu_ratio": round(cpu, 2) if cpu else None,
                    "numerator": num,
                    "denominator": den,
                }
            )
        else:
            out.append(
                {
                    "target": name,
                    "ratio": None,
                    "wanted": f"{op} {target}",
                    "met": None,
                    "numerator": num,
                    "denominator": den,
                }
            )
    return out


# -- the table ----------------------------------------------------------------------------------------


def table(results: list[dict[str, Any]]) -> str:
    """One Markdown table of stages x N, then one of the targets."""
    results = sorted(results, key=lambda r: r["cards"])
    names = [n for group in GROUPS.values() for n in group]
    head = "| stage | " + " | ".join(f"{r['cards']} cards: wall / CPU / peak RSS" for r in results) + " |"
    lines = [head, "|---" * (len(results) + 1) + "|"]
    for name in names:
        cells = []
        for r in results:
            s = r["stages"].get(name)
            if s:
                runs = f" (n={s['runs']})" if s["runs"] != r["runs_asked"] else ""
                more = ">" if s.get("timed_out_after_s") else ""
                cells.append(
                    f"{more}{s['wall_s']:.2f} s / {s['cpu_s']:.2f} s / {s['tree_peak_rss_mb']:.0f} MB{runs}"
                )
            elif name in r["skipped"]:
                cells.append("skipped")
            else:
                cells.append("—")
        if any(c != "—" for c in cells):
            lines.append(f"| {LABELS[name]} | " + " | ".join(cells) + " |")
    pages = [_pages_line(r) for r in results]
    if any(pages):
        lines += [
            "",
            "PDF pages produced (last run of each stage): "
            + "; ".join(f"{r['cards']} cards: {p}" for r, p in zip(results, pages, strict=True) if p)
            + ".",
        ]
    lines += [
        "",
        "| target (wall-time ratio, same run) | wanted | "
        + " | ".join(f"{r['cards']} cards" for r in results)
        + " |",
        "|---|---" + "|---" * len(results) + "|",
    ]
    for name, *_rest in TARGETS:
        wanted = f"{_rest[2]} {_rest[3]}"
        cells = []
        for r in results:
            t = next((x for x in r["targets"] if x["target"] == name), None)
            if t is None:  # a target added after this N was measured
                cells.append("not measured")
                continue
            verdict = {True: "met", False: "**missed**", None: "undecided"}[t["met"]]
            cpu = f" (CPU {t['cpu_ratio']:.2f}x)" if t.get("cpu_ratio") else ""
            more = ">" if t.get("lower_bound") else ""
            cells.append("—" if t["ratio"] is None else f"{more}{t['ratio']:.2f}x {verdict}{cpu}")
        lines.append(f"| {name} | {wanted} | " + " | ".join(cells) + " |")
    lines.append("")
    for r in results:
        lines.append(
            f"- {r['cards']} cards ({r['files']} YAML files), {r['date']}: load average "
            f"{r['load_average_before'][0]:.1f} before, {r['load_average_after'][0]:.1f} after "
            f"({r['machine']['cpus']} cores); median of up to {r['runs_asked']} runs."
        )
        for again in r.get("remeasured", []):
            load = again["load_average_before"][0]
            lines.append(
                f"  - measured again at {again['date']} (load average {load:.1f} before): "
                + ", ".join(LABELS[s] for s in again["stages"])
            )
        for name, why in r["skipped"].items():
            lines.append(f"  - skipped {LABELS[name]}: {why}")
    return "\n".join(lines) + "\n"


def _pages_line(r: dict[str, Any]) -> str:
    parts = []
    for name in ("build-cold", "pdf-cold", "pdf-floor", "mkdocs-to-pdf"):
        s = r["stages"].get(name)
        if s and s.get("pdf_pages"):
            parts.append(f"{LABELS[name].split(' (')[0]} {s['pdf_pages']} in {s.get('pdfs', '?')} PDF(s)")
    return ", ".join(parts)


def update_readme(text: str, results: list[dict[str, Any]]) -> None:
    if not README.exists() or not results:
        return
    m = results[-1]["machine"]
    v = results[-1]["versions"]
    about = (
        f"Machine: {m['cpus']} cores ({m['cpu']}), {m['memory']} RAM, Python {m['python']}, "
        f"{m['platform']}. " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".\n\n"
    )
    readme = README.read_text(encoding="utf-8")
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    if start in readme and end in readme:
        before, rest = readme.split(start, 1)
        after = rest.split(end, 1)[1]
        README.write_text(f"{before}{start}\n{about}{text}{end}{after}", encoding="utf-8")


def merged(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """`old` with the stages measured again in `new` replaced (`--merge`); ratios recomputed."""
    old["stages"].update(new["stages"])
    for name in new["stages"]:
        old["skipped"].pop(name, None)
    old.setdefault("remeasured", []).append(
        {
            "stages": sorted(new["stages"]),
            "date": new["date"],
            "load_average_before": new["load_average_before"],
            "load_average_after": new["load_average_after"],
        }
    )
    old["targets"] = ratios(old["stages"])
    return old


def load_results() -> list[dict[str, Any]]:
    found = []
    for path in sorted(RESULTS.glob("pipeline-*.json")):
        try:
            found.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "--cards", type=int, nargs="+", default=[10], help="N: model cards (several: 10 100 500)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per stage; the median is reported")
    parser.add_argument(
        "--stages",
        nargs="+",
        choices=list(GROUPS),
        default=list(GROUPS),
        help="stage groups to run (default: all)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=120.0,
        help="seconds of wall time per stage after which no further run starts",
    )
    parser.add_argument(
        "--pdf-max-cards",
        type=int,
        default=100,
        help="skip the PDF stages above this many cards (too slow on a small machine)",
    )
    parser.add_argument(
        "--route-timeout",
        type=float,
        default=600.0,
        help="stop a run of mkdocs-to-pdf or linkchecker after this many seconds "
        "(its time is then reported as a lower bound, '>')",
    )
    parser.add_argument("--no-compare", action="store_true", help="skip the usual route's tools (no venv)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where pipeline-<N>.json go")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="measure only --stages again and replace them in an existing pipeline-<N>.json",
    )
    parser.add_argument("--no-readme", action="store_true", help="do not rewrite benchmarks/README.md")
    parser.add_argument("--keep", type=Path, help="keep the projects here (default: a temporary folder)")
    args = parser.parse_args(argv)

    venv = None if args.no_compare else bench_venv()
    if args.no_compare:
        args.stages = [g for g in args.stages if g != "pdf-route"]
    work = args.keep or Path(tempfile.mkdtemp(prefix="kb-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    os.chmod(work, 0o755)  # LinkChecker run as root drops to `nobody`, who must read the site
    try:
        smoke = smoke_project(work) if "smoke" in args.stages else (None, "")
        written = []
        for n in args.cards:
            result = run_for(n, args, venv, smoke, work)
            args.results.mkdir(parents=True, exist_ok=True)
            out = args.results / f"pipeline-{n}.json"
            if args.merge and out.exists():
                result = merged(json.loads(out.read_text(encoding="utf-8")), result)
            out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
            written.append(result)
            print(f"wrote {out}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    everything = load_results() if args.results == RESULTS else written
    text = table(everything)
    print("\n" + text)
    if not args.no_readme and args.results == RESULTS:
        update_readme(text, everything)
    return 0


if __name__ == "__main__":
    sys.exit(main())

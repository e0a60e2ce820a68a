"""Reporting: the ratios between stages (`TARGETS`), the Markdown table of every result file, and the
results block of benchmarks/README.md; the machine and the versions each result was measured with."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from benchmarks.stages import GROUPS, LABELS

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
README = HERE / "README.md"

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
    (
        "plain MkDocs vs Zensical, same pages and navigation (cold)",
        "engine-mkdocs",
        "engine-zensical",
        ">=",
        1.0,
    ),
    (
        "kb build --force with MkDocs vs with Zensical (--no-pdf)",
        "build-mkdocs-force",
        "build-zensical-force",
        ">=",
        1.0,
    ),
]

# (name, stage, comparison, seconds): absolute goals, in wall time (issue 28 sets them at 500 cards).
GOALS: list[tuple[str, str, str, float]] = [
    ("mkdocs serve: one card's text saved -> its page served", "serve-text", "<=", 3.0),
    ("kb build after one card's text changed (PDFs included)", "build-one-text", "<=", 15.0),
]


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
    lines += ["", *_goals(results)]
    lines += [
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


def _goals(results: list[dict[str, Any]]) -> list[str]:
    """The absolute goals, one row each: the stage's median wall time against the goal, per N (a table
    of its own, then a blank line)."""
    head = "| goal (wall time) | wanted | " + " | ".join(f"{r['cards']} cards" for r in results) + " |"
    out = [head, "|---|---" + "|---" * len(results) + "|"]
    for name, stage, op, seconds in GOALS:
        cells = []
        for r in results:
            s = r["stages"].get(stage)
            if s is None:
                cells.append("—")
                continue
            met = s["wall_s"] <= seconds if op == "<=" else s["wall_s"] >= seconds
            cells.append(f"{s['wall_s']:.2f} s {'met' if met else '**missed**'}")
        out.append(f"| {name} | {op} {seconds:g} s | " + " | ".join(cells) + " |")
    return [*out, ""]


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

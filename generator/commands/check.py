"""`kb check links|licenses|citations|all`: the CI checks, each printing located problems."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from generator.exceptions import UsageError
from generator.layout import Layout
from generator.problems import Problem, Severity, escalate, render, summary
from generator.settings import Project

if TYPE_CHECKING:
    from generator.knowledge import KnowledgeBase

HELP = "the CI checks: links of the built site, licenses, code citations, or all of them"

CACHE_FILE = f"{Layout.CACHE_FOLDER}/links.json"
"""External link results, under the project root (git-ignored)."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=("links", "licenses", "citations", "all"), help="which check")
    parser.add_argument(
        "--site", type=Path, default=None, help="built site folder to check (default: site_dir of mkdocs.yml)"
    )
    parser.add_argument(
        "--external",
        action="store_true",
        help="also request external URLs (cached for link_cache_max_age seconds)",
    )
    parser.add_argument("--no-cache", action="store_true", help="request external URLs even if cached")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per external request")
    parser.add_argument("--jobs", type=int, default=0, help="processes parsing pages (0 = one per core)")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument("--format", choices=("text", "json", "github"), default="text")


def run(args: argparse.Namespace) -> int:
    from generator.checks.licenses import check_licenses
    from generator.knowledge import load_knowledge_base
    from generator.repos.citations import check_citations

    project = Project.load(args.project)
    strict = args.strict or project.settings.strict
    kb: KnowledgeBase | None = None

    def loaded() -> KnowledgeBase:  # once, and only for the checks that read the cards
        nonlocal kb
        if kb is None:
            kb, _problems = load_knowledge_base(project.root, None, project.kb_dir, project.smoke_dir)
        return kb

    checks: dict[str, Callable[[], list[Problem]]] = {
        "validation": lambda: loaded().problems,
        "links": lambda: links(project, args),
        "licenses": lambda: check_licenses(project, loaded(), strict),
        "citations": lambda: check_citations(project, loaded(), strict),
    }
    if args.what != "all":
        problems = escalate(checks[args.what](), strict)
        _print(problems, args.format)
        if args.format == "text":
            print(f"kb check {args.what}: {summary(problems)}", file=sys.stderr)
        return 1 if any(p.is_error for p in problems) else 0
    return run_all(args, strict, checks, lambda: could_not_run(project, loaded(), args))


def run_all(
    args: argparse.Namespace,
    strict: bool,
    checks: dict[str, Callable[[], list[Problem]]],
    not_run: Callable[[], dict[str, str]],
) -> int:
    """Validation, citations, licenses, links; every problem once, then one summary."""
    results: dict[str, list[Problem]] = {"validation": escalate(checks["validation"](), strict)}
    for name in ("citations", "licenses", "links"):
        results[name] = escalate(checks[name](), strict)
    seen: set[Problem] = set()
    everything: list[Problem] = []
    for problems in results.values():
        for p in problems:
            if p not in seen:  # e.g. a deprecated license id: reported by validation and licenses
                seen.add(p)
                everything.append(p)
    _print(everything, args.format)
    failed = [name for name, problems in results.items() if any(p.is_error for p in problems)]
    skipped = not_run()
    lines = [
        f"  {name:<11} {summary(problems)}" + (f"; skipped: {skipped[name]}" if name in skipped else "")
        for name, problems in results.items()
    ]
    if failed:
        verdict = f"FAILED: {', '.join(failed)}"
    elif skipped and strict:
        failed = list(skipped)
        verdict = f"FAILED under --strict: {', '.join(skipped)} could not run (see above)"
    elif skipped:
        verdict = (
            f"no check failed, but {', '.join(skipped)} could not run (see above); "
            "--strict fails on checks that could not run"
        )
    else:
        verdict = "all checks passed"
    text = "kb check all:\n" + "\n".join(lines) + f"\n{verdict}\n"
    # The summary goes to stderr so that `--format json` stays machine-readable on stdout.
    sys.stderr.write(text)
    return 1 if failed else 0


def could_not_run(project: Project, kb: KnowledgeBase, args: argparse.Namespace) -> dict[str, str]:
    """Checks (or parts of them) that found nothing because they could not look: check name -> why."""
    from generator.repos import gitops
    from generator.repos.citations import citations_of

    out: dict[str, str] = {}
    unsynced, cited = set(), 0
    for loaded in kb.models:
        if not list(citations_of(loaded.card)):
            continue
        cited += 1
        repo = gitops.open_repo(project.repo_dir(loaded.card.repo.name))
        if repo is None:
            unsynced.add(loaded.id)
        else:
            repo.close()
    if unsynced:
        out["citations"] = (
            f"the citations of {len(unsynced)} of {cited} card(s) were not verified: their "
            "repositories are not synced (run `kb repos sync`)"
        )
    site = args.site.resolve() if args.site else project.site_dir
    if not (site / "index.html").exists():
        out["links"] = f"no built site at {project.rel(site)} (run `kb build`)"
    return out


def _print(problems: list[Problem], fmt: str) -> None:
    sys.stdout.write(render(problems, fmt))


def links(project: Project, args: argparse.Namespace) -> list[Problem]:
    from generator.checks.links import check_site

    site = args.site.resolve() if args.site else project.site_dir
    if not site.is_dir() or not (site / "index.html").exists():
        message = f"no built site at {project.rel(site)}: run `kb build` (or `mkdocs build`) first"
        if args.what == "links":
            raise UsageError(message)
        return [Problem(project.rel(site), message + "; links not checked", Severity.WARNING)]
    cache = None if args.no_cache else project.root / CACHE_FILE
    started = time.perf_counter()
    problems = check_site(
        site,
        external=args.external,
        site_url=project.mkdocs_config.get("site_url"),
        cache_file=cache,
        cache_max_age=project.settings.link_cache_max_age,
        timeout=args.timeout,
        jobs=args.jobs,
    )
    if args.format == "text" and args.what == "links":
        print(
            f"checked the links of {project.rel(site)} in {time.perf_counter() - started:.2f} s",
            file=sys.stderr,
        )
    return problems

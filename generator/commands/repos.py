"""`kb repos sync|status`: upstream repositories under `external_repos/` at the cards' pinned commits."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from generator.knowledge import KnowledgeBase, load_knowledge_base
from generator.problems import Problem, render
from generator.settings import Project
from generator.trusted import trusted

if TYPE_CHECKING:
    from generator.repos.pins import RepoGroup

HELP = "clone or update external_repos/ at the pinned commits (sync); show pins and drift (status)"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sync = sub.add_parser(
        "sync",
        help="clone or fetch each repository and check out its pinned commit",
        description="Clone (or fetch) each card's repository into external_repos/ and "
        "check out the pinned commit, detached. Local work is never discarded.",
    )
    sync.add_argument("ids", nargs="*", metavar="ID", help="model card ids (default: every card)")
    sync.add_argument(
        "--update-citations",
        action="store_true",
        help="refresh the cited snippets in the lock files after a pin moved, and show the diff",
    )
    status = sub.add_parser("status", help="per repository: synced, at pin, dirty, drift, license file")
    status.add_argument("--fetch", action="store_true", help="fetch tags from upstream first")
    status.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    project = Project.load(args.project)
    kb = _load(project, getattr(args, "ids", []))
    if args.action == "sync":
        return _sync(project, kb, args.ids, args.update_citations)
    return _status(project, kb, args.fetch, args.format)


def _load(project: Project, ids: list[str]) -> KnowledgeBase:
    """The valid cards; invalid ones are reported and skipped (a named one fails with its problems)."""
    kb, problems = load_knowledge_base(project.root, None, project.kb_dir, project.smoke_dir)
    errors = [p for p in problems if p.is_error]
    if errors:
        sys.stderr.write(render(errors, "text"))
        print("cards with errors are skipped (see `kb validate`)", file=sys.stderr)
    kb.select("model", ids, missing="no valid model card '{id}' in {folder}{hint}")
    return kb


def _sync(project: Project, kb: KnowledgeBase, ids: list[str], update_citations: bool) -> int:
    from generator.repos.pins import group_by_repo
    from generator.repos.sync import select_groups, sync_group

    groups = select_groups(group_by_repo(kb), ids)
    if not groups:
        print("no model cards: nothing to sync")
        return 0

    def echo(line: str) -> None:
        print(line, flush=True)

    mirrors = trusted(project).mirrors
    failed = []
    for group in groups.values():
        result = sync_group(project, group, update_citations, echo, mirrors)
        if not result.ok:
            failed.append(result.name)
            if result.message:
                print(_located(group, result.message).format(), file=sys.stderr, flush=True)
    done = len(groups) - len(failed)
    tail = f"; failed: {', '.join(failed)}" if failed else ""
    print(f"{done} of {len(groups)} repositories synced{tail}")
    return 1 if failed else 0


def _located(group: RepoGroup, message: str) -> Problem:
    """A repository's failure as an error of the (first) card that names it, at its `repo` section."""
    first = group.cards[0]
    line, col = first.doc.locate(("repo", "url"))
    return Problem(
        first.rel, f"repository '{group.name}' not synced: {message}", field="repo.url", line=line, col=col
    )


def _status(project: Project, kb: KnowledgeBase, fetch: bool, fmt: str) -> int:
    from generator.repos.status import all_statuses, format_table

    statuses = all_statuses(project, kb, fetch)
    if fmt == "json":
        print(json.dumps([s.as_dict() for s in statuses], indent=2))
    else:
        sys.stdout.write(format_table(statuses) if statuses else "no model cards\n")
    return 0

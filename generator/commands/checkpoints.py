"""`kb checkpoints resolve|pull|pin|status`: hub revisions pinned on the card; checkpoints from the hub at
those revisions, hashed; their code pinned."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from generator.exceptions import KBError
from generator.knowledge import LoadedCard, load_knowledge_base, narrow
from generator.schema import ModelCard
from generator.settings import Project

HELP = (
    "pin hub revisions (resolve), download checkpoints at them (pull), pin their code (pin), show them "
    "(status)"
)


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    pull = sub.add_parser(
        "pull",
        help="download each card's checkpoints[] from the hub at checkpoints[].revision",
        description="Download each card's checkpoints (hub_id at revision) into "
        "external_repos/<repo>/checkpoints/<path> with huggingface_hub (HF_ENDPOINT and HF_TOKEN are "
        "honoured; an interrupted download resumes), and record the sha256 of every file in the lock "
        "file.",
    )
    pull.add_argument("ids", nargs="*", metavar="ID", help="model card ids (default: every card)")
    pin = sub.add_parser(
        "pin",
        help="after reviewing it, pin the checkpoint's own code in smoke_test.code_sha256",
        description="Write the sha256 of every Python file of the card's checkpoint that the upstream "
        "repository does not track into smoke_test.code_sha256, keeping the card's comments and key "
        "order.",
    )
    pin.add_argument("ids", nargs="+", metavar="ID", help="model card ids")
    resolve = sub.add_parser(
        "resolve",
        help="write the hub commit a branch or tag names into checkpoints[].revision",
        description="Ask the hub which commit REF (a branch or tag, default main) of each checkpoint's "
        "hub_id is, and write it into the card as checkpoints[].revision, keeping every other byte of "
        "the card (HF_ENDPOINT and HF_TOKEN are honoured). Then pull, review and pin.",
    )
    resolve.add_argument("ids", nargs="+", metavar="ID", help="model card ids")
    resolve.add_argument("--ref", default="main", help="branch, tag or commit to resolve (default: main)")
    resolve.add_argument("--checkpoint", metavar="NAME", help="only the checkpoints[] entry of this name")
    status = sub.add_parser("status", help="each card's checkpoints: present, verified, size, revision")
    status.add_argument("ids", nargs="*", metavar="ID", help="model card ids (default: every card)")
    status.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    project = Project.load(args.project)
    cards = _select(project, args.ids)
    if args.action == "pull":
        return _pull(project, cards)
    if args.action == "pin":
        return _pin(project, cards)
    if args.action == "resolve":
        return _resolve(cards, args.ref, args.checkpoint)
    return _status(project, cards, args.format)


def _select(project: Project, ids: list[str]) -> list[LoadedCard[ModelCard]]:
    kb, _ = load_knowledge_base(project.root, None, project.kb_dir, project.smoke_dir)
    chosen = kb.select("model", ids, missing="no valid model card '{id}' in {folder}{hint}")
    return [m for c in chosen if (m := narrow(c, ModelCard))]


def _pull(project: Project, cards: list[LoadedCard[ModelCard]]) -> int:
    from generator.hub.pull import pull

    def echo(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    failed, pulled, code = [], 0, []
    for loaded in cards:
        if not any(c.hub_id for c in loaded.card.checkpoints):
            echo(f"{loaded.id}: no checkpoints[] entry names a hub_id: nothing to pull")
        for checkpoint in loaded.card.checkpoints:
            if not checkpoint.hub_id:
                continue
            try:
                done = pull(project, loaded, checkpoint, echo)
            except KBError as exc:
                print(f"kb checkpoints: {exc}", file=sys.stderr, flush=True)
                failed.append(loaded.id)
                continue
            pulled += 1
            print(
                f"{loaded.id}: {done.hub_id} at {done.revision[:12]}: {len(done.files)} file(s) verified "
                f"into {project.rel(done.folder)}/",
                flush=True,
            )
            if done.code:
                print(f"  code brought: {', '.join(done.code)}", flush=True)
                code.append(loaded.id)
    for card_id in dict.fromkeys(code):
        print(f"review the checkpoint code of {card_id}, then pin it: kb checkpoints pin {card_id}")
    tail = f"; failed: {', '.join(dict.fromkeys(failed))}" if failed else ""
    print(f"{pulled} checkpoint(s) pulled{tail}", file=sys.stderr)
    return 1 if failed else 0


def _pin(project: Project, cards: list[LoadedCard[ModelCard]]) -> int:
    from generator.hub.pin import pin

    for loaded in cards:
        digests = pin(project, loaded)
        if not digests:
            print(f"{loaded.id}: the checkpoint has no untracked Python files: nothing to pin")
            continue
        print(f"{loaded.id}: pinned {len(digests)} file(s) in {loaded.rel} (smoke_test.code_sha256):")
        for rel, digest in digests.items():
            print(f"  {rel}: {digest}")
    return 0


def _resolve(cards: list[LoadedCard[ModelCard]], ref: str, only: str | None) -> int:
    from generator.hub.resolve import resolve

    failed = []
    for loaded in cards:
        try:
            done = resolve(loaded, ref, only)
        except KBError as exc:
            print(f"kb checkpoints: {exc}", file=sys.stderr, flush=True)
            failed.append(loaded.id)
            continue
        for r in done:
            where = f"{loaded.rel} (checkpoints[{r.index}].revision)"
            if not r.changed:
                print(f"{loaded.id}: {r.hub_id} at '{ref}' is {r.commit}, as {where} pins already")
                continue
            was = f", was {r.previous}" if r.previous else ""
            print(f"{loaded.id}: {r.hub_id} at '{ref}' is {r.commit}: written to {where}{was}")
        if any(r.changed for r in done):
            print(
                f"next: kb checkpoints pull {loaded.id}, review its code, then kb checkpoints pin {loaded.id}"
            )
    return 1 if failed else 0


def _status(project: Project, cards: list[LoadedCard[ModelCard]], fmt: str) -> int:
    from generator.hub.record import checkpoint_status

    rows = [checkpoint_status(project, c, i) for c in cards for i in range(len(c.card.checkpoints))]
    if fmt == "json":
        print(json.dumps([asdict(r) for r in rows], indent=2))
        return 0
    for r in rows:
        size = f"{r.size / 2**20:.1f} MiB" if r.present else "absent"
        revision = f"revision {r.revision[:12]}" if r.revision else "no revision pinned"
        detail = f" ({r.detail})" if r.detail else ""
        print(f"{r.card}: {r.checkpoint}: {r.folder}: {size}, {r.state}{detail}, {revision}")
    return 0

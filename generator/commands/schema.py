"""`kb schema`: print (or write) the JSON Schema of a card kind."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from generator.io import write_if_changed
from generator.schema import CARD_KINDS

HELP = "print the JSON Schema of a card (for editors), or write it with -o"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kind", choices=sorted(CARD_KINDS), default="model", help="card kind")
    parser.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")


def run(args: argparse.Namespace) -> int:
    from generator.schema.export import json_schema

    text = json.dumps(json_schema(args.kind), indent=2, ensure_ascii=False) + "\n"
    if args.output:
        write_if_changed(args.output, text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0

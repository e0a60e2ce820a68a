"""The `kb` command: a thin layer over the library. Each subcommand lives in `generator/commands/`.

Command modules import only light modules at the top; torch, transformers and WeasyPrint are imported
inside the commands that need them, so `kb validate` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from generator import __version__
from generator.exceptions import KBError, Terminated

COMMANDS: dict[str, str] = {
    "validate": "validate",
    "new": "new",
    "schema": "schema",
    "render": "render",
    "pdf": "pdf",
    "build": "build",
    "smoke": "smoke",
    "checkpoints": "checkpoints",
    "repos": "repos",
    "check": "check",
    "import": "import_",
    "export": "export",
}
"""Subcommand -> module in generator.commands. A module defines HELP, configure(parser), run(args)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kb", description="Publish a knowledge base of foundation-model cards."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-C",
        dest="chdir",
        type=Path,
        default=None,
        metavar="DIR",
        help="run as if kb was started in DIR (like git -C)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"generator.commands.{module_name}")
        cmd = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `kb` with `argv`; returns the exit status (0 ok, 1 failed, 2 wrong usage)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)
    args.project = None  # commands find the project from the working directory
    previous = Path.cwd()
    try:
        if args.chdir:
            os.chdir(args.chdir)
        return int(args._run(args))
    except FileNotFoundError as exc:
        if args.chdir and not args.chdir.is_dir():
            print(f"kb: error: -C {args.chdir}: no such folder", file=sys.stderr)
            return 2
        raise exc
    except KBError as exc:
        if args.verbose:
            raise
        print(f"kb {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM where a command turns it into `Terminated`
        print("terminated" if isinstance(exc, Terminated) else "interrupted", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    finally:
        os.chdir(previous)

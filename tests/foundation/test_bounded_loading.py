"""Bad card files: each one is exit 1 with a located message, no traceback, in bounded time and memory.

`kb validate` runs in a subprocess under a wall-clock timeout and an address-space limit
(RLIMIT_AS), so a file that made loading hang or balloon fails the test instead of the machine.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.factory import make_card, new_project, write_card, write_yaml

TIMEOUT_S = 30
MEMORY_BYTES = 2 * 1024**3
"""The interpreter with pydantic, ruamel and PyYAML maps a few hundred MiB; 2 GiB leaves no room for
reading /dev/zero whole or expanding a billion laughs."""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def validate(root: Path) -> tuple[int, str, float]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "-C", str(root), "validate"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env=env,
        preexec_fn=_limit_memory,
    )
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - start


def billion_laughs(cards: Path) -> None:
    lines = ['a0: &a0 "lol"']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    text = "\n".join(lines) + "\n"
    (cards / "laughs.yaml").write_text("schema_version: 1\nid: laughs\nname: Laughs\n" + text)


def link_outside(cards: Path) -> None:
    outside = cards.parent.parent.parent / "elsewhere"
    write_yaml(outside / "outside.yaml", make_card(id="outside"))
    (cards / "outside.yaml").symlink_to(outside / "outside.yaml")


def link_to_dev_zero(cards: Path) -> None:
    (cards / "zero.yaml").symlink_to("/dev/zero")


def link_loop(cards: Path) -> None:
    (cards / "loop.yaml").symlink_to(cards / "loop2.yaml")
    (cards / "loop2.yaml").symlink_to(cards / "loop.yaml")


def deep_block(cards: Path) -> None:
    levels = "".join(" " * i + f"k{i}:\n" for i in range(600))
    text = "schema_version: 1\nid: deep\n" + levels + " " * 600 + "x\n"
    (cards / "deep.yaml").write_text(text)


def deep_flow(cards: Path) -> None:
    nested = "[" * 400_000 + "]" * 400_000
    (cards / "flow.yaml").write_text("schema_version: 1\nid: flow\nname: " + nested + "\n")


def huge_sparse(cards: Path) -> None:
    with (cards / "huge.yaml").open("wb") as fh:
        fh.truncate(3 * 1024**3)  # 3 GiB that take no disk: the size is refused before reading


def fifo(cards: Path) -> None:
    os.mkfifo(cards / "pipe.yaml")  # reading it would block for ever


CASES: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "billion-laughs": (billion_laughs, "laughs.yaml:5:", "YAML aliases (*name) make this file stand"),
    "symlink-outside-kb": (link_outside, "outside.yaml:1:1:", "outside kb/"),
    "symlink-to-dev-zero": (link_to_dev_zero, "zero.yaml:1:1:", "not a regular file"),
    "symlink-loop": (link_loop, "loop.yaml:1:1:", "symbolic link loop"),
    "nesting-600-block": (deep_block, "deep.yaml:", "nests deeper than 50 levels"),
    "nesting-400k-flow": (deep_flow, "flow.yaml:3:", "nests deeper than 50 levels"),
    "huge-sparse-file": (huge_sparse, "huge.yaml:1:1:", "cards are limited to 1 MiB"),
    "fifo": (fifo, "pipe.yaml:1:1:", "not a regular file"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file_is_a_located_error_in_bounded_time_and_memory(tmp_path: Path, case: str) -> None:
    make, where, message = CASES[case]
    root = new_project(tmp_path)
    write_card(root, make_card())  # a good card beside the bad one is still checked
    make(root / "kb" / "model_cards")
    code, out, seconds = validate(root)
    assert code == 1, out
    assert "Traceback" not in out and "internal error" not in out, out
    line = next((ln for ln in out.splitlines() if message in ln), "")
    assert re.match(rf"kb/model_cards/{re.escape(where)}\d*:?\d*:? ?error: ", line), out
    assert "1 card(s)" not in out and seconds < TIMEOUT_S


def test_a_card_with_three_mistakes_reports_all_three_in_one_run(tmp_path: Path) -> None:
    root = new_project(tmp_path)
    write_yaml(
        root / "kb" / "model_cards" / "three.yaml",
        make_card(id="other-name", license="Apache-2.O", integration__projector__out_dim=256),
    )
    code, out, _ = validate(root)
    assert code == 1
    assert (
        "kb/model_cards/three.yaml:20:1: error: id: id 'other-name' does not match the file name "
        "'three.yaml'" in out
    )
    assert re.search(r"three.yaml:\d+:\d+: error: license: 'Apache-2.O' is not a valid SPDX", out), out
    assert re.search(r"three.yaml:\d+:\d+: error: integration.projector.out_dim: out_dim is 256", out), out
    assert "3 error(s)" in out

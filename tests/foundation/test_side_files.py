"""A card's side files, its lock file and its smoke report, are read once with the card, boundedly: a bad
one is a located message naming the file and the fix, never a traceback.

A lock file that cannot be read safely is an error (exit 1), like a bad card; a smoke report that is not
one is a warning (the card reads as not run), so that `kb smoke` can write it again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.knowledge import load_knowledge_base
from tests.factory import make_card, new_project, write_card
from tests.foundation.test_bounded_loading import validate

LOCK = "kb/model_cards/tiny-bert.lock.yaml"
REPORT = "artifacts/smoke/tiny-bert.json"


def lock_to_dev_zero(lock: Path) -> None:
    lock.symlink_to("/dev/zero")


def lock_alias_bomb(lock: Path) -> None:
    lines = ["commit: 0123456789abcdef0123456789abcdef01234567", 'a0: &a0 "lol"']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    lock.write_text("\n".join(lines) + "\n")


def lock_too_deep(lock: Path) -> None:
    lock.write_text("commit: abc\ncitations: " + "[" * 100 + "]" * 100 + "\n")


def lock_outside(lock: Path) -> None:
    elsewhere = lock.parent.parent.parent / "elsewhere.lock.yaml"
    elsewhere.write_text("commit: abc\n")
    lock.symlink_to(elsewhere)


def lock_not_a_mapping(lock: Path) -> None:
    lock.write_text("- just\n- a list\n")


LOCK_CASES: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "symlink-to-dev-zero": (lock_to_dev_zero, ":1:1:", "not a regular file"),
    "alias-bomb": (lock_alias_bomb, ":3:", "aliases are not allowed in lock files"),
    "nesting": (lock_too_deep, ":2:", "nests deeper than 50 levels; no lock file needs that"),
    "symlink-outside-kb": (lock_outside, ":1:1:", "outside kb/"),
    "not-a-mapping": (lock_not_a_mapping, ":1:1:", "a lock file must be a YAML mapping"),
}


@pytest.mark.parametrize("case", sorted(LOCK_CASES))
def test_a_bad_lock_file_is_a_located_error(tmp_path: Path, case: str) -> None:
    make, where, message = LOCK_CASES[case]
    root = new_project(tmp_path)
    write_card(root, make_card())
    make(root / LOCK)
    code, out, _ = validate(root)
    assert code == 1, out
    assert "Traceback" not in out and "internal error" not in out, out
    line = next((ln for ln in out.splitlines() if message in ln), "")
    assert re.match(rf"{re.escape(LOCK + where)}\d*:?\d*:? ?error: ", line), out
    assert "delete this one and run them again" in line and "kb repos sync tiny-bert" in line, line


def test_a_good_lock_file_is_read_once_with_the_card(tmp_path: Path) -> None:
    root = new_project(tmp_path)
    write_card(root, make_card())
    (root / LOCK).write_text(
        "repo: upstream\nurl: https://github.com/o/upstream\n"
        "commit: 0123456789abcdef0123456789abcdef01234567\n"
        "committed: '2024-03-01T12:00:00+00:00'\ncitations:\n- path: src/model.py\n  lines: [1, 2]\n"
        "  snippet: |\n    a = 1\n    b = 2\n"
    )
    kb, problems = load_knowledge_base(root)
    assert not [p for p in problems if p.is_error], problems
    lock = kb.models[0].lock
    assert lock is not None and lock.committed == "2024-03-01T12:00:00+00:00"
    entry = lock.entry("src/model.py", (1, 2))
    assert entry is not None and entry.snippet == "a = 1\nb = 2\n"


def report_not_json(path: Path) -> None:
    path.write_text('{"status": "passed",\n  oops}\n')


def report_wrong_type(path: Path) -> None:
    path.write_text(json.dumps({"status": "maybe", "checks": []}))


def report_not_an_object(path: Path) -> None:
    path.write_text("[1, 2]")


def report_to_dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


REPORT_CASES: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "not-json": (report_not_json, ":2:3:", "not a smoke report: invalid JSON"),
    "wrong-status": (report_wrong_type, ":0:0:", "status: not a smoke report: input should be 'passed'"),
    "not-an-object": (report_not_an_object, ":1:1:", "not a smoke report: not a JSON object"),
    "symlink-to-dev-zero": (report_to_dev_zero, ":1:1:", "not a regular file"),
}


@pytest.mark.parametrize("case", sorted(REPORT_CASES))
def test_a_bad_smoke_report_is_a_located_warning_and_reads_as_not_run(tmp_path: Path, case: str) -> None:
    make, where, message = REPORT_CASES[case]
    root = new_project(tmp_path)
    write_card(root, make_card())
    (root / REPORT).parent.mkdir(parents=True)
    make(root / REPORT)
    code, out, _ = validate(root)
    assert code == 0, out
    assert "Traceback" not in out and "internal error" not in out, out
    line = next((ln for ln in out.splitlines() if message in ln), "")
    assert line.startswith(f"{REPORT}{where} warning: "), out
    assert line.endswith("(run `kb smoke tiny-bert` to write it again, or delete it)"), line
    kb, _ = load_knowledge_base(root)
    assert kb.models[0].smoke is None


def test_a_smoke_report_is_read_once_with_the_card(tmp_path: Path) -> None:
    root = new_project(tmp_path)
    write_card(root, make_card())
    (root / REPORT).parent.mkdir(parents=True)
    (root / REPORT).write_text(json.dumps({"status": "passed", "device": "cpu", "summary": "9 check(s)"}))
    kb, problems = load_knowledge_base(root)
    assert not problems or all(not p.file.startswith("artifacts/") for p in problems), problems
    (root / REPORT).unlink()  # read when loading: the stages never go back to the file
    report = kb.models[0].smoke
    assert report is not None and (report.id, report.status, report.device) == ("tiny-bert", "passed", "cpu")

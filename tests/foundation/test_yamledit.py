"""Setting one value in a card's text: the value changes, in the style around it, and nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from generator.yamledit import EditError, set_value

SHA = "ab" * 20
CODE = {"m.py": "cd" * 32}

CASES: list[tuple[str, str, tuple[str | int, ...], Any, str]] = [
    (
        "block, added after the last entry (its comment stays with it)",
        "smoke_test:\n  checkpoint: x   # c\n  input: {kind: dna}\nz: 2\n",
        ("smoke_test", "code_sha256"),
        CODE,
        "smoke_test:\n  checkpoint: x   # c\n  input: {kind: dna}\n"
        f"  code_sha256:\n    m.py: {CODE['m.py']}\nz: 2\n",
    ),
    (
        "flow mapping, added before its brace",
        "smoke_test: {checkpoint: x, input: {kind: dna}}\n",
        ("smoke_test", "code_sha256"),
        CODE,
        f"smoke_test: {{checkpoint: x, input: {{kind: dna}}, code_sha256: {{m.py: {CODE['m.py']}}}}}\n",
    ),
    (
        "block mapping replaced at its own indentation of 4, the comment on its key kept",
        "smoke_test:\n    code_sha256:   # reviewed\n        old.py: 12\n        o2.py: 13\n"
        "    input:\n        kind: dna\n",
        ("smoke_test", "code_sha256"),
        CODE,
        f"smoke_test:\n    code_sha256:   # reviewed\n        m.py: {CODE['m.py']}\n"
        "    input:\n        kind: dna\n",
    ),
    (
        "an empty flow mapping stays flow",
        "smoke_test:\n  code_sha256: {}\n",
        ("smoke_test", "code_sha256"),
        CODE,
        f"smoke_test:\n  code_sha256: {{m.py: {CODE['m.py']}}}\n",
    ),
    (
        "a key without a value",
        "smoke_test:\n  checkpoint: x\n  code_sha256:\nnext: 1\n",
        ("smoke_test", "code_sha256"),
        CODE,
        f"smoke_test:\n  checkpoint: x\n  code_sha256:\n    m.py: {CODE['m.py']}\nnext: 1\n",
    ),
    (
        "after an entry without a value",
        "smoke_test:\n  input:\nnext: 1\n",
        ("smoke_test", "code_sha256"),
        CODE,
        f"smoke_test:\n  input:\n  code_sha256:\n    m.py: {CODE['m.py']}\nnext: 1\n",
    ),
    (
        "in a mapping inside a sequence not indented under its key",
        "checkpoints:\n- name: a\n  path: b\nx: 1\n",
        ("checkpoints", 0, "revision"),
        SHA,
        f"checkpoints:\n- name: a\n  path: b\n  revision: {SHA}\nx: 1\n",
    ),
    (
        "a quoted scalar replaced, its comment kept; a value YAML 1.2 reads as a number is quoted",
        "checkpoints:\n  - name: a\n    revision: 'ffff'   # old\n",
        ("checkpoints", 0, "revision"),
        "1e12345600000000000000000000000000000000",
        'checkpoints:\n  - name: a\n    revision: "1e12345600000000000000000000000000000000"   # old\n',
    ),
    (
        "after a block scalar",
        "checkpoints:\n  - path: |\n      b\n\nnext: 1\n",
        ("checkpoints", 0, "revision"),
        SHA,
        f"checkpoints:\n  - path: |\n      b\n    revision: {SHA}\n\nnext: 1\n",
    ),
]


@pytest.mark.parametrize(("text", "path", "value", "want"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_set_value(text: str, path: tuple[str | int, ...], value: Any, want: str) -> None:
    assert set_value(text, path, value) == want


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        ("a: 1\n", ("smoke_test", "code_sha256"), "no smoke_test to edit"),
        ("checkpoints: []\n", ("checkpoints", 0, "revision"), "no item 0 to edit at checkpoints[0]"),
        ("a: [1\n", ("a",), "the file does not parse cleanly"),
    ],
)
def test_what_cannot_be_edited(text: str, path: tuple[str | int, ...], message: str) -> None:
    with pytest.raises(EditError, match=message.replace("[", r"\[").replace("]", r"\]")):
        set_value(text, path, "x")

"""`kb check all` says which checks could not run, instead of "all checks passed"."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.cli import main
from tests.factory import make_card, new_project, write_card


def test_check_all_reports_checks_that_could_not_run_and_strict_fails_on_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = new_project(tmp_path)
    write_card(
        root,
        make_card(
            walkthrough=[
                {
                    "title": "Encode",
                    "stage": "encode",
                    "prose": "Run it.",
                    "cite": {"path": "src/model.py", "lines": [1, 2]},
                }
            ]
        ),
    )
    assert main(["-C", str(root), "check", "all"]) == 0
    err = capsys.readouterr().err
    assert "all checks passed" not in err
    assert (
        "skipped: the citations of 1 of 1 card(s) were not verified: their repositories are not synced "
        "(run `kb repos sync`)"
    ) in err
    assert "skipped: no built site at site (run `kb build`)" in err
    assert "--strict fails on checks that could not run" in err
    assert main(["-C", str(root), "check", "all", "--strict"]) == 1
    assert "FAILED" in capsys.readouterr().err

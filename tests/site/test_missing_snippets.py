"""A walkthrough step that cites upstream code the build cannot read at the pinned commit (the
repositories are not synced; a lock file's copy is never shown on its own word): the reader sees the
permalink, the maintainer one warning per build naming the card, the steps and the fix. It never
fails a build, not even a strict one: a fresh clone has no synced repositories, and the Pages workflow
syncs them before its strict build."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.cli import main
from tests.factory import new_project, upstream_clone, write_card, write_yaml
from tests.site.conftest import DATASET, mkdocs_cli, model

STEPS = [
    {
        "title": "Encode",
        "stage": "encode",
        "prose": "Run the encoder.",
        "cite": {"path": "model/net.py", "lines": [10, 12]},
    },
    {"title": "Pool", "stage": "other", "prose": "Mean over tokens."},
    {
        "title": "Project",
        "stage": "project",
        "prose": "Project to 512-D.",
        "cite": {"path": "model/head.py", "lines": [3, 4]},
    },
]
COMMIT = "0123456789abcdef0123456789abcdef01234567"
PERMALINK = f"https://github.com/example/tiny-bert/blob/{COMMIT}/model/net.py#L10-L12"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = new_project(tmp_path)
    config = root / "mkdocs.yml"
    config.write_text(config.read_text().replace("\n  - kb\n", "\n  - kb:\n      pdf: false\n"))
    write_yaml(root / "kb" / "datasets" / "synthetic-dna.yaml", DATASET)
    write_card(root, model("cites-code", walkthrough=STEPS))
    write_card(root, model("tiny-bert"))  # cites nothing: no warning
    return root


def notices(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if "cites-code.yaml" in ln and "not read from the pinned" in ln]


def test_kb_build_warns_once_naming_the_card_the_steps_and_the_fix(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-C", str(project), "build", "--no-pdf", "--strict"]) == 0  # strict: still published
    err = capsys.readouterr().err
    assert notices(err) == [
        "kb/model_cards/cites-code.yaml:68:3: warning: walkthrough[0].cite: 2 cited snippets of walkthrough "
        "steps 1 'Encode' (model/net.py, lines 10-12), 3 'Project' (model/head.py, lines 3-4) are not read "
        "from the pinned commit: the page and the PDF link the code upstream instead of showing it (run "
        "`kb repos sync` to clone the repository at its pin (snippets are shown only as read from the pinned "
        "commit, never from a lock file alone))"
    ]
    page = (project / "site" / "models" / "cites-code" / "index.html").read_text(encoding="utf-8")
    assert PERMALINK in page and "kb repos sync" not in page  # the reader gets the permalink only


def test_a_synced_card_gets_no_warning(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    net = "".join(f"# {n}\n" for n in range(1, 10)) + "a = 1\nb = 2\nc = 3\n"
    sha = upstream_clone(
        project, "tiny-bert", {"model/net.py": net, "model/head.py": "# 1\n# 2\nd = 4\ne = 5\n"}
    )
    write_card(project, model("cites-code", walkthrough=STEPS, repo={**model("x")["repo"], "commit": sha}))
    assert main(["-C", str(project), "render"]) == 0
    assert notices(capsys.readouterr().err) == []


def test_a_lock_file_alone_is_not_a_synced_repository(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_yaml(
        project / "kb" / "model_cards" / "cites-code.lock.yaml",
        {
            "commit": COMMIT,
            "citations": [{"path": "model/net.py", "lines": [10, 12], "snippet": "a = 1\nb = 2\nc = 3\n"}],
        },
    )
    assert main(["-C", str(project), "render"]) == 0
    [line] = notices(capsys.readouterr().err)
    assert "2 cited snippets" in line and line.endswith("never from a lock file alone))")


def test_lines_missing_at_the_pin_name_the_citation_check(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sha = upstream_clone(project, "tiny-bert", {"model/net.py": "short\n", "model/head.py": "also short\n"})
    write_card(project, model("cites-code", walkthrough=STEPS, repo={**model("x")["repo"], "commit": sha}))
    assert main(["-C", str(project), "render"]) == 0
    [line] = notices(capsys.readouterr().err)
    assert line.endswith("(the cited lines are not there at the pin: see `kb check citations`)")


def test_plain_mkdocs_build_warns_once_and_strict_mode_does_not_fail_on_it(project: Path) -> None:
    result = mkdocs_cli(project, "build")
    assert result.returncode == 0, result.stderr[-3000:]
    [line] = notices(result.stderr)  # once per build, although the card is on several pages
    assert line.startswith("WARNING -  kb/model_cards/cites-code.yaml:68:3: warning: ")
    strict = mkdocs_cli(project, "build", "--strict")
    assert strict.returncode == 0, strict.stderr[-3000:]
    [line] = notices(strict.stderr)
    assert line.startswith("INFO    -  kb/model_cards/cites-code.yaml:68:3: warning: ")

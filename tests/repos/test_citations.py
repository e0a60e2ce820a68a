"""Code citations: rendering from the lock file, permalinks, and `check_citations` against the pin."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.cli import main
from generator.knowledge import load_knowledge_base
from generator.repos.citations import card_citations, check_citations, permalink
from generator.repos.pins import pin_info
from generator.schema.model_card import Repo
from generator.settings import Project
from tests.repos.conftest import MODEL_V2


def check(project: Path, strict: bool = False) -> list[str]:
    proj = Project.load(project)
    kb, problems = load_knowledge_base(proj.root, None, proj.kb_dir)
    assert not [p for p in problems if p.is_error], problems
    return [p.format() for p in check_citations(proj, kb, strict)]


def cite_line(card: Path, n: int) -> int:
    """1-based line of the n-th `cite:` key in the card file."""
    return [i for i, line in enumerate(card.read_text().splitlines(), 1) if "cite:" in line][n]


def repo_line(card: Path) -> int:
    return next(i for i, s in enumerate(card.read_text().splitlines(), 1) if s.startswith("repo:"))


def sync(project: Path, *args: str) -> int:
    return main(["-C", str(project), "repos", "sync", *args])


def loaded_card(project: Path, card_id: str = "tiny"):
    proj = Project.load(project)
    kb, _ = load_knowledge_base(proj.root, None, proj.kb_dir)
    return proj, kb.get("model", card_id)


def test_permalinks_for_github_gitlab_and_configured_hosts():
    sha = "0123456789abcdef0123456789abcdef01234567"
    gh = Repo(name="x", url="https://github.com/kuleshov-group/caduceus.git", commit=sha)
    assert permalink(gh, "caduceus/modeling_caduceus.py", 10, 24) == (
        f"https://github.com/kuleshov-group/caduceus/blob/{sha}/caduceus/modeling_caduceus.py#L10-L24"
    )
    assert permalink(gh, "a.py", 7, 7) == f"https://github.com/kuleshov-group/caduceus/blob/{sha}/a.py#L7"
    gl = Repo(name="x", url="https://gitlab.com/group/proj", commit=sha)
    assert permalink(gl, "a.py", 3, 5) == f"https://gitlab.com/group/proj/blob/{sha}/a.py#L3-5"
    gitea = Repo(name="x", url="https://git.example.org/lab/model", commit=sha)
    assert permalink(gitea, "a.py", 3, 5) is None
    templates = {"git.example.org": "{url}/src/commit/{commit}/{path}#L{start}-L{end}"}
    assert permalink(gitea, "a.py", 3, 5, templates) == (
        f"https://git.example.org/lab/model/src/commit/{sha}/a.py#L3-L5"
    )
    assert (
        permalink(Repo(name="x", url="https://git.example.net/srv/model", commit=sha), "a.py", 1, 2) is None
    )


def test_unsynced_card_shows_permalink_and_says_when_the_snippet_appears(project, card_for, upstream):
    card_for()
    proj, loaded = loaded_card(project)
    views = card_citations(proj, loaded)
    sha = upstream.shas["v1"]
    assert [(v.label, v.language, v.snippet, v.note) for v in views.values()] == [
        ("src/model.py, lines 3-5", "python", None, "The snippet appears after `kb repos sync`."),
        ("src/util.py, lines 1-2", "python", None, "The snippet appears after `kb repos sync`."),
    ]
    assert views[0].permalink == f"https://github.com/example/upstream/blob/{sha}/src/model.py#L3-L5"
    info = pin_info(proj, loaded)
    assert info.label == f"pinned at {sha[:7]}"
    assert info.url == f"https://github.com/example/upstream/tree/{sha}"


def test_synced_card_renders_the_pinned_snippet_with_its_date(project, card_for, upstream):
    card_for(tag="v1.0")
    assert sync(project) == 0
    proj, loaded = loaded_card(project)
    view = card_citations(proj, loaded)[0]
    assert (view.start, view.end, view.snippet, view.note) == (3, 5, "line 3\nline 4\nline 5\n", None)
    assert view.commit == upstream.shas["v1"]
    assert pin_info(proj, loaded).label == f"pinned at {upstream.shas['v1'][:7]} (v1.0), 2024-03-01"
    # The page and the PDF say so, with the commit date kept in the lock file.
    assert main(["-C", str(project), "render"]) == 0
    page = (project / "site_src" / "models" / f"{loaded.id}.md").read_text(encoding="utf-8")
    row = next(line for line in page.splitlines() if line.startswith("| Tag / commit |"))
    assert f"pinned at {upstream.shas['v1'][:7]} (v1.0), 2024-03-01" in row
    assert "line 3" in page


def test_the_lock_files_copy_is_never_shown_on_its_own_word(project, card_for, upstream):
    card_for(tag="v1.0")
    assert sync(project) == 0
    # Without the clone, the copy in the lock file (part of the tree, so a pull request's) is not shown as
    # upstream code: the page links the code upstream and says when the snippet appears.
    import shutil

    shutil.rmtree(project / "external_repos")
    proj, loaded = loaded_card(project)
    view = card_citations(proj, loaded)[0]
    assert view.snippet is None
    assert view.note == (
        "The copy of this snippet in the lock file is shown only once it is read from the pinned commit: "
        "it appears after `kb repos sync`."
    )
    sha = upstream.shas["v1"]
    assert view.permalink == f"https://github.com/example/upstream/blob/{sha}/src/model.py#L3-L5"
    assert pin_info(proj, loaded).label == f"pinned at {sha[:7]} (v1.0), 2024-03-01"


def test_a_lock_for_another_pin_is_not_shown(project, card_for, upstream):
    card_for()
    assert sync(project) == 0
    card_for(at="v2")
    proj, loaded = loaded_card(project)
    view = card_citations(proj, loaded)[0]
    # Read at the new pin from the clone's object database, not from the lock file's v1 copy.
    assert view.snippet == "".join(MODEL_V2.splitlines(keepends=True)[2:5])
    assert view.commit == upstream.shas["v2"]


def test_all_citations_verified(project, card_for):
    card_for()
    assert sync(project) == 0
    assert check(project) == []


def test_unsynced_repository_is_a_warning_and_an_error_under_strict(project, card_for):
    card = card_for()
    line = repo_line(card)
    message = (
        "repo: repository 'upstream' is not synced to external_repos/upstream: 2 citation(s) cannot "
        "be verified (run `kb repos sync tiny`)"
    )
    assert check(project) == [f"kb/model_cards/tiny.yaml:{line}:1: warning: {message}"]
    assert check(project, strict=True) == [f"kb/model_cards/tiny.yaml:{line}:1: error: {message}"]


def test_missing_moved_and_past_the_end(project, card_for, upstream):
    steps = [
        {"title": "Moved", "cite": {"path": "src/util.py", "lines": [1, 2]}},
        {"title": "Gone", "cite": {"path": "src/nothing.py", "lines": [1, 2]}},
        {"title": "Long", "cite": {"path": "src/model.py", "lines": [10, 14]}},
    ]
    card = card_for(at="v2", steps=steps)
    assert sync(project) == 0
    short = upstream.shas["v2"][:7]
    lines = [cite_line(card, n) for n in range(3)]
    assert check(project) == [
        f"kb/model_cards/tiny.yaml:{lines[0]}:3: error: walkthrough[0].cite: src/util.py does not exist at "
        f"{short} in upstream (a file of that name is at pkg/util.py: if it moved, update `path` and check "
        "`lines`)",
        f"kb/model_cards/tiny.yaml:{lines[1]}:3: error: walkthrough[1].cite: src/nothing.py does not exist "
        f"at {short} in upstream (check `path` against the repository at the pin)",
        f"kb/model_cards/tiny.yaml:{lines[2]}:3: error: walkthrough[2].cite: lines 10-14 of src/model.py are "
        f"past the end of the file (12 lines at {short}) (fix `lines`)",
    ]


def test_changed_snippet_after_the_pin_moved(project, card_for, upstream):
    card_for()
    assert sync(project) == 0
    steps = [
        {"title": "Encode", "cite": {"path": "src/model.py", "lines": [3, 5]}},
        {"title": "Tail", "cite": {"path": "src/model.py", "lines": [8, 10]}},
    ]
    card_for(steps=steps)
    assert sync(project) == 0
    # The pin moves to v1.1 without updating the lock: lines 3-5 now hold other code.
    card = card_for(at="v2", steps=steps)
    assert sync(project) == 0
    old, new = upstream.shas["v1"][:7], upstream.shas["v2"][:7]
    assert check(project) == [
        f"kb/model_cards/tiny.yaml:{cite_line(card, 0)}:3: error: walkthrough[0].cite: src/model.py:3-5 at "
        f"{new} differs from its copy in kb/model_cards/tiny.lock.yaml (the copy was taken at {old}; "
        "review the change with `kb repos sync tiny --update-citations`)",
        f"kb/model_cards/tiny.yaml:{cite_line(card, 1)}:3: error: walkthrough[1].cite: src/model.py:8-10 at "
        f"{new} differs from its copy in kb/model_cards/tiny.lock.yaml (the copied code is now at lines "
        "10-12: set `lines: [10, 12]`, or review the change with `kb repos sync tiny --update-citations`)",
    ]


def test_unchanged_snippets_under_a_moved_pin_still_need_the_lock_refreshed(project, card_for, upstream):
    steps = [{"title": "License", "cite": {"path": "LICENSE", "lines": [1, 1]}}]
    card_for(steps=steps)
    assert sync(project) == 0
    card = card_for(at="v2", steps=steps)
    assert sync(project) == 0
    line = repo_line(card)
    old, new = upstream.shas["v1"][:7], upstream.shas["v2"][:7]
    assert check(project) == [
        f"kb/model_cards/tiny.yaml:{line}:1: error: repo: kb/model_cards/tiny.lock.yaml records commit {old} "
        f"but the card pins {new} (the cited snippets are unchanged: record the new pin with "
        "`kb repos sync tiny --update-citations`)",
    ]
    assert sync(project, "--update-citations") == 0
    assert check(project) == []


def test_a_citation_missing_from_the_lock(project, card_for, upstream):
    card_for(steps=[{"title": "Head", "cite": {"path": "src/model.py", "lines": [1, 2]}}])
    assert sync(project) == 0
    card = card_for(steps=[{"title": "Head", "cite": {"path": "src/model.py", "lines": [1, 3]}}])
    assert check(project) == [
        f"kb/model_cards/tiny.yaml:{cite_line(card, 0)}:3: error: walkthrough[0].cite: no copy of "
        "src/model.py:1-3 in kb/model_cards/tiny.lock.yaml (run `kb repos sync tiny` to write it)",
    ]


def test_hand_edited_lock_is_an_error(project, card_for, upstream):
    card = card_for()
    assert sync(project) == 0
    lock = project / "kb/model_cards/tiny.lock.yaml"
    lock.write_text(lock.read_text().replace("    line 4\n", "    line 4 (edited)\n"))
    assert check(project) == [
        f"kb/model_cards/tiny.yaml:{cite_line(card, 0)}:3: error: walkthrough[0].cite: src/model.py:3-5 at "
        f"{upstream.shas['v1'][:7]} differs from its copy in kb/model_cards/tiny.lock.yaml (the lock file "
        "was edited by hand: restore it with `kb repos sync tiny`)",
    ]


@pytest.mark.parametrize(
    "name, language", [("a.py", "python"), ("b.cu", "cuda"), ("Dockerfile", "docker"), ("c.unknown", "text")]
)
def test_language_from_file_name(name, language):
    from generator.repos.citations import language_for

    assert language_for(f"dir/{name}") == language
    assert language_for(name, "yaml") == "yaml"


def test_kb_check_citations_reports_through_the_cli(project, card_for, upstream, capsys):
    card = card_for()
    assert main(["-C", str(project), "check", "citations"]) == 0  # unsynced: a warning only
    captured = capsys.readouterr()
    assert captured.out == (
        f"kb/model_cards/tiny.yaml:{repo_line(card)}:1: warning: repo: repository 'upstream' is not synced "
        "to external_repos/upstream: 2 citation(s) cannot be verified (run `kb repos sync tiny`)\n"
    )
    assert main(["-C", str(project), "check", "citations", "--strict"]) == 1
    capsys.readouterr()
    assert sync(project) == 0
    capsys.readouterr()
    assert main(["-C", str(project), "check", "citations", "--strict"]) == 0
    assert capsys.readouterr().out == ""


def test_update_citations_fails_when_a_citation_cannot_be_read(project, card_for, upstream, capsys):
    card_for()
    assert sync(project) == 0
    card_for(at="v2")  # src/util.py moved away in v1.1
    capsys.readouterr()
    assert sync(project, "--update-citations") == 1
    captured = capsys.readouterr()
    assert (
        f"  kb/model_cards/tiny.yaml: walkthrough[1].cite: src/util.py does not exist at "
        f"{upstream.shas['v2'][:7]} (see `kb check citations`)"
    ) in captured.out.splitlines()
    assert captured.err == (
        "kb/model_cards/tiny.yaml:48:3: error: repo.url: repository 'upstream' not synced: some citations "
        "could not be read at the pin: fix their `path` or `lines` (see `kb check citations`), then sync "
        "again\n"
    )

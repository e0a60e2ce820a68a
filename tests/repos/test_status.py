"""`kb repos status` and `repo_status`: presence, pin, dirty tree, drift against the newest tag, license."""

from __future__ import annotations

import json
from pathlib import Path

from generator.cli import main
from generator.knowledge import load_knowledge_base
from generator.repos.status import repo_status
from generator.settings import Project


def status(project: Path, *args: str) -> int:
    return main(["-C", str(project), "repos", "status", *args])


def test_status_before_sync(project, card_for, upstream, capsys):
    card_for()
    assert status(project) == 0
    v1 = upstream.shas["v1"][:7]
    assert capsys.readouterr().out.splitlines() == [
        "REPOSITORY  CARDS  SYNCED  AT PIN  DIRTY  PINNED   NEWEST TAG  LICENSE FILE",
        f"upstream    tiny   no      -       -      {v1}  -           -",
        "not synced: upstream: run `kb repos sync`",
    ]


def test_status_shows_drift_when_a_newer_tag_exists_upstream(project, card_for, upstream, capsys):
    card_for(tag="v1.0")
    assert main(["-C", str(project), "repos", "sync"]) == 0
    capsys.readouterr()
    assert status(project) == 0
    v1 = upstream.shas["v1"][:7]
    assert capsys.readouterr().out.splitlines() == [
        "REPOSITORY  CARDS  SYNCED  AT PIN  DIRTY  PINNED          NEWEST TAG    LICENSE FILE",
        f"upstream    tiny   yes     yes     no     {v1} (v1.0)  v1.1 (drift)  "
        "external_repos/upstream/LICENSE",
        f"upstream: a newer tag v1.1 (2024-06-01) exists upstream; the cards pin {v1} (v1.0)",
    ]


def test_status_fetch_sees_a_tag_made_after_the_sync(project, card_for, upstream, capsys):
    card_for(at="v2")
    assert main(["-C", str(project), "repos", "sync"]) == 0
    capsys.readouterr()
    upstream.commit("v3", {"src/model.py": "new\n"}, tag="v2.0", date="2024-09-01T12:00:00 +0000")
    assert status(project, "--format", "json") == 0
    assert json.loads(capsys.readouterr().out)[0]["newest_tag"] == "v1.1"  # not fetched yet
    assert status(project, "--fetch", "--format", "json") == 0
    [row] = json.loads(capsys.readouterr().out)
    assert {
        k: row[k]
        for k in (
            "name",
            "cards",
            "present",
            "at_pin",
            "dirty",
            "newest_tag",
            "drift",
            "license_file",
            "trusted",
            "pinned_tag",
        )
    } == {
        "name": "upstream",
        "cards": ["tiny"],
        "present": True,
        "at_pin": True,
        "dirty": False,
        "newest_tag": "v2.0",
        "drift": True,
        "license_file": "external_repos/upstream/LICENSE",
        "trusted": True,
        "pinned_tag": "v1.1",
    }


def test_repo_status_of_a_dirty_clone_is_not_trusted(project, card_for, upstream):
    card_for()
    assert main(["-C", str(project), "repos", "sync"]) == 0
    (project / "external_repos/upstream/src/model.py").write_text("patched\n")
    proj = Project.load(project)
    kb, _ = load_knowledge_base(proj.root, None, proj.kb_dir)
    st = repo_status(proj, kb.get("model", "tiny"))
    assert (st.present, st.at_pin, st.dirty, st.trusted) == (True, True, True, False)
    assert st.pinned_commit == upstream.shas["v1"]


def test_repo_status_without_a_license_file(project, card_for, upstream):
    upstream.commit("v3", {"README.md": "no license\n"}, remove=("LICENSE",))
    card_for(at="v3")
    assert main(["-C", str(project), "repos", "sync"]) == 0
    proj = Project.load(project)
    kb, _ = load_knowledge_base(proj.root, None, proj.kb_dir)
    st = repo_status(proj, kb.get("model", "tiny"))
    assert st.license_file is None and st.drift is False

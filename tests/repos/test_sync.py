"""`kb repos sync`: clone, re-sync, refusal to discard local work, shared and conflicting pins."""

from __future__ import annotations

import re
from pathlib import Path

from generator.cli import main
from tests.factory import FORGE, make_card, write_card
from tests.repos.conftest import MODEL_V1, UPSTREAM_URL


def sync(project: Path, *args: str) -> int:
    return main(["-C", str(project), "repos", "sync", *args])


def failures(err: str) -> str:
    """stderr with each sync failure, an error located at its card's `repo.url`, written as
    `<repo>: failed: <message>` (the location itself is checked by the test of a failing repository)."""
    return re.sub(
        r"(?m)^kb/model_cards/\S+?\.yaml:\d+:\d+: error: repo\.url: repository '([^']+)' not synced: ",
        r"\1: failed: ",
        err,
    )


def head(clone: Path) -> str:
    from git import Repo

    return Repo(clone).head.commit.hexsha


def test_sync_clones_at_the_pinned_commit_detached(project, card_for, upstream, capsys):
    card_for()
    assert sync(project) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"upstream: cloning {UPSTREAM_URL} (from the mirror {upstream.path}) into external_repos/upstream",
        f"upstream: checked out {upstream.shas['v1'][:7]} (v1.0), committed 2024-03-01 (cards: tiny)",
        "  kb/model_cards/tiny.lock.yaml: wrote 2 citation(s)",
        "1 of 1 repositories synced",
    ]
    clone = project / "external_repos" / "upstream"
    from git import Repo

    repo = Repo(clone)
    assert repo.head.is_detached and repo.head.commit.hexsha == upstream.shas["v1"]
    assert (clone / "src" / "util.py").exists()  # the working tree is at v1.0, before the move
    assert not list((project / "external_repos").glob(".*partial*"))

    # Syncing again is a no-op that says so.
    assert sync(project) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [
        f"upstream: fetching {UPSTREAM_URL} (from the mirror {upstream.path})",
        f"upstream: already at {upstream.shas['v1'][:7]} (v1.0), committed 2024-03-01 (cards: tiny)",
    ]


def test_sync_resolves_a_tag_only_pin_and_records_its_commit(project, card_for, upstream, capsys):
    card_for(commit=None, tag="v1.1")
    assert sync(project) == 0
    out = capsys.readouterr().out
    assert f"checked out {upstream.shas['v2'][:7]} (v1.1), committed 2024-06-01" in out, out
    assert head(project / "external_repos" / "upstream") == upstream.shas["v2"]
    lock = (project / "kb/model_cards/tiny.lock.yaml").read_text()
    assert f"commit: {upstream.shas['v2']}" in lock and "tag: v1.1" in lock


def test_resync_after_the_pin_moves(project, card_for, upstream, capsys):
    card_for()
    assert sync(project) == 0
    card_for(at="v2", steps=[{"title": "Encode", "cite": {"path": "src/model.py", "lines": [5, 7]}}])
    capsys.readouterr()
    assert sync(project) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:3] == [
        f"upstream: checked out {upstream.shas['v2'][:7]} (v1.1), committed 2024-06-01 (cards: tiny)",
        f"  kb/model_cards/tiny.lock.yaml: kept: it holds the snippets of {upstream.shas['v1'][:7]}, "
        f"the card pins {upstream.shas['v2'][:7]}; review the changes with "
        "`kb repos sync tiny --update-citations`",
    ]
    assert head(project / "external_repos" / "upstream") == upstream.shas["v2"]

    assert sync(project, "tiny", "--update-citations") == 0
    out = capsys.readouterr().out.splitlines()
    old, new = upstream.shas["v1"][:7], upstream.shas["v2"][:7]
    assert out[2:] == [
        f"  kb/model_cards/tiny.lock.yaml: updated from {old} to {new}",
        "    src/model.py:5-7: changed",
        f"--- src/model.py:3-5 @ {old}",
        f"+++ src/model.py:5-7 @ {new}",
        "@@ -1,3 +1,3 @@",
        " line 3",
        "-line 4",
        "+line four",
        " line 5",
        "    src/util.py:1-2: no longer cited",
        "1 of 1 repositories synced",
    ]
    lock = (project / "kb/model_cards/tiny.lock.yaml").read_text()
    assert f"commit: {upstream.shas['v2']}" in lock and "line four" in lock


def test_refuses_to_discard_uncommitted_changes(project, card_for, upstream, capsys):
    card_for()
    assert sync(project) == 0
    edited = project / "external_repos/upstream/src/model.py"
    edited.write_text("my local experiment\n")
    card_for(at="v2")
    capsys.readouterr()
    assert sync(project) == 1
    captured = capsys.readouterr()
    assert failures(captured.err) == (
        "upstream: failed: external_repos/upstream has uncommitted changes (src/model.py): commit and push "
        "them, or move the folder away, or delete it, then run `kb repos sync` again (nothing was changed)\n"
    )
    assert captured.out.splitlines()[-1] == "0 of 1 repositories synced; failed: upstream"
    assert edited.read_text() == "my local experiment\n"
    assert head(project / "external_repos" / "upstream") == upstream.shas["v1"]


def test_untracked_checkpoints_are_not_local_work(project, card_for, upstream, capsys):
    card_for()
    assert sync(project) == 0
    ckpt = project / "external_repos/upstream/checkpoints/tiny/config.json"
    ckpt.parent.mkdir(parents=True)
    ckpt.write_text("{}")
    card_for(at="v2")
    assert sync(project) == 0
    assert ckpt.exists()


def test_refuses_to_strand_local_commits(project, card_for, upstream, capsys):
    from git import Repo

    card_for()
    assert sync(project) == 0
    clone = project / "external_repos/upstream"
    repo = Repo(clone)
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Me").set_value("user", "email", "me@example.org")
    (clone / "notes.txt").write_text("mine\n")
    repo.index.add(["notes.txt"])
    mine = repo.index.commit("my fix").hexsha
    card_for(at="v2")
    capsys.readouterr()
    assert sync(project) == 1
    assert failures(capsys.readouterr().err) == (
        f"upstream: failed: external_repos/upstream has 1 local commit(s) that no remote branch holds "
        f"({mine[:7]} my fix): push them, or move the folder away, or delete it, then run "
        "`kb repos sync` again (nothing was changed)\n"
    )
    assert head(clone) == mine


def test_cards_sharing_a_repository_sync_it_once(project, card_for, upstream, capsys):
    card_for("caduceus-ph")
    card_for("caduceus-ps")
    assert sync(project, "caduceus-ps") == 0
    out = capsys.readouterr().out
    assert out.count("cloning") == 1
    assert "(cards: caduceus-ph, caduceus-ps)" in out
    assert (project / "kb/model_cards/caduceus-ph.lock.yaml").exists()


def test_cards_sharing_a_repository_must_pin_the_same_commit(project, card_for, upstream, capsys):
    card_for("caduceus-ph")
    card_for("caduceus-ps", at="v2")
    assert sync(project) == 1
    assert failures(capsys.readouterr().err) == (
        f"upstream: failed: kb/model_cards/caduceus-ph.yaml pins {upstream.shas['v1'][:7]} but "
        f"kb/model_cards/caduceus-ps.yaml pins {upstream.shas['v2'][:7]} in the same repository 'upstream': "
        "pin the same commit, or give one of them another repo.name\n"
    )
    assert not (project / "external_repos" / "upstream").exists()


def test_tag_and_commit_that_disagree_name_the_card(project, card_for, upstream, capsys):
    card_for(tag="v1.1")  # v1.1 comes after the pinned v1 commit
    assert sync(project) == 1
    assert failures(capsys.readouterr().err) == (
        f"upstream: failed: kb/model_cards/tiny.yaml: tag 'v1.1' is at {upstream.shas['v2'][:7]}, which is "
        f"not the pinned commit {upstream.shas['v1'][:7]} nor one of its ancestors: fix repo.tag or "
        "repo.commit\n"
    )


def test_one_failing_repository_does_not_stop_the_others(project, card_for, upstream, tmp_path, capsys):
    card_for()
    broken = make_card(
        id="broken", alias="broken", repo={"name": "missing", "url": f"{FORGE}nowhere", "tag": "v1"}
    )
    write_card(project, broken)
    assert sync(project) == 1
    captured = capsys.readouterr()
    # The failure is an error of the card that names the repository, located at its repo.url.
    assert captured.err.startswith(
        "kb/model_cards/broken.yaml:48:3: error: repo.url: repository 'missing' not synced: cannot clone "
        f"{tmp_path / 'nowhere'}: fatal:"
    ), captured.err
    assert "upstream: checked out" in captured.out
    assert captured.out.splitlines()[-1] == "1 of 2 repositories synced; failed: missing"
    assert not (project / "external_repos" / "missing").exists()


def test_a_folder_that_is_not_a_clone_is_left_alone(project, card_for, capsys):
    card_for()
    folder = project / "external_repos" / "upstream"
    folder.mkdir(parents=True)
    (folder / "README").write_text("hand-made\n")
    assert sync(project) == 1
    assert failures(capsys.readouterr().err) == (
        "upstream: failed: external_repos/upstream exists but is not a git clone: move it away or delete it, "
        "then run `kb repos sync` again\n"
    )
    assert (folder / "README").read_text() == "hand-made\n"


def test_unknown_card_id_is_a_usage_error(project, card_for, capsys):
    card_for()
    assert sync(project, "tinny") == 2
    assert failures(capsys.readouterr().err) == (
        "kb repos: error: no valid model card 'tinny' in kb/model_cards (did you mean 'tiny'?)\n"
    )


def test_snippets_come_from_the_pinned_commit_not_the_working_tree(project, card_for, upstream):
    from git import Repo

    card_for()
    assert sync(project) == 0
    # Someone checked out another commit by hand: the lock still holds v1.0's lines.
    Repo(project / "external_repos/upstream").git.checkout("--detach", upstream.shas["v2"])
    (project / "kb/model_cards/tiny.lock.yaml").unlink()
    assert sync(project, "--update-citations") == 0
    lock = (project / "kb/model_cards/tiny.lock.yaml").read_text()
    assert "    line 3\n    line 4\n    line 5\n" in lock
    assert MODEL_V1.splitlines()[3] == "line 4"


def test_a_fresh_clone_at_the_default_branch_tip_has_its_files(project, card_for, upstream):
    card_for(at="v2")  # the pin is where the clone's HEAD already points
    assert sync(project) == 0
    clone = project / "external_repos/upstream"
    assert (clone / "pkg/util.py").exists()
    from git import Repo

    assert not Repo(clone).is_dirty()


def test_a_former_pin_dropped_upstream_is_not_local_work(project, card_for, upstream, capsys):
    card_for(at="v2")
    assert sync(project) == 0
    # Upstream force-pushes main back to v1 and deletes the v1.1 tag: the clone's HEAD (the old pin)
    # is held by no remote ref any more, but it came from upstream, so moving away loses nothing.
    repo = upstream.repo
    repo.delete_tag(repo.tags["v1.1"])
    repo.git.reset("--hard", upstream.shas["v1"])
    from git import Repo

    clone = Repo(project / "external_repos" / "upstream")
    clone.delete_tag(clone.tags["v1.1"])  # as if the clone never had it: only the lock file knows v1.1
    card_for(at="v1")
    assert sync(project, "--update-citations") == 0
    assert head(project / "external_repos" / "upstream") == upstream.shas["v1"]

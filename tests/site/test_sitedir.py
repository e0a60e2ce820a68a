"""Putting a new build in the place of site/: atomically, keeping what MkDocs keeps, never losing the
last good site."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.exceptions import BuildFailed
from generator.sitedir import failed_dir, publish, staging_dir


def tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def old_site(root: Path) -> Path:
    site = root / "site"
    (site / "old").mkdir(parents=True)
    (site / "index.html").write_text("old")
    (site / "old" / "page.html").write_text("old page")
    (site / ".nojekyll").write_text("")
    (site / ".git").mkdir()
    (site / ".git" / "HEAD").write_text("ref: refs/heads/gh-pages\n")
    return site


def build_into(staging: Path, text: str = "new") -> None:
    staging.mkdir()
    (staging / "index.html").write_text(text)


def test_the_new_site_replaces_the_old_and_hidden_entries_are_kept(tmp_path: Path) -> None:
    site = old_site(tmp_path)
    with staging_dir(site) as staging:
        build_into(staging)
        publish(staging, site)
    assert tree(site) == {".git/HEAD": "ref: refs/heads/gh-pages\n", ".nojekyll": "", "index.html": "new"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_a_failed_build_leaves_the_old_site_and_is_kept_to_look_at(tmp_path: Path) -> None:
    site = old_site(tmp_path)
    before = tree(site)
    with pytest.raises(BuildFailed), staging_dir(site) as staging:
        build_into(staging, "broken")
        raise BuildFailed("the link check found 1 broken link(s)")
    assert tree(site) == before
    assert tree(failed_dir(site)) == {"index.html": "broken"}
    with staging_dir(site) as staging:  # the next good build clears it
        build_into(staging)
        publish(staging, site)
    assert not failed_dir(site).exists()


def test_an_interrupted_swap_is_repaired_by_the_next_build(tmp_path: Path) -> None:
    site = old_site(tmp_path)
    before = tree(site)
    site.rename(tmp_path / ".site.old")  # killed between the two renames
    with pytest.raises(BuildFailed), staging_dir(site) as staging:
        build_into(staging, "broken")
        raise BuildFailed("link check")
    assert tree(site) == before


def test_a_symlinked_site_is_updated_in_place(tmp_path: Path) -> None:
    served = tmp_path / "www" / "kb"
    served.mkdir(parents=True)
    (served / "index.html").write_text("old")
    (served / ".htaccess").write_text("Options -Indexes\n")
    project = tmp_path / "project"
    project.mkdir()
    site = project / "site"
    site.symlink_to(served, target_is_directory=True)
    for text in ("first", "second"):
        with staging_dir(site) as staging:
            build_into(staging, text)
            (staging / "pdf").mkdir()
            (staging / "pdf" / "a.pdf").write_text(text)
            publish(staging, site)
        assert site.is_symlink()
        assert tree(served) == {".htaccess": "Options -Indexes\n", "index.html": text, "pdf/a.pdf": text}
    assert sorted(p.name for p in project.iterdir()) == ["site"]

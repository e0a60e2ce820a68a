"""The command line and the MkDocs plugin see the same project: one route through MkDocs' loading."""

from __future__ import annotations

from pathlib import Path

from mkdocs.config import load_config

from generator.settings import MKDOCS_OPTIONS, Project
from tests.factory import new_project


def test_the_plugin_and_the_command_line_build_the_same_project(tmp_path: Path) -> None:
    root = new_project(tmp_path)
    config_file = root / "mkdocs.yml"
    config_file.write_text(
        config_file.read_text(encoding="utf-8")
        + "site_url: https://example.org/kb\nrepo_url: https://github.com/example/kb\n",
        encoding="utf-8",
    )
    (root / "site_src").mkdir(exist_ok=True)
    config = load_config(config_file=str(config_file))
    plugin = config.plugins["kb"]
    plugin.on_config(config)
    cli, via_mkdocs = Project.load(root), plugin.project
    assert via_mkdocs is not None
    assert (via_mkdocs.root, via_mkdocs.docs_dir, via_mkdocs.site_dir, via_mkdocs.settings) == (
        cli.root,
        cli.docs_dir,
        cli.site_dir,
        cli.settings,
    )
    for key in ("site_url", "strict", "theme", "repo_url", "edit_uri"):
        assert via_mkdocs.mkdocs_config[key] == cli.mkdocs_config[key], key
    assert cli.mkdocs_config["site_url"] == "https://example.org/kb/"


def test_options_mkdocs_yml_leaves_out_take_mkdocs_defaults(tmp_path: Path) -> None:
    (tmp_path / "mkdocs.yml").write_text("site_name: Bare\n", encoding="utf-8")
    project = Project.load(tmp_path)
    assert project.docs_dir == tmp_path.resolve() / "docs"  # MkDocs' default, not ours
    assert project.site_dir == tmp_path.resolve() / "site"
    assert set(project.mkdocs_config) == set(MKDOCS_OPTIONS)
    assert project.mkdocs_config["strict"] is False

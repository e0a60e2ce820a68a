"""License identification from real texts, and `kb check licenses` over cards and upstream repos."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.checks.license_id import identify, identify_file
from generator.checks.licenses import check_licenses
from generator.cli import main
from generator.knowledge import load_knowledge_base
from generator.problems import Severity
from generator.settings import Project
from tests.factory import make_card, new_project, write_card

TEXTS = Path(__file__).resolve().parents[1] / "data" / "checks" / "licenses"


@pytest.mark.parametrize("path", sorted(TEXTS.iterdir()), ids=lambda p: p.name)
def test_each_license_text_is_identified(path: Path) -> None:
    """`<SPDX>[.variant].ext` is that license; `unrecognised-*` must not match anything."""
    expected = (
        []
        if path.name.startswith("unrecognised-")
        else [path.name.split(".txt")[0].split(".md")[0].removesuffix(".short").removesuffix(".notice")]
    )
    assert identify_file(path) == expected


def test_a_license_followed_by_third_party_notices_is_the_first_one() -> None:
    apache = (TEXTS / "Apache-2.0.txt").read_text()
    mit = (TEXTS / "MIT.txt").read_text()
    assert identify(apache + "\n\nThird-party code under vendor/:\n\n" + mit) == "Apache-2.0"


def _project(tmp_path: Path, license_file: str | None, policy: str = "", **card: object) -> Project:
    root = new_project(tmp_path)
    write_card(root, make_card(**card))
    if policy:
        config = (root / "mkdocs.yml").read_text()
        policy_yaml = f"  - kb:\n      license_policy: {policy}\n"
        (root / "mkdocs.yml").write_text(config.replace("  - kb\n", policy_yaml, 1))
    repo = root / "external_repos" / "tiny-bert"
    repo.mkdir(parents=True)
    (repo / "model.py").write_text("x = 1\n")
    if license_file:
        shutil.copy(TEXTS / license_file, repo / "LICENSE")
    return Project.load(root)


def _check(project: Project) -> list[tuple[str, str, str]]:
    kb, problems = load_knowledge_base(project.root, None, project.kb_dir)
    assert not [p for p in problems if p.is_error], problems
    return [
        (p.severity.value, p.field, p.message)
        for p in check_licenses(project, kb)
        if p.severity is not Severity.INFO
    ]


def test_matching_upstream_license_passes(tmp_path: Path) -> None:
    assert _check(_project(tmp_path, "Apache-2.0.txt")) == []


def test_card_saying_mit_over_an_apache_upstream_is_reported(tmp_path: Path) -> None:
    found = _check(_project(tmp_path, "Apache-2.0.txt", license="MIT"))
    assert found == [
        (
            "error",
            "license",
            "the card says the code is under MIT, but the upstream license "
            "file says otherwise (external_repos/tiny-bert/LICENSE is Apache-2.0)",
        )
    ]


def test_gpl_only_and_or_later_both_match_a_gpl_text(tmp_path: Path) -> None:
    assert _check(_project(tmp_path, "GPL-3.0.txt", license="GPL-3.0-or-later")) == []


def test_upstream_without_a_license_file_is_an_error(tmp_path: Path) -> None:
    found = _check(_project(tmp_path, None))
    assert len(found) == 1 and found[0][0] == "error"
    assert (
        "upstream repository external_repos/tiny-bert (https://github.com/example/tiny-bert) has no "
        "license file" in found[0][2]
    )


def test_an_unrecognised_upstream_text_is_a_warning_not_a_guess(tmp_path: Path) -> None:
    found = _check(_project(tmp_path, "unrecognised-made-up.txt"))
    assert found == [
        (
            "warning",
            "license",
            "the upstream license file external_repos/tiny-bert/LICENSE is "
            "unrecognised: compare it with the card's license Apache-2.0 by hand",
        )
    ]


def test_policy_refuses_and_flags_licenses(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        "Apache-2.0.txt",
        policy="{refuse: ['CC-BY-NC-*'], flag: ['Apache-2.0']}",
        weights_license="CC-BY-NC-ND-4.0",
    )
    kb, _ = load_knowledge_base(project.root, None, project.kb_dir)
    found = [(p.severity.value, p.message) for p in check_licenses(project, kb) if p.field]
    assert (
        "error",
        "the weights license CC-BY-NC-ND-4.0 is refused by the license policy ('CC-BY-NC-*' in "
        "plugins.kb.license_policy.refuse of mkdocs.yml)",
    ) in found
    assert (
        "info",
        "the code license Apache-2.0 is flagged by the license policy ('Apache-2.0' in "
        "plugins.kb.license_policy.flag); the page shows a badge",
    ) in found


def test_a_refused_license_blocks_kb_build_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(
        tmp_path, "Apache-2.0.txt", policy="{refuse: ['CC-BY-NC-*']}", weights_license="CC-BY-NC-ND-4.0"
    )
    assert main(["-C", str(project.root), "build", "--strict", "--no-pdf"]) == 1
    err = capsys.readouterr().err
    assert "kb/model_cards/tiny-bert.yaml:" in err
    assert (
        "error: weights_license: the weights license CC-BY-NC-ND-4.0 is refused by the license policy"
    ) in err
    assert not (project.root / "site").exists()
    assert not (project.root / "site_src" / "models" / "tiny-bert.md").exists()


def test_a_flagged_license_shows_a_badge_on_the_page(tmp_path: Path) -> None:
    project = _project(
        tmp_path, "Apache-2.0.txt", policy="{flag: ['CC-BY-NC-*']}", weights_license="CC-BY-NC-ND-4.0"
    )
    assert main(["-C", str(project.root), "build", "--no-pdf"]) == 0
    from lxml import html

    doc = html.parse(str(project.root / "site" / "models" / "tiny-bert" / "index.html")).getroot()
    badges = doc.find_class("kb-badge")
    assert [b.text_content() for b in badges] == ["⚠ flagged by the license policy: CC-BY-NC-ND-4.0"]
    # The license note turns into a warning, and the badge's stylesheet is published with the site.
    assert doc.find_class("admonition warning")
    assert (project.root / "site" / "assets" / "stylesheets" / "kb.css").is_file()


def test_deprecated_id_warns_and_strict_makes_it_an_error(tmp_path: Path) -> None:
    project = _project(tmp_path, "GPL-2.0.txt", license="GPL-2.0")
    kb, _ = load_knowledge_base(project.root, None, project.kb_dir)
    found = [p for p in check_licenses(project, kb) if p.field == "license"]
    assert [(p.severity.value, p.message, p.hint) for p in found] == [
        ("warning", "license id 'GPL-2.0' is deprecated or not in canonical form", "write 'GPL-2.0-only'")
    ]
    assert found[0].line > 0
    assert all(p.is_error for p in check_licenses(project, kb, strict=True) if p.field == "license")


def test_a_page_without_the_license_note_is_reported(tmp_path: Path) -> None:
    project = _project(tmp_path, "Apache-2.0.txt")
    page = project.docs_dir / "models" / "tiny-bert.md"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text("# Tiny BERT\n\nNo note here.\n")
    assert (
        "error",
        "",
        "the page of tiny-bert lacks the license note 'This walkthrough references the "
        "example/tiny-bert repository under Apache-2.0.'",
    ) in _check(project)
    page.write_text(
        "# Tiny BERT\n\n!!! note\n    This walkthrough references the **example/tiny\\-bert**\n"
        "    repository under Apache-2.0.\n"
    )
    assert _check(project) == []


def test_kb_check_licenses_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = _project(tmp_path, "Apache-2.0.txt", license="MIT")
    assert main(["-C", str(project.root), "check", "licenses"]) == 1
    out = capsys.readouterr().out
    assert "kb/model_cards/tiny-bert.yaml:" in out and "upstream license file says otherwise" in out


def test_the_policy_covers_sae_cards_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.factory import REPO_ROOT
    from tests.pdf.helpers import edit_card

    project = _project(tmp_path, "Apache-2.0.txt", policy="{refuse: ['CC-BY-NC-*']}")
    sample = REPO_ROOT / "tests" / "data" / "interop" / "models" / "sae" / "gpt2-small_mlp0_exp2_1M"
    assert main(["-C", str(project.root), "import", str(sample)]) == 0
    card = project.root / "kb" / "sae_cards" / "gpt2-small_mlp0_exp2_1m.yaml"
    edit_card(card, license="CC-BY-NC-4.0")
    capsys.readouterr()
    assert main(["-C", str(project.root), "build", "--no-pdf"]) == 1
    err = capsys.readouterr().err
    assert "kb/sae_cards/gpt2-small_mlp0_exp2_1m.yaml" in err
    assert "the code license CC-BY-NC-4.0 is refused by the license policy" in err
    assert not (project.root / "site").exists()

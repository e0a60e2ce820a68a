"""`kb validate`: every problem in every card, located, in one run; exit 0/1/2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.cli import main
from generator.knowledge import load_knowledge_base
from tests.factory import DELETE, make_card, new_project, write_card, write_yaml

DATA = Path(__file__).resolve().parent.parent / "data" / "cards"
INVALID = DATA / "invalid"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_every_problem_of_every_bad_card_is_reported_once_with_its_place(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(INVALID)
    code, out, err = run(capsys, "validate")
    assert code == 1
    assert out == (INVALID / "expected.txt").read_text(encoding="utf-8")
    assert "Traceback" not in out + err
    assert err.strip() == "20 card(s) checked: 33 error(s), 9 warning(s)"


def test_a_card_with_five_mistakes_gives_five_located_messages(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(INVALID)
    code, out, _ = run(capsys, "validate", "kb/model_cards/five-mistakes.yaml")
    assert code == 1
    lines = out.splitlines()
    assert [line.split(": ")[0] + ": " + line.split(": ")[2] for line in lines] == [
        "kb/model_cards/five-mistakes.yaml:1:1: licence",
        "kb/model_cards/five-mistakes.yaml:2:1: license",
        "kb/model_cards/five-mistakes.yaml:8:3: repo.commit",
        "kb/model_cards/five-mistakes.yaml:10:3: architecture.layers",
        "kb/model_cards/five-mistakes.yaml:15:7: related.datasets[0]",
    ]
    assert "unknown key 'licence' (did you mean 'license'?)" in lines[0]
    assert "dataset card 'hg39' does not exist in kb/datasets/ (did you mean 'hg38'?)" in lines[4]


def test_warnings_pass_but_fail_under_strict(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(INVALID)
    code, out, _ = run(capsys, "validate", "kb/model_cards/placeholder.yaml")
    assert code == 0 and out.count(": warning: ") == 3
    code, out, _ = run(capsys, "validate", "--strict", "kb/model_cards/placeholder.yaml")
    assert code == 1 and out.count(": error: ") == 3
    assert "summary: leftover placeholder '<One sentence shown in catalogs>'" in out


def test_json_and_github_formats(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INVALID)
    code, out, _ = run(capsys, "validate", "--format", "json", "kb/model_cards/projector-out-dim.yaml")
    assert code == 1
    found = [p for p in json.loads(out) if p["severity"] == "error"]
    assert found == [
        {
            "file": "kb/model_cards/projector-out-dim.yaml",
            "severity": "error",
            "field": "integration.projector.out_dim",
            "line": 26,
            "col": 5,
            "hint": "",
            "message": "out_dim is 256: the knowledge base projects every model to 512-D",
        }
    ]
    code, out, _ = run(capsys, "validate", "--format", "github", "kb/model_cards/projector-out-dim.yaml")
    assert (
        "::error file=kb/model_cards/projector-out-dim.yaml,line=26,col=5,"
        "title=integration.projector.out_dim::out_dim is 256"
    ) in out


def test_wrong_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--format", "xml"]) == 2
    assert main(["no-such-command"]) == 2


def test_valid_card_with_yaml_1_2_scalars(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_card(tmp_path, make_card(alias="no", version="1.0"))
    (tmp_path / "kb" / "model_cards" / "tiny-bert.yaml").write_text(
        (tmp_path / "kb" / "model_cards" / "tiny-bert.yaml").read_text().replace("alias: 'no'", "alias: no")
    )
    kb, problems = load_knowledge_base(tmp_path)
    assert [p for p in problems if p.is_error] == []
    assert kb.get("model", "tiny-bert").card.alias == "no"  # YAML 1.2: `no` stays a string


def test_oversized_card_is_refused(tmp_path: Path) -> None:
    path = write_card(tmp_path, make_card(summary="x" * (1024 * 1024)))
    _, problems = load_knowledge_base(tmp_path)
    assert [p.format() for p in problems] == [
        f"kb/model_cards/{path.name}:1:1: error: the file is {path.stat().st_size:,} bytes; "
        "cards are limited to 1 MiB "
        "(move large content (code, tables) to files under kb/assets/)"
    ]


WEIRD_VALUES = [
    None,
    [],
    {},
    1.5,
    -1,
    True,
    "x" * 300,
    "<script>alert(1)</script>",
    "../..",
    [[1]],
    {"a": {}},
]


def _paths(data: object, loc: tuple = ()) -> list[tuple]:
    out = [loc] if loc else []
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*loc, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _paths(v, (*loc, i))
    return out


def test_no_card_content_ends_in_a_traceback(tmp_path: Path) -> None:
    """Every field replaced by every odd value: always located problems, never an exception."""
    base = make_card()
    for n, loc in enumerate(_paths(base)):
        for value in WEIRD_VALUES:
            card = make_card()
            target = card
            for part in loc[:-1]:
                target = target[part]
            target[loc[-1]] = value
            write_yaml(tmp_path / "kb" / "model_cards" / "tiny-bert.yaml", card)
            _, problems = load_knowledge_base(tmp_path)
            for p in problems:
                assert "internal error" not in p.message, (loc, value, p.format())
                assert p.line >= 1, (loc, value, p.format())
        assert n < 500


def test_missing_optional_sections_only_warn(tmp_path: Path) -> None:
    write_card(tmp_path, make_card(walkthrough=DELETE, citations=DELETE))
    _, problems = load_knowledge_base(tmp_path)
    assert sorted(p.field for p in problems) == ["", "", "related"]
    assert all(not p.is_error for p in problems)


def test_unquoted_number_where_text_belongs_says_to_quote_it(tmp_path: Path) -> None:
    path = write_card(tmp_path, make_card())
    path.write_text(
        path.read_text().replace(
            "commit: 0123456789abcdef0123456789abcdef01234567",
            "commit: 1234567890123456789012345678901234567890",
        )
    )
    _, problems = load_knowledge_base(tmp_path)
    assert [p.format() for p in problems if p.is_error] == [
        "kb/model_cards/tiny-bert.yaml:46:3: error: repo.commit: input should be a valid string, got "
        "1234567890123456789012345678901234567890 (YAML reads this value as a number: put it in quotes)"
    ]


def test_authoring_mistakes_get_hints_that_name_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = new_project(tmp_path)
    write_yaml(
        root / "kb" / "datasets" / "hg38.yaml",
        {"schema_version": 1, "id": "hg38", "name": "GRCh38", "modality": "dna"},
    )
    split = write_card(root, make_card(id="split", license="Apache-2.0 (code), CC-BY-NC-4.0 (weights)"))
    unrelated = write_card(root, make_card(id="unrelated", related={}))
    colon = write_card(root, make_card(id="colon"))
    colon.write_text(colon.read_text().replace("name: ", "name: Caduceus: bi-directional ", 1))
    assert main(["-C", str(root), "validate"]) == 1
    out = capsys.readouterr().out
    assert (
        "colon.yaml" in out
        and (
            "a value that contains ': ' must be quoted, e.g. title: \"Caduceus: "
            'bi-directional equivariant DNA models"'
        )
        in out
    )
    assert (
        f"{split.name}" in out
        and ("a card gives the code's license in `license` and the weights' in `weights_license`") in out
    )
    assert f"{unrelated.name}" in out and "existing ones: datasets: hg38" in out

"""`kb schema` and `kb new`: the JSON Schema agrees with the Pydantic models; new cards start valid-to-be."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from generator.cli import main
from generator.knowledge import card_files, load_knowledge_base
from generator.schema import CARD_KINDS
from tests.factory import REPO_ROOT, make_card, write_card

INVALID = Path(__file__).resolve().parent.parent / "data" / "cards" / "invalid"


def _schema(capsys: pytest.CaptureFixture[str], kind: str = "model") -> dict:
    assert main(["schema", "--kind", kind]) == 0
    return json.loads(capsys.readouterr().out)


def _load(path: Path) -> object:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def test_schema_accepts_every_shipped_card(capsys: pytest.CaptureFixture[str]) -> None:
    schemas = {kind: _schema(capsys, kind) for kind in CARD_KINDS}
    files = list(card_files(REPO_ROOT / "kb"))
    for kind, path in files:
        jsonschema.validate(_load(path), schemas[kind.name])
    jsonschema.validate(make_card(), schemas["model"])


def test_schema_rejects_the_bad_cards_pydantic_rejects(capsys: pytest.CaptureFixture[str]) -> None:
    schema = _schema(capsys)
    validator = jsonschema.Draft202012Validator(schema)
    kb, _problems = load_knowledge_base(INVALID)
    # Cards that Pydantic itself rejects (not the YAML-level or cross-card problems).
    rejected = {
        "five-mistakes",
        "bad-identifiers",
        "path-escape",
        "projector-out-dim",
        "missing-keys",
        "literal-typo",
        "newer-schema",
        "unpinned-repo",
    }
    for name in sorted(rejected):
        assert kb.get("model", name) is None
        errors = list(validator.iter_errors(_load(INVALID / "kb" / "model_cards" / f"{name}.yaml")))
        assert errors, f"JSON Schema accepts {name}.yaml, which Pydantic rejects"
    # ... and accepts those that Pydantic accepts (their problems are YAML-level or cross-card).
    assert sorted(c.id for c in kb.models) == ["anchors", "duplicate-key", "other-name", "placeholder"]
    for name in ("id-mismatch", "placeholder"):
        validator.validate(_load(INVALID / "kb" / "model_cards" / f"{name}.yaml"))


def test_committed_editor_schemas_are_current(capsys: pytest.CaptureFixture[str]) -> None:
    for kind in CARD_KINDS.values():
        committed = json.loads((REPO_ROOT / kind.schema_file).read_text())
        fix = f"run: kb schema --kind {kind.name} -o {kind.schema_file}"
        assert committed == _schema(capsys, kind.name), fix


def test_new_card_validates_once_placeholders_are_filled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "kb").mkdir()
    (tmp_path / "templates").symlink_to(REPO_ROOT / "templates")
    monkeypatch.chdir(tmp_path)
    assert main(["new", "my-model"]) == 0
    path = tmp_path / "kb" / "model_cards" / "my-model.yaml"
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=../../schemas/model_card.schema.json\n")
    assert main(["validate", "--strict"]) == 1
    capsys.readouterr()
    fills = {
        "<SPDX id, e.g. Apache-2.0>": "MIT",
        "<https://github.com/owner/repo>": "https://github.com/o/r",
        "<40-hex commit sha>": "a" * 40,
        "<release tag>": "v1.0",
        "<e.g. 117M>": "117M",
        "<arXiv id>": "'2403.03234'",
        "<https://docs.example.org>": "https://o.example.org/docs",
        "<https://github.com/owner/repo/issues>": "https://github.com/o/r/issues",
    }
    for placeholder, value in fills.items():
        text = text.replace(placeholder, value)
    text = re.sub(r"<[^<>\n]+>", "filled in", text)
    text = text.replace("datasets: []", "datasets: [hg38]")
    path.write_text(text)
    write_card(
        tmp_path, {"schema_version": 1, "id": "hg38", "name": "GRCh38", "modality": "dna"}, folder="datasets"
    )
    assert main(["validate", "--strict"]) == 0, capsys.readouterr().out
    assert main(["new", "my-model"]) == 1
    assert "kb/model_cards/my-model.yaml already exists" in capsys.readouterr().err
    assert main(["new", "Bad Id"]) == 2


@pytest.mark.parametrize(
    ("kind", "card_id", "folder"),
    [
        ("dataset", "my-data", "datasets"),
        ("integration", "my-fusion", "integrations"),
        ("recipe", "my-recipe", "recipes"),
        ("sae", "gpt2-small_mlp0_exp2_1m", "sae_cards"),
        ("finetuned", "gpt2-small_biomed_500k", "finetuned_cards"),
    ],
)
def test_new_card_of_every_kind_validates_once_placeholders_are_filled(
    kind: str,
    card_id: str,
    folder: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "kb").mkdir()
    (tmp_path / "templates").symlink_to(REPO_ROOT / "templates")
    monkeypatch.chdir(tmp_path)
    assert main(["new", "--kind", kind, card_id]) == 0
    path = tmp_path / "kb" / folder / f"{card_id}.yaml"
    assert f"wrote kb/{folder}/{card_id}.yaml" in capsys.readouterr().err
    assert main(["validate", "--strict"]) == 1
    assert "leftover placeholder" in capsys.readouterr().out
    path.write_text(re.sub(r"<[^<>\n]+>", "filled in", path.read_text()))
    assert main(["validate", "--strict"]) == 0, capsys.readouterr().out


def test_new_derived_card_refuses_an_id_that_breaks_its_naming_convention(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "kb").mkdir()
    (tmp_path / "templates").symlink_to(REPO_ROOT / "templates")
    monkeypatch.chdir(tmp_path)
    assert main(["new", "--kind", "sae", "my-sae"]) == 2
    assert (
        "a sparse autoencoder card's id follows <base_model>_<layer>_exp<expansion_factor>_<training_tokens>"
        in capsys.readouterr().err
    )


def test_new_model_card_names_the_ids_related_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "kb").mkdir()
    (tmp_path / "templates").symlink_to(REPO_ROOT / "templates")
    monkeypatch.chdir(tmp_path)
    write_card(
        tmp_path, {"schema_version": 1, "id": "hg38", "name": "GRCh38", "modality": "dna"}, folder="datasets"
    )
    assert main(["new", "my-model"]) == 0
    text = (tmp_path / "kb" / "model_cards" / "my-model.yaml").read_text()
    assert "  datasets: [hg38]  # existing: hg38\n" in text
    assert "  integrations: []  # none in kb/integrations/ yet\n" in text

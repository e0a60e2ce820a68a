"""`kb export hf` and importing a Hugging Face README: Hub front matter, SPDX mapping, round trip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import markdown
import pytest
import yaml
from lxml import html

from generator.cli import main
from generator.interop.licenses import HUB_LICENSES, hub_to_spdx, spdx_to_hub
from generator.interop.markdown import split_front_matter
from tests.factory import REPO_ROOT, make_card, new_project, write_card

SHIPPED = sorted((REPO_ROOT / "kb" / "model_cards").glob("*.yaml"))


def front(readme: Path) -> dict[str, Any]:
    raw, _, _ = split_front_matter(readme.read_text(encoding="utf-8"))
    assert raw is not None
    meta = yaml.safe_load(raw)  # what the Hub does with it (a plain YAML 1.1 loader)
    assert isinstance(meta, dict)
    return meta


@pytest.mark.parametrize(
    ("spdx", "hub"),
    [
        ("Apache-2.0", {"license": "apache-2.0"}),
        ("CC-BY-NC-SA-4.0", {"license": "cc-by-nc-sa-4.0"}),
        ("CC-BY-NC-ND-4.0", {"license": "cc-by-nc-nd-4.0"}),
        ("MIT", {"license": "mit"}),
        ("BSD-3-Clause", {"license": "bsd-3-clause"}),
        ("GPL-3.0-only", {"license": "gpl-3.0"}),
        (
            "0BSD",
            {
                "license": "other",
                "license_name": "0bsd",
                "license_link": "https://spdx.org/licenses/0BSD.html",
            },
        ),
        (
            "MIT OR Apache-2.0",
            {
                "license": "other",
                "license_name": "mit-or-apache-2.0",
                "license_link": "https://spdx.org/licenses/",
            },
        ),
        (
            "LicenseRef-brain-jepa-none",
            {
                "license": "other",
                "license_name": "licenseref-brain-jepa-none",
                "license_link": "https://spdx.org/licenses/",
            },
        ),
    ],
)
def test_spdx_to_hub(spdx: str, hub: dict[str, str]) -> None:
    assert spdx_to_hub(spdx) == hub
    if hub["license"] != "other" or not spdx.startswith("LicenseRef-"):
        assert hub_to_spdx(hub) == spdx


def export(project: Path, card_id: str, out: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["-C", str(project), "export", "hf", card_id, "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out / 'README.md'}\n"
    return out / "README.md"


def check_round_trip(project: Path, card_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Export, check the Hub metadata, import the README into a fresh kb, export again: same metadata."""
    readme = export(project, card_id, tmp_path / "hf", capsys)
    meta = front(readme)
    original = yaml.safe_load((project / "kb/model_cards" / f"{card_id}.yaml").read_text(encoding="utf-8"))
    assert meta["pipeline_tag"] == "feature-extraction"
    assert meta["license"] in HUB_LICENSES
    stated = original.get("weights_license") or original["license"]
    if meta["license"] == "other":
        assert set(meta) >= {"license_name", "license_link"}
    assert hub_to_spdx(meta) in (stated, None)  # None: a LicenseRef has no Hub id, the body states it
    assert original["modality"] in meta["tags"]

    (tmp_path / "copy").mkdir()
    copy = new_project(tmp_path / "copy")
    (copy / "mkdocs.yml").touch()
    code = main(["-C", str(copy), "import", str(readme), "-o", str(copy / "kb")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "error" not in out
    skeleton = yaml.safe_load((copy / "kb/model_cards" / f"{card_id}.yaml").read_text(encoding="utf-8"))
    for key in ("id", "name", "license", "modality"):
        assert skeleton[key] == original[key], key
    assert skeleton.get("weights_license") == original.get("weights_license")
    assert {k: skeleton["repo"].get(k) for k in ("url", "commit", "tag")} == {
        k: original["repo"].get(k) for k in ("url", "commit", "tag")
    }
    again = export(copy, card_id, tmp_path / "hf2", capsys)
    assert front(again) == meta


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_model_cards_export_and_round_trip(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = new_project(tmp_path, with_shipped_kb=True)
    (project / "mkdocs.yml").touch()
    check_round_trip(project, path.stem, tmp_path, capsys)


@pytest.mark.parametrize("license_id", ["Apache-2.0", "CC-BY-NC-SA-4.0", "MIT OR Apache-2.0"])
def test_factory_card_round_trip(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], license_id: str
) -> None:
    write_card(
        project,
        make_card(
            license=license_id,
            weights_license="CC-BY-NC-ND-4.0",
            checkpoints=[{"name": "t", "path": "t", "hub_id": "example/tiny-bert"}],
        ),
    )
    check_round_trip(project, "tiny-bert", tmp_path, capsys)


def test_exported_readme_body(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_card(project, make_card(summary="Tiny <b>bold</b> encoder.", license="CC-BY-NC-SA-4.0"))
    text = export(project, "tiny-bert", tmp_path, capsys).read_text(encoding="utf-8")
    assert text.startswith(
        "---\nlicense: cc-by-nc-sa-4.0\ntags:\n  - dna\n  - genomics\n  - transformer\n  - foundation-model\n"
        "pipeline_tag: feature-extraction\n---\n\n# Tiny BERT\n\nTiny &lt;b&gt;bold&lt;/b&gt; encoder.\n\n"
        "## Model details\n\n- **Knowledge-base id:** tiny-bert\n- **Modality:** dna\n"
    )
    assert "This walkthrough references tiny-bert under CC-BY-NC-SA-4.0." in text


PLAIN_NAME = "Tiny *BERT* _v2_ [x](y) C#"
BIBTEX = "@article{x,\n  title = {```\n<b>x</b>}\n}\n"
PLAIN_BACKBONE = "BERT | <b>big</b> `enc`"


def test_plain_text_fields_are_exported_as_written_and_the_name_reads_back(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    citation = {"title": "On *y* and `z`", "authors": ["A_b_"], "year": 2024, "doi": "10.1234/_x_"}
    citations = [citation, {"title": "T", "bibtex": BIBTEX}]
    write_card(
        project,
        make_card(
            name=PLAIN_NAME, architecture__backbone=PLAIN_BACKBONE, citations=citations, pooling__layer=-2
        ),
    )
    readme = export(project, "tiny-bert", tmp_path, capsys)
    text = split_front_matter(readme.read_text(encoding="utf-8"))[1]
    # The Hub renders GitHub-flavoured Markdown: fences, and `\|` is an escape (Python-Markdown's tables).
    body = html.fromstring(markdown.markdown(text, extensions=["tables", "fenced_code"]))
    assert body.findtext("h1") == PLAIN_NAME
    rows = {
        tr[0].text_content(): tr[1].text_content()
        for tr in body.iter("tr")
        if len(tr) == 2 and tr[0].tag == "td"
    }
    assert rows["Backbone"] == PLAIN_BACKBONE  # the same rows as the page and the PDF, in words
    assert rows["Strategy"] == "mean over the real tokens" and rows["Hidden layer"] == "second-to-last layer"
    assert rows["Tokenizer"] == "6-mers" and rows["Context"] == "512 tokens"
    items = [li.text_content() for li in body.iter("li")]
    assert "A_b_ (2024). On *y* and `z`. doi:10.1234/_x_" in items
    assert BIBTEX in [pre.text_content() for pre in body.iter("pre")]
    # Nothing the card wrote as plain text became markup: no emphasis, bold, code or link made of it.
    made = body.xpath("//em | //b | //strong | //code[not(parent::pre)] | //a")
    assert not [el for el in made if any(w in PLAIN_NAME + PLAIN_BACKBONE for w in [el.text_content()])]
    assert not body.xpath("//a[@href='y']")

    (tmp_path / "copy").mkdir()
    copy = new_project(tmp_path / "copy")
    (copy / "mkdocs.yml").touch()
    assert main(["-C", str(copy), "import", str(readme), "-o", str(copy / "kb")]) == 0
    capsys.readouterr()
    skeleton = yaml.safe_load((copy / "kb/model_cards/tiny-bert.yaml").read_text(encoding="utf-8"))
    assert skeleton["name"] == PLAIN_NAME


def test_export_unknown_id(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_card(project, make_card())
    assert main(["export", "hf", "nope"]) == 2
    assert capsys.readouterr().err == (
        "kb export: error: no model, SAE or fine-tuned card with id 'nope' in kb/ (known: tiny-bert)\n"
    )


def test_export_sae_card(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "models/sae/gpt2-small_mlp0_exp2_1M"]) == 0
    capsys.readouterr()
    meta = front(export(project, "gpt2-small_mlp0_exp2_1m", tmp_path, capsys))
    assert meta == {
        "tags": ["sparse-autoencoder", "gpt2-small"],
        "library_name": "pytorch",
        "pipeline_tag": "feature-extraction",
        "base_model": "gpt2",
        "datasets": ["Skylion007/openwebtext"],
    }


def test_import_foreign_readme(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = project / "hub" / "README.md"
    readme.parent.mkdir()
    readme.write_text(
        "---\nlicense: apache-2.0\ntags:\n- DNA\n- dna\n- biology\nlibrary_name: transformers\n"
        "datasets:\n- InstaDeepAI/multi_species_genomes\n---\n\n# My DNA Model\n\nA DNA encoder.\n\n"
        "## Usage\n\n```python\nmodel = AutoModel.from_pretrained('me/my-dna-model')\n```\n",
        encoding="utf-8",
    )
    code = main(["import", "hub/README.md"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0] == "wrote kb/model_cards/my-dna-model.yaml"
    assert (
        "hub/README.md:16:1: info: Usage: section 'Usage' has no field in the skeleton; kept as a "
        "comment at the end of the card"
    ) in out
    assert (
        "kb/model_cards/my-dna-model.yaml:11:3: warning: repo.url: leftover placeholder "
        "'<repository-url>' (replace it with the real value)"
    ) in out
    text = (project / "kb/model_cards/my-dna-model.yaml").read_text(encoding="utf-8")
    card = yaml.safe_load(text)
    assert card["license"] == "Apache-2.0" and card["modality"] == "dna" and card["name"] == "My DNA Model"
    assert card["training"] == {"sources": [{"name": "InstaDeepAI/multi_species_genomes"}]}
    assert "architecture" not in card  # 'biology' is not an architecture family
    assert "# model = AutoModel.from_pretrained('me/my-dna-model')" in text

"""The audit of the shipped cards (audit/*.yaml) and the cards' sources: every figure of a model card
has a source a reader can follow or an entry saying why it could not be checked, and the audit records
each claim with its source and result. Nothing here reads outside the repository."""

from __future__ import annotations

import re
from typing import Any, Literal

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from generator.knowledge import load_knowledge_base
from generator.schema import ModelCard
from generator.schema.sources import field_value
from tests.factory import REPO_ROOT, shipped_cards
from tests.kb.claims import numeric_claims

AUDIT = REPO_ROOT / "audit"


class Row(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str
    claim: str
    result: Literal["holds", "fixed", "unverified"]
    source: str | None = None
    says: str | None = None
    was: str | None = None
    now: Literal["removed"] | None = None
    reason: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> Row:
        if self.result == "unverified":
            assert self.reason and not self.source, "an unverified row gives its reason, not a source"
        else:
            assert self.source, "a checked row names its source"
        if self.result == "fixed":
            assert self.was, "a fixed row records what the card said before"
        else:
            assert not self.was and not self.now
        return self


class Audit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    card: str
    pin: str | None = None
    checked: str
    rows: list[Row]


@pytest.fixture(scope="module")
def cards() -> dict[str, Any]:
    kb, problems = load_knowledge_base(REPO_ROOT)
    assert not problems, "\n".join(str(p) for p in problems)
    return {c.id: c for c in kb.all()}


def _audit(card_id: str) -> Audit:
    return Audit.model_validate(yaml.safe_load((AUDIT / f"{card_id}.yaml").read_text(encoding="utf-8")))


SHIPPED = sorted(p.stem for p in shipped_cards())
MODELS = sorted(p.stem for p in shipped_cards("model_cards"))


def _covers(path: str, fields: list[str]) -> bool:
    """A claim at `a.b[0].c` is covered by a field listed as itself or as one of its parents."""
    return any(path == f or path.startswith((f + ".", f + "[")) for f in fields)


@pytest.mark.parametrize("card_id", SHIPPED)
def test_every_card_has_an_audit_whose_rows_name_its_fields(cards: dict[str, Any], card_id: str) -> None:
    audit = _audit(card_id)
    loaded = cards[card_id]
    assert audit.card == loaded.rel
    if isinstance(loaded.card, ModelCard):
        assert audit.pin == loaded.card.repo.commit, "the audit was made at the card's pin"
    missing = [
        r.field
        for r in audit.rows
        if r.now != "removed" and field_value(loaded.card, r.field) in (None, "", [])
    ]
    assert missing == [], "audit rows name fields the card does not have"


@pytest.mark.parametrize("card_id", MODELS)
def test_every_figure_of_a_model_card_has_a_source_or_an_unverified_entry(
    cards: dict[str, Any], card_id: str
) -> None:
    card: ModelCard = cards[card_id].card
    sourced = [f for s in card.sources if not s.unverified for f in s.fields]
    unverified = [f for s in card.sources if s.unverified for f in s.fields]
    audited = [r.field for r in _audit(card_id).rows]
    claims = list(numeric_claims(card))
    assert claims, "the walk finds the card's figures"
    bare = [path for path, _ in claims if not _covers(path, sourced + unverified)]
    assert bare == [], f"{card_id}: figures with neither a source nor an unverified entry"
    unaudited = [path for path, _ in claims if not _covers(path, audited)]
    assert unaudited == [], f"{card_id}: figures missing from audit/{card_id}.yaml"


@pytest.mark.parametrize("card_id", MODELS)
def test_unverified_entries_are_written_for_readers(cards: dict[str, Any], card_id: str) -> None:
    """No authoring notes in what readers see under "Check before use"."""
    card: ModelCard = cards[card_id].card
    texts = [*card.unverified, *(s.unverified for s in card.sources if s.unverified)]
    notes = re.compile(
        r"not looked up|at hand|written from|when this card was written|the product's"
        r"|variant-effect benchmark"
    )
    assert [t for t in texts if notes.search(t)] == []


def test_the_benchmark_guide_is_named_where_it_is_the_source() -> None:
    for path in shipped_cards():
        text = path.read_text(encoding="utf-8")
        assert "variant-effect benchmark's model" not in text, path.name


def test_a_wrong_claim_found_by_the_audit_stays_fixed(cards: dict[str, Any]) -> None:
    """The kinds of error the audit found, each pinned by one assertion on the card as shipped."""
    hyena = cards["hyenadna-medium-160k"].card
    assert hyena.weights_license == "BSD-3-Clause"
    assert "(8 in the hub configuration)" in cards["caduceus-ps-131k"].card.tokenization.quirks[0]
    assert "850 genomes" in cards["nucleotide-transformer-v2-500m"].card.training.sources[0].description
    dnabert = cards["dnabert-2-117m"].card
    assert dnabert.training.hyperparameters is None  # fine-tuning defaults are not pre-training settings
    assert "Genome Understanding" not in (dnabert.citations[0].bibtex or "")
    assert cards["brainlm"].card.repo.commit.startswith("b591d88")
    assert [s.dataset for s in cards["brainlm"].card.training.sources] == ["uk-biobank-rsfmri"]
    assert not any("intronic" in t for t in cards["evo-1-131k"].card.selection.best_for)


def test_the_audit_has_no_stray_files() -> None:
    stray = sorted(p.name for p in AUDIT.iterdir() if p.suffix == ".yaml" and p.stem not in SHIPPED)
    assert stray == []
    assert (AUDIT / "README.md").is_file()


def test_sources_are_followable_links_on_the_page_data(cards: dict[str, Any]) -> None:
    """Each source of a model card that names a place becomes a link: upstream lines at the pin."""
    from generator.schema.labels import source_rows

    card: ModelCard = cards["caduceus-ps-131k"].card
    rows = {r.where: r.url for r in source_rows(card)}
    pinned = [u for u in rows.values() if u and "/blob/2593c807ebfc0aede05e7a991474b1a0e60fdc93/" in u]
    assert pinned and all(re.search(r"#L\d+(-L\d+)?$", u) for u in pinned)
    assert any(u and u.startswith("https://huggingface.co/kuleshov-group/") for u in rows.values())

"""The site's search index holds every model page, and the catalog-like pages' titles, intros and
headings, but not their listings of every card (`generator.render.unsearched`): a listing is a hit for
every query, and past Zensical's limit on a search field's length its build stops.

Zensical's limit on a field is 2**30 token positions divided by the number of the site's search items
(rounded up to a power of two): about 870 cards like the shipped ones, all in one modality, reach it on
the home page. 200 cards whose summaries run to 1,400 words reach it with fewer pages to build (the home
page's section of DNA models: 282,000 positions against 262,144 for about 3,000 items)."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from generator.cli import main
from tests.factory import make_card, new_project, write_card

pytestmark = pytest.mark.slow

CARDS = 200
WORDS = 1400


def _word(card: int, word: int) -> str:
    return f"s{card}w{word}"


@pytest.fixture(scope="module")
def big_group(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose DNA models are enough to pass Zensical's limit, listings and all."""
    root = new_project(tmp_path_factory.mktemp("search"))
    for i in range(CARDS):
        summary = " ".join(_word(i, j) for j in range(WORDS))
        write_card(root, make_card(id=f"m{i:04d}", name=f"Model {i}", summary=summary))
    return root


def _check(items: list[tuple[str, str, str]], site: Path) -> None:
    """(location, title, text) of every search item: each model page is there, its words are found on
    it and nowhere else, and the catalog-like pages keep their titles, intros and headings."""
    locations = {loc for loc, _, _ in items}
    assert {f"models/m{i:04d}/" for i in range(CARDS)} <= locations
    for i in (0, CARDS // 2, CARDS - 1):
        word = re.compile(rf"\b{_word(i, 7)}\b")
        assert sorted({loc for loc, _, text in items if word.search(text)}) == [f"models/m{i:04d}/"]
    # No search item holds a listing: each is shorter than one card's summary twice over.
    biggest = max(items, key=lambda item: len(item[2]))
    assert biggest[0].startswith("models/m"), biggest[0]
    by_location = {loc: (title, text) for loc, title, text in items}
    assert by_location["#dna"][0] == "DNA" and f"{CARDS} models." in by_location["#dna"][1]
    assert by_location["models/"][0] == "Models" and "grouped by modality" in by_location["models/"][1]
    assert by_location["models/#dna"][0] == "DNA"
    assert "Every figure comes from the model" in by_location["catalog/comparison/"][1]
    assert "Which model to start with" in by_location["catalog/selection/"][1]
    # The tags page is nothing but listings: out of the index whole.
    assert not [loc for loc in locations if loc.startswith("catalog/tags/")]
    # The reader still sees every card listed on the home page and the models page.
    for page in ("index.html", "models/index.html", "catalog/comparison/index.html"):
        html = (site / page).read_text(encoding="utf-8")
        assert all(f"m{i:04d}/" in html for i in range(CARDS)), page
        assert "{: data-search-exclude }" not in html  # the mark went; its block got the attribute


@pytest.mark.skipif(
    shutil.which("zensical", path=str(Path(sys.executable).parent)) is None,
    reason="zensical is not installed (pip install zensical)",
)
def test_zensical_builds_a_group_past_its_search_limit(
    big_group: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "zensical"
    shutil.copytree(big_group, root)
    code = main(["-C", str(root), "build", "--no-pdf", "--engine", "zensical"])
    assert code == 0, capsys.readouterr().err[-3000:]
    index = json.loads((root / "site" / "search.json").read_text(encoding="utf-8"))
    _check([(i["location"], i["title"], i["text"]) for i in index["items"]], root / "site")


def test_mkdocs_search_index_leaves_the_listings_out(
    big_group: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "mkdocs"
    shutil.copytree(big_group, root)
    code = main(["-C", str(root), "build", "--no-pdf"])
    assert code == 0, capsys.readouterr().err[-3000:]
    index = json.loads((root / "site" / "search" / "search_index.json").read_text(encoding="utf-8"))
    _check([(d["location"], d["title"], d["text"]) for d in index["docs"]], root / "site")

"""The method the shipped cards teach is fold-safe: run on synthetic data with a real signal, it reaches
the AUC of fitting the scaler and projection inside each split; the old out-of-fold pattern is gone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("sklearn")

from generator.knowledge import load_knowledge_base
from generator.schema import ModelCard, RecipeCard
from tests.factory import REPO_ROOT, shipped_cards
from tests.fold_data import grouped_signal, out_of_fold_projection_auc, per_split_auc


@pytest.fixture(scope="module")
def cards() -> dict[str, Any]:
    kb, problems = load_knowledge_base(REPO_ROOT)
    assert not problems, "\n".join(str(p) for p in problems)
    return {c.id: c.card for c in kb.all()}


@pytest.fixture(scope="module")
def signal() -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    x, y, groups = grouped_signal()
    return x, y, groups, per_split_auc(x, y, groups)


def test_the_old_pattern_scores_near_chance_where_one_fit_per_split_does_not(
    signal: tuple[np.ndarray, np.ndarray, np.ndarray, float],
) -> None:
    """The contrast, documented: out-of-fold projections made by different fits, then one classifier."""
    x, y, groups, reference = signal
    assert reference > 0.7
    assert out_of_fold_projection_auc(x, y, groups) < 0.6


def test_the_recipe_reaches_the_per_split_auc(
    cards: dict[str, Any], signal: tuple[np.ndarray, np.ndarray, np.ndarray, float]
) -> None:
    recipe = cards["logo-attribution"]
    assert isinstance(recipe, RecipeCard) and recipe.code is not None
    namespace: dict[str, Any] = {}
    exec(compile(recipe.code.source, "logo-attribution.yaml:code", "exec"), namespace)
    x, y, groups, reference = signal
    aucs = namespace["heldout_auc"](x, y, groups)
    assert len(aucs) == 5
    assert abs(float(np.mean(aucs)) - reference) <= 0.05


def test_the_recipe_finds_the_gene_that_carries_the_signal(cards: dict[str, Any]) -> None:
    recipe = cards["logo-attribution"]
    namespace: dict[str, Any] = {}
    exec(compile(recipe.code.source, "logo-attribution.yaml:code", "exec"), namespace)
    x, y, groups = grouped_signal()  # the 3 informative features are the first columns
    genes = {f"gene{i}": x[:, 16 * i : 16 * (i + 1)] for i in range(4)}
    drops = namespace["logo"](genes, y, groups)
    assert max(drops, key=lambda g: drops[g][0]) == "gene0"
    assert drops["gene0"][0] > 0.1


def _project_step_code(card: ModelCard) -> str:
    steps = [s for s in card.walkthrough if s.stage == "project" and s.code]
    assert len(steps) == 1, f"{card.id}: one project step with code"
    return steps[0].code.source  # type: ignore[union-attr]


MODEL_IDS = sorted(p.stem for p in shipped_cards("model_cards"))


@pytest.mark.parametrize("card_id", MODEL_IDS)
def test_every_walkthrough_evaluates_with_one_fit_per_split(
    cards: dict[str, Any], card_id: str, signal: tuple[np.ndarray, np.ndarray, np.ndarray, float]
) -> None:
    """Step 3 of each walkthrough: its imports and its evaluation paragraph, run on the synthetic
    pooled embeddings, reach the per-split AUC (the pooling lines need the model and are not run)."""
    code = _project_step_code(cards[card_id])
    paragraphs = [p for p in re.split(r"\n\s*\n", code.strip()) if p.strip()]
    imports, evaluation = paragraphs[0], paragraphs[-1]
    assert all(line.startswith(("from ", "import ")) for line in imports.splitlines())
    x, y, groups, reference = signal
    namespace: dict[str, Any] = {"pooled": x, "labels": y, "groups": groups, "print": lambda *a: None}
    exec(compile(imports + "\n" + evaluation, f"{card_id}.yaml:walkthrough", "exec"), namespace)
    scores = namespace["scores"]["test_score"]
    assert len(scores) == 5
    assert abs(float(np.mean(scores)) - reference) <= 0.05


OLD_PATTERN = re.compile(
    r"cross_fit|projected=z|fit_projector|folds only; apply to the held-out fold|method=\"(pca|projector)\""
)


def _taught_files() -> list[Path]:
    roots = [REPO_ROOT / "kb", REPO_ROOT / "templates", REPO_ROOT / "generator", REPO_ROOT / "site_src"]
    suffixes = {".yaml", ".j2", ".md", ".py", ".html", ".css"}
    files = [p for root in roots for p in root.rglob("*") if p.is_file() and p.suffix in suffixes]
    return [*files, REPO_ROOT / "README.md", REPO_ROOT / "ARCHITECTURE.md"]


def test_the_old_pattern_is_gone_from_every_card_template_and_page() -> None:
    found = []
    for path in _taught_files():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OLD_PATTERN.search(line):
                found.append(f"{path.relative_to(REPO_ROOT)}:{n}: {line.strip()}")
    assert found == []
    import generator.smoke.projector as projector

    assert not hasattr(projector, "cross_fit")

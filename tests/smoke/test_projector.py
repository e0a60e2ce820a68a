"""The 512-D projector: a torch module for the smoke test and a scikit-learn transformer for users."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GroupKFold, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

from generator.schema.model_card import Projector as ProjectorConfig  # noqa: E402
from generator.smoke.projector import MLPProjector, Projector, seeded_projector  # noqa: E402


def test_layers_in_order_and_sized_from_the_measured_width() -> None:
    config = ProjectorConfig(in_dim=256, hidden_dim=1024, out_dim=512, dropout=0.1)
    proj = Projector.from_config(config, in_dim=512)  # Caduceus-PS: 2 x d_model measured
    assert [type(m).__name__ for m in proj] == ["Linear", "GELU", "Dropout", "Linear", "LayerNorm"]
    assert (proj.fc1.in_features, proj.fc1.out_features, proj.fc2.out_features) == (512, 1024, 512)
    assert proj.drop.p == 0.1
    out = proj.eval()(torch.randn(3, 512))
    assert out.shape == (3, 512)
    assert torch.allclose(out.mean(-1), torch.zeros(3), atol=1e-5)


def test_seeded_projector_is_reproducible_and_leaves_the_global_rng_alone() -> None:
    config = ProjectorConfig(in_dim=32, hidden_dim=64, out_dim=512)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b = seeded_projector(config, 32, seed=7), seeded_projector(config, 32, seed=7)
    assert torch.rand(1) == before
    assert all(
        torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )


def test_mlp_projector_passes_scikit_learns_estimator_checks() -> None:
    """Cloning, get/set_params, fit on the given rows only, dtype, shapes, not-fitted errors: the
    checks every scikit-learn transformer passes, so it drops into a Pipeline like one."""
    results = check_estimator(MLPProjector(hidden_dim=16, out_dim=8, epochs=5), on_fail=None)
    failed = [f"{r['check_name']}: {r['exception']}" for r in results if r["status"] == "failed"]
    assert failed == []


def test_mlp_projector_is_the_documented_module_and_sized_at_fit() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 24)), np.arange(40) % 2
    fitted = MLPProjector(hidden_dim=32, epochs=3).fit(x, y)
    layers = [type(m).__name__ for m in fitted.projector_]
    assert layers == ["Linear", "GELU", "Dropout", "Linear", "LayerNorm"]
    assert fitted.projector_.fc1.in_features == 24  # the measured width, not a card's d_model
    z = fitted.transform(x)
    assert z.shape == (40, 512) and z.dtype == np.float32
    config = ProjectorConfig(in_dim=256, hidden_dim=64, out_dim=512, dropout=0.2)
    assert MLPProjector.from_config(config).get_params()["dropout"] == 0.2


def test_mlp_projector_fit_is_reproducible_and_leaves_the_global_rng_alone() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((30, 8)), rng.standard_normal(30)  # a continuous target: regression head
    torch.manual_seed(5)
    before = torch.rand(1)
    torch.manual_seed(5)
    a = MLPProjector(hidden_dim=16, epochs=5).fit(x, y)
    b = MLPProjector(hidden_dim=16, epochs=5).fit(x, y)
    assert torch.rand(1) == before
    assert a.task_ == "regression"
    np.testing.assert_array_equal(a.transform(x), b.transform(x))


def test_mlp_projector_never_sees_held_out_labels() -> None:
    """Inside cross-validation the projector of a split is fitted on that split's training rows only:
    flipping the labels of the rows a split holds out changes nothing in that split's fit."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((60, 10))
    y = (x[:, 0] > 0).astype(int)
    train, test = np.arange(60) >= 20, np.arange(60) < 20
    y2 = y.copy()
    y2[test] = 1 - y2[test]
    a = MLPProjector(hidden_dim=16, epochs=10).fit(x[train], y[train])
    b = MLPProjector(hidden_dim=16, epochs=10).fit(x[train], y2[train])
    np.testing.assert_array_equal(a.transform(x[test]), b.transform(x[test]))


def test_mlp_projector_in_a_grouped_pipeline_learns_the_signal() -> None:
    from tests.fold_data import grouped_signal, per_split_auc

    x, y, groups = grouped_signal()

    def projector() -> MLPProjector:
        return MLPProjector(hidden_dim=128, epochs=60)

    reference = per_split_auc(x, y, groups, projector)  # by hand: one fit per split, both row sets
    model = make_pipeline(StandardScaler(), projector(), LogisticRegression(max_iter=1000))
    auc = cross_val_score(model, x, y, groups=groups, cv=GroupKFold(n_splits=5), scoring="roc_auc").mean()
    assert auc > 0.75
    assert abs(auc - reference) <= 0.05, (auc, reference)

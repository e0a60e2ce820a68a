"""The 512-D projector and fold-aware fitting, as a user runs them from the walkthrough."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from generator.schema.model_card import Projector as ProjectorConfig  # noqa: E402
from generator.smoke.projector import PCA, Projector, cross_fit, fit_projector, seeded_projector  # noqa: E402


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


def _data(n: int = 60, d: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    y = (x[:, 0] > 0).astype(int)
    folds = np.arange(n) % 3
    return x, y, folds


def test_pca_cross_fit_is_fitted_on_training_folds_only() -> None:
    x, _, folds = _data()
    z = cross_fit(x, folds, method="pca")
    assert z.shape == (60, 512)
    # Fold 0's rows are transformed by a PCA fitted on folds 1 and 2, by hand:
    train, test = x[folds != 0], x[folds == 0]
    mean, std = train.mean(0), train.std(0)
    pca = PCA.fit((train - mean) / std)
    assert pca.n_components == 40  # fewer features than 512: the rest are zero columns
    np.testing.assert_allclose(z[folds == 0], pca.transform((test - mean) / std))
    assert np.all(z[:, 40:] == 0)


def test_pca_of_held_out_rows_does_not_depend_on_them() -> None:
    """The map applied to the held-out fold is fitted without it: the same affine map whatever the
    held-out rows hold (scaling them by 10 scales their offsets from the image of 0 by 10)."""
    x, _, folds = _data()
    x2 = x.copy()
    x2[folds == 0] *= 10  # wildly different held-out data
    z, z2 = cross_fit(x, folds), cross_fit(x2, folds)
    a, b = z[folds == 0], z2[folds == 0]
    offset = cross_fit(np.where((folds == 0)[:, None], 0.0, x), folds)[folds == 0]
    np.testing.assert_allclose(b - offset, 10 * (a - offset), rtol=1e-6, atol=1e-6)


def test_supervised_projector_never_sees_held_out_labels() -> None:
    x, y, folds = _data()
    y2 = y.copy()
    y2[folds == 0] = 1 - y2[folds == 0]  # flip the held-out labels
    z = cross_fit(x, folds, method="projector", y=y, epochs=20, hidden_dim=32)
    z2 = cross_fit(x, folds, method="projector", y=y2, epochs=20, hidden_dim=32)
    np.testing.assert_allclose(z[folds == 0], z2[folds == 0], rtol=1e-6, atol=1e-6)
    assert not np.allclose(z[folds == 1], z2[folds == 1])  # fold 0's labels do train the others


def test_fit_projector_learns_a_separable_label() -> None:
    x, y, _ = _data(n=80)
    fitted = fit_projector(x.astype(np.float32), y, hidden_dim=32, epochs=100)
    z = fitted.transform(x.astype(np.float32))
    assert z.shape == (80, 512)
    # The two classes end up apart in the 512-D space.
    gap = np.linalg.norm(z[y == 1].mean(0) - z[y == 0].mean(0))
    assert gap > 1.0


def test_cross_fit_usage_errors() -> None:
    x, _, folds = _data()
    with pytest.raises(ValueError, match="one fold label per row"):
        cross_fit(x, folds[:-1])
    with pytest.raises(ValueError, match="pass the training targets as y"):
        cross_fit(x, folds, method="projector")
    with pytest.raises(ValueError, match="at least two folds"):
        cross_fit(x, np.zeros(len(x)))

"""The knowledge base's 512-D projector and fold-aware fitting, as the walkthroughs document them.

The projector is Linear -> GELU -> Dropout -> Linear -> LayerNorm, sized from the *measured* width of
the pooled embedding (Caduceus-PS, for one, gives 2 x d_model channels before the split). Anything
fitted to data (a PCA, the projector's weights, the standardisation in front of them) is fitted on the
training folds only and applied to the held-out fold, so no statistic of the test fold leaks in:

    from generator.smoke.projector import cross_fit
    z = cross_fit(embeddings, folds, method="pca")            # unsupervised
    z = cross_fit(embeddings, folds, method="projector", y=y)  # supervised, with a linear head

This module imports torch at the top: import it only where torch is wanted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from generator.smoke.fingerprint import PROJECTOR_VERSION

OUT_DIM = 512
__all__ = [
    "OUT_DIM",
    "PCA",
    "PROJECTOR_VERSION",
    "Projector",
    "cross_fit",
    "fit_projector",
    "seeded_projector",
]


class Projector(nn.Sequential):
    """Linear -> GELU -> Dropout -> Linear -> LayerNorm, from `in_dim` to `out_dim` (512)."""

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int = OUT_DIM, dropout: float = 0.1):
        super().__init__()
        self.add_module("fc1", nn.Linear(in_dim, hidden_dim))
        self.add_module("act", nn.GELU())
        self.add_module("drop", nn.Dropout(dropout))
        self.add_module("fc2", nn.Linear(hidden_dim, out_dim))
        self.add_module("norm", nn.LayerNorm(out_dim))
        self.in_dim, self.hidden_dim, self.out_dim, self.dropout = in_dim, hidden_dim, out_dim, dropout

    @classmethod
    def from_config(cls, config: Any, in_dim: int | None = None) -> Projector:
        """Build from a card's `integration.projector`; `in_dim` (the measured width) overrides the card's."""
        return cls(in_dim or config.in_dim, config.hidden_dim, config.out_dim, config.dropout)


def seeded_projector(config: Any, in_dim: int, seed: int = 0) -> Projector:
    """A projector with reproducible initial weights (the smoke test's golden reference needs them)."""
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        return Projector.from_config(config, in_dim)
    finally:
        torch.random.set_rng_state(generator_state)


# --- fold-aware fitting ------------------------------------------------------------------------------


@dataclass
class Standardizer:
    """Per-feature z-scoring with the training folds' mean and standard deviation."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Standardizer:
        std = x.std(axis=0)
        return cls(x.mean(axis=0), np.where(std > 1e-12, std, 1.0))

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.std


@dataclass
class PCA:
    """PCA to `out_dim` components fitted by SVD on training rows.

    When there are fewer training rows or features than `out_dim`, the missing components are zeros,
    so every model still yields 512 columns (and says so by `n_components`)."""

    mean: np.ndarray
    components: np.ndarray
    out_dim: int

    @classmethod
    def fit(cls, x: np.ndarray, out_dim: int = OUT_DIM) -> PCA:
        mean = x.mean(axis=0)
        _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
        return cls(mean, vt[:out_dim], out_dim)

    @property
    def n_components(self) -> int:
        return int(self.components.shape[0])

    def transform(self, x: np.ndarray) -> np.ndarray:
        z = (x - self.mean) @ self.components.T
        if z.shape[1] < self.out_dim:
            z = np.pad(z, ((0, 0), (0, self.out_dim - z.shape[1])))
        return z


@dataclass
class FittedProjector:
    """A projector (plus the linear head it was trained with) fitted on training rows."""

    scaler: Standardizer
    projector: Projector

    def transform(self, x: np.ndarray) -> np.ndarray:
        self.projector.eval()
        with torch.inference_mode():
            t = torch.as_tensor(self.scaler.transform(x), dtype=torch.float32)
            return self.projector(t).numpy()


def fit_projector(
    x: np.ndarray,
    y: np.ndarray,
    config: Any | None = None,
    *,
    hidden_dim: int = 1024,
    dropout: float = 0.1,
    task: Literal["classification", "regression"] | None = None,
    epochs: int = 200,
    lr: float = 1e-3,
    weight_decay: float = 1e-2,
    seed: int = 0,
) -> FittedProjector:
    """Train the projector with a linear head on (x, y) of the training folds only.

    `task` defaults to classification for integer labels and regression otherwise. Full-batch AdamW:
    the training folds of a subject-level analysis are small."""
    if task is None:
        task = "classification" if np.issubdtype(np.asarray(y).dtype, np.integer) else "regression"
    scaler = Standardizer.fit(x)
    torch.manual_seed(seed)
    if config is not None:
        projector = Projector.from_config(config, x.shape[1])
    else:
        projector = Projector(x.shape[1], hidden_dim, OUT_DIM, dropout)
    if task == "classification":
        classes = np.unique(y)
        target = torch.as_tensor(np.searchsorted(classes, y), dtype=torch.long)
        head = nn.Linear(projector.out_dim, len(classes))
        loss_fn: nn.Module = nn.CrossEntropyLoss()
    else:
        y2 = np.asarray(y, dtype=np.float32).reshape(len(y), -1)
        target = torch.as_tensor(y2)
        head = nn.Linear(projector.out_dim, y2.shape[1])
        loss_fn = nn.MSELoss()
    inputs = torch.as_tensor(scaler.transform(x), dtype=torch.float32)
    params = [*projector.parameters(), *head.parameters()]
    optim = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    projector.train()
    with torch.enable_grad():  # callers may have switched gradients off globally
        for _ in range(epochs):
            optim.zero_grad()
            loss = loss_fn(head(projector(inputs)), target)
            loss.backward()
            optim.step()
    projector.eval()
    return FittedProjector(scaler, projector)


def cross_fit(
    x: np.ndarray,
    folds: Sequence[int] | np.ndarray,
    method: Literal["pca", "projector"] = "pca",
    y: np.ndarray | None = None,
    **fit_kwargs: Any,
) -> np.ndarray:
    """Out-of-fold 512-D embeddings: for each fold, fit on the other folds, transform this one.

    `folds[i]` is the fold of row i (e.g. a subject's or a chromosome's group, for leave-one-group-out).
    Row i of the result was produced by a transform that never saw row i."""
    x = np.asarray(x, dtype=np.float64)
    folds = np.asarray(folds)
    if folds.shape != (x.shape[0],):
        raise ValueError(f"folds has shape {folds.shape}; expected one fold label per row ({x.shape[0]})")
    if method == "projector" and y is None:
        raise ValueError("method='projector' is supervised: pass the training targets as y")
    out = np.zeros((x.shape[0], OUT_DIM), dtype=np.float64)
    for fold in np.unique(folds):
        test, train = folds == fold, folds != fold
        if not train.any():
            raise ValueError("cross_fit needs at least two folds")
        if method == "pca":
            scaler = Standardizer.fit(x[train])
            pca = PCA.fit(scaler.transform(x[train]), **fit_kwargs)
            out[test] = pca.transform(scaler.transform(x[test]))
        else:
            assert y is not None
            fitted = fit_projector(x[train].astype(np.float32), np.asarray(y)[train], **fit_kwargs)
            out[test] = fitted.transform(x[test].astype(np.float32))
    return out

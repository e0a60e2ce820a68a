"""The knowledge base's 512-D projector, as a torch module and as a scikit-learn transformer.

The projector is Linear -> GELU -> Dropout -> Linear -> LayerNorm, sized from the *measured* width of
the pooled embedding (Caduceus-PS, for one, gives 2 x d_model channels before the split).

`MLPProjector` wraps it as a scikit-learn transformer, so that it is fitted like any other step of a
`Pipeline`: inside each cross-validation split, on that split's training rows only, and that one fit
transforms both the training and the test rows of the split. The walkthroughs teach exactly this:

    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from generator.smoke.projector import MLPProjector

    model = make_pipeline(StandardScaler(), MLPProjector(), LogisticRegression(max_iter=1000))
    scores = cross_validate(model, x, y, groups=genes, cv=GroupKFold(5), scoring="roc_auc")

There is deliberately no helper that returns "out-of-fold projections": rows projected by different
fits live in different bases, and one classifier trained across them scores at chance.

This module imports torch and scikit-learn at the top: import it only where they are wanted.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from generator.smoke.fingerprint import PROJECTOR_VERSION

OUT_DIM = 512
__all__ = ["OUT_DIM", "PROJECTOR_VERSION", "MLPProjector", "Projector", "seeded_projector"]


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


class MLPProjector(TransformerMixin, BaseEstimator):
    """The 512-D projector as a supervised scikit-learn transformer.

    `fit(X, y)` trains the projector with a linear head on (X, y) (cross-entropy for class labels,
    mean squared error for continuous targets; full-batch AdamW, as the training rows of a
    subject-level analysis are few); `transform(X)` returns the 512-D projection and drops the head.
    Put a `StandardScaler` in front of it in the pipeline. The input width is measured at `fit`.
    """

    def __init__(
        self,
        hidden_dim: int = 1024,
        out_dim: int = OUT_DIM,
        dropout: float = 0.1,
        task: Literal["auto", "classification", "regression"] = "auto",
        epochs: int = 200,
        lr: float = 1e-3,
        weight_decay: float = 1e-2,
        random_state: int = 0,
    ) -> None:
        self.hidden_dim = hidden_dim
        self.out_dim = out_dim
        self.dropout = dropout
        self.task = task
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.random_state = random_state

    @classmethod
    def from_config(cls, config: Any, **kwargs: Any) -> MLPProjector:
        """From a card's `integration.projector` (hidden width, output width, dropout)."""
        return cls(hidden_dim=config.hidden_dim, out_dim=config.out_dim, dropout=config.dropout, **kwargs)

    def fit(self, X: Any, y: Any) -> MLPProjector:  # scikit-learn's argument names
        """Train the projector and a linear head on the given (training) rows only."""
        X, y = validate_data(self, X, y, dtype=np.float32, y_numeric=False, multi_output=True)
        task = self.task
        if task == "auto":
            kind = type_of_target(y)
            task = "classification" if kind in ("binary", "multiclass") else "regression"
        # Seeded inside a forked RNG: the fit is reproducible and the caller's RNG is left alone.
        with torch.random.fork_rng(devices=[]), torch.enable_grad():  # gradients may be off globally
            torch.manual_seed(self.random_state)
            projector = Projector(X.shape[1], self.hidden_dim, self.out_dim, self.dropout)
            head, target, loss_fn = self._head(task, np.asarray(y))
            inputs = torch.as_tensor(X)
            params = [*projector.parameters(), *head.parameters()]
            optim = torch.optim.AdamW(params, lr=self.lr, weight_decay=self.weight_decay)
            projector.train()
            for _ in range(self.epochs):
                optim.zero_grad()
                loss_fn(head(projector(inputs)), target).backward()
                optim.step()
        self.projector_ = projector.eval()
        self.task_ = task
        return self

    def _head(self, task: str, y: np.ndarray) -> tuple[nn.Module, torch.Tensor, nn.Module]:
        if task == "classification":
            self.classes_, codes = np.unique(y, return_inverse=True)
            return (
                nn.Linear(self.out_dim, len(self.classes_)),
                torch.as_tensor(codes.reshape(-1), dtype=torch.long),
                nn.CrossEntropyLoss(),
            )
        target = np.asarray(y, dtype=np.float32).reshape(len(y), -1)
        return nn.Linear(self.out_dim, target.shape[1]), torch.as_tensor(target), nn.MSELoss()

    def transform(self, X: Any) -> np.ndarray:
        """The 512-D projection of X by the fitted projector (dropout off)."""
        check_is_fitted(self, "projector_")
        X = validate_data(self, X, dtype=np.float32, reset=False)
        with torch.inference_mode():
            out: np.ndarray = self.projector_(torch.as_tensor(X)).numpy()
        return out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True  # supervised: fit needs y
        tags.transformer_tags.preserves_dtype = ["float32"]  # torch computes in float32
        return tags

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """`mlpprojector0` ... `mlpprojector511`, as scikit-learn names a transformer's outputs."""
        check_is_fitted(self, "projector_")
        return np.asarray([f"mlpprojector{i}" for i in range(self.out_dim)], dtype=object)

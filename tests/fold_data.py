"""Synthetic embeddings with a real, grouped signal, and the per-split reference a fold-safe method reaches.

600 rows of 64 features, 3 of them informative, in 120 groups of 5 rows (genes or subjects) and 5
group folds: the setting in which out-of-fold projections from different fits were shown to score at
chance while one fit per split scores well.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

N_ROWS, N_FEATURES, N_INFORMATIVE, N_FOLDS = 600, 64, 3, 5


def grouped_signal(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, groups): a binary label carried by 3 of 64 features, rows grouped in fives."""
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=N_ROWS,
        n_features=N_FEATURES,
        n_informative=N_INFORMATIVE,
        n_redundant=0,
        n_clusters_per_class=1,
        shuffle=False,  # keeps the informative features in the first 3 columns
        random_state=seed,
    )
    rows = np.random.default_rng(seed).permutation(N_ROWS)  # rows in random order, columns not
    return x[rows], y[rows], np.arange(N_ROWS) // 5


def splits(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import GroupKFold

    return list(GroupKFold(n_splits=N_FOLDS).split(x, y, groups))


def per_split_auc(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray, projection: Callable[[], Any] | None = None
) -> float:
    """The reference, by hand: in each split, fit the scaler and the projection (PCA keeping 95 % of
    the variance unless given) on the training rows, transform the training and the test rows with
    that one fit, train the classifier, score the test rows."""
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import StandardScaler

    aucs = []
    for train, test in splits(x, y, groups):
        scaler = StandardScaler().fit(x[train])
        pca = projection() if projection else PCA(n_components=0.95)
        pca.fit(scaler.transform(x[train]), y[train])
        clf = LogisticRegression(max_iter=1000).fit(pca.transform(scaler.transform(x[train])), y[train])
        scores = clf.predict_proba(pca.transform(scaler.transform(x[test])))[:, 1]
        aucs.append(roc_auc_score(y[test], scores))
    return float(np.mean(aucs))


def out_of_fold_projection_auc(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float:
    """The pattern the walkthroughs used to teach (`cross_fit`), as it was written: each held-out fold
    projected by a scaler and an SVD fitted on the other folds, the out-of-fold rows assembled, then
    one classifier per split trained across rows that live in different bases (an SVD's component
    signs and order are arbitrary per fit)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    folds = splits(x, y, groups)
    z = np.zeros_like(x)
    for train, test in folds:
        mean, std = x[train].mean(0), x[train].std(0)
        _, _, vt = np.linalg.svd((x[train] - mean) / std, full_matrices=False)
        z[test] = ((x[test] - mean) / std) @ vt.T
    aucs = []
    for train, test in folds:
        clf = LogisticRegression(max_iter=1000).fit(z[train], y[train])
        aucs.append(roc_auc_score(y[test], clf.predict_proba(z[test])[:, 1]))
    return float(np.mean(aucs))

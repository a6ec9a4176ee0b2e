"""Scores of a probabilistic classifier with optional per-event weights: ROC AUC, BCE, Platt scaling.

Shared by the classifier two-sample test (:mod:`.classifier`, whose isotonic calibration also takes
weights) and classifier reweighting (:mod:`.reweight`). Without weights every function is the usual
unweighted one; with weights an event counts ``w`` times (ties in the AUC count half, as in the
Mann–Whitney U statistic).

Platt scaling (J. Platt, 1999) fits ``p = σ(a z + b)`` to the logits ``z`` of a held-out calibration
set by minimising the (weighted) binary cross-entropy; with ``a`` alone it is temperature scaling
(C. Guo et al., arXiv:1706.04599). It keeps the ranking of the scores and gives a smooth calibrated
probability.

Example:
    >>> import numpy as np
    >>> roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    >>> roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]), np.array([1.0, 0.0, 1.0, 1.0]))
    1.0
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, special

__all__ = ["binary_cross_entropy", "platt_fit", "roc_auc"]


def roc_auc(
    labels: NDArray[np.floating], scores: NDArray[np.floating], weights: NDArray[np.floating] | None = None
) -> float:
    """Area under the ROC curve (Mann–Whitney U, tied scores counted half), optionally weighted.

    Arguments:
        labels: 1 for positives, 0 for negatives, (N,).
        scores: Classifier scores (higher: more positive), (N,).
        weights: Per-event weights, (N,); default 1.

    Returns:
        The AUC; NaN when one class has no (weighted) events.
    """
    positive = np.asarray(labels).astype(bool)
    w = np.ones(len(positive)) if weights is None else np.asarray(weights, dtype=np.float64)
    w_pos, w_neg = float(w[positive].sum()), float(w[~positive].sum())
    if w_pos <= 0 or w_neg <= 0:
        return float("nan")
    _, group = np.unique(np.asarray(scores, dtype=np.float64), return_inverse=True)
    neg_per_group = np.bincount(group, weights=np.where(positive, 0.0, w))
    below = np.cumsum(neg_per_group) - neg_per_group  # negative weight with a strictly lower score
    credit = below[group] + 0.5 * neg_per_group[group]
    return float(np.sum(w[positive] * credit[positive]) / (w_pos * w_neg))


def binary_cross_entropy(
    p: NDArray[np.floating], labels: NDArray[np.floating], weights: NDArray[np.floating] | None = None
) -> float:
    """Mean (weighted) binary cross-entropy of probabilities ``p`` (clipped to [1e-12, 1 − 1e-12]), nats."""
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1 - 1e-12)
    y = np.asarray(labels, dtype=np.float64)
    loss = -(y * np.log(q) + (1 - y) * np.log(1 - q))
    w = np.ones_like(loss) if weights is None else np.asarray(weights, dtype=np.float64)
    return float(np.sum(w * loss) / np.sum(w))


def platt_fit(
    logits: NDArray[np.floating],
    labels: NDArray[np.floating],
    weights: NDArray[np.floating] | None = None,
    *,
    temperature_only: bool = False,
) -> Callable[[NDArray[np.floating]], NDArray[np.float64]]:
    """Platt scaling: the map ``z → σ(a z + b)`` that minimises the BCE on ``(logits, labels)``.

    Arguments:
        logits: Raw classifier outputs of a held-out calibration set, (N,).
        labels: Their labels (1 positive, 0 negative), (N,).
        weights: Per-event weights, (N,); default 1.
        temperature_only: Fit ``a`` only (``b = 0``): temperature scaling.

    Returns:
        A function from logits to calibrated probabilities.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> y = rng.integers(0, 2, 4000).astype(float)
        >>> z = 4.0 * (y - 0.5) + rng.normal(0, 2, 4000)   # true P(y=1|z) = σ(z)
        >>> calibrate = platt_fit(3.0 * z, y)            # over-confident logits are scaled back
        >>> round(float(calibrate(np.array([3.0]))[0]), 1)
        0.7
    """
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    w = np.ones_like(z) if weights is None else np.asarray(weights, dtype=np.float64)
    w = w / w.sum()

    def loss(params: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        a, b = params[0], (0.0 if temperature_only else params[1])
        t = a * z + b
        value = float(np.sum(w * (np.logaddexp(0.0, t) - y * t)))
        resid = w * (special.expit(t) - y)
        grad = np.array([np.sum(resid * z)] if temperature_only else [np.sum(resid * z), np.sum(resid)])
        return value, grad

    start = np.array([1.0] if temperature_only else [1.0, 0.0])
    fit = optimize.minimize(loss, start, jac=True, method="L-BFGS-B")
    a, b = float(fit.x[0]), (0.0 if temperature_only else float(fit.x[1]))

    def predict(values: NDArray[np.floating]) -> NDArray[np.float64]:
        return np.asarray(special.expit(a * np.asarray(values, dtype=np.float64) + b), dtype=np.float64)

    return predict

"""Isotonic regression by pool-adjacent-violators: the classifier test's probability calibration.

Example:
    >>> import numpy as np
    >>> isotonic_fit(np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.0, 1.0, 0.0, 1.0]))(np.array([0.25]))
    array([0.5])
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

__all__ = ["isotonic_fit"]


def isotonic_fit(x: NDArray[np.floating], y: NDArray[np.floating], *, y_min: float = 0.0, y_max: float = 1.0,
                 sample_weight: NDArray[np.floating] | None = None) -> Callable[[NDArray[np.floating]], NDArray[np.float64]]:
    """Isotonic (non-decreasing) regression of ``y`` on ``x`` by pool-adjacent-violators (optionally weighted).

    Returns a predictor that interpolates linearly between the fitted points and clips outside them,
    like scikit-learn's ``IsotonicRegression(out_of_bounds="clip", y_min, y_max)``.
    """
    order = np.argsort(x, kind="mergesort")
    xs, ys = np.asarray(x, dtype=np.float64)[order], np.asarray(y, dtype=np.float64)[order]
    sw = np.ones(len(xs)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)[order] + 1e-300
    ux, start = np.unique(xs, return_index=True)
    weights = np.add.reduceat(sw, start)
    means = np.add.reduceat(ys * sw, start) / weights
    values, sizes, counts = [], [], []  # blocks: mean, total weight, number of unique x
    for m, w in zip(means, weights, strict=True):
        values.append(m)
        sizes.append(w)
        counts.append(1)
        while len(values) > 1 and values[-2] >= values[-1]:
            w2, w1 = sizes.pop(), sizes[-1]
            v2 = values.pop()
            values[-1] = (values[-1] * w1 + v2 * w2) / (w1 + w2)
            sizes[-1] = w1 + w2
            merged = counts.pop()
            counts[-1] += merged
    fitted = np.clip(np.repeat(values, counts), y_min, y_max)

    def predict(z: NDArray[np.floating]) -> NDArray[np.float64]:
        return np.asarray(np.interp(np.asarray(z, dtype=np.float64), ux, fitted), dtype=np.float64)

    return predict

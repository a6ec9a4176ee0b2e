"""The two special functions the simulator needs, in NumPy, so that ``simulate`` runs without SciPy.

* :func:`gammainc` — the regularised lower incomplete gamma function P(a, x) (the Gamma-profile CDF),
  by its power series for ``x < a + 1`` and its continued fraction (modified Lentz) otherwise, each
  iterated only on the elements that have not converged to double precision.
* :func:`ar1_filter` — the AR(1) recursion ``y[t] = x[t] + rho y[t-1]`` along the last axis
  (``scipy.signal.lfilter([1], [1, -rho], x)``).

Example:
    >>> import numpy as np
    >>> p = gammainc(np.array([1.0, 2.5]), np.array([1.0, 10.0]))
    >>> bool(abs(p[0] - (1 - np.exp(-1.0))) < 1e-15)
    True
    >>> ar1_filter(np.array([[1.0, 0.0, 0.0]]), 0.5).tolist()
    [[1.0, 0.5, 0.25]]
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["ar1_filter", "gammainc"]

Array = NDArray[np.float64]
_EPS = 1e-16
_TINY = 1e-300
_MAX_ITER = 1000
_lgamma = np.frompyfunc(math.lgamma, 1, 1)


def _series(a: Array, x: Array) -> Array:
    """Σ x^n / (a (a+1) ... (a+n)), the series of P(a, x) without its prefactor (converges fast for x < a + 1)."""
    out = np.empty_like(a)
    idx = np.arange(a.size)
    total = 1.0 / a
    term = total.copy()
    ap = a.copy()
    for _ in range(_MAX_ITER):
        ap += 1.0
        term *= x / ap
        total += term
        done = np.abs(term) < np.abs(total) * _EPS
        if 4 * np.count_nonzero(done) >= idx.size:  # retire converged ones (extra steps leave them unchanged)
            out[idx[done]] = total[done]
            keep = ~done
            idx, total, term, ap, x = idx[keep], total[keep], term[keep], ap[keep], x[keep]
            if idx.size == 0:
                break
    out[idx] = total
    return out


def _continued_fraction(a: Array, x: Array) -> Array:
    """The continued fraction of Q(a, x) without its prefactor (converges fast for x ≥ a + 1)."""
    out = np.empty_like(a)
    idx = np.arange(a.size)
    b = x + 1.0 - a
    c = np.full_like(x, 1.0 / _TINY)
    d = 1.0 / b
    h = d.copy()
    for i in range(1, _MAX_ITER + 1):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d[np.abs(d) < _TINY] = _TINY
        c = b + an / c
        c[np.abs(c) < _TINY] = _TINY
        d = 1.0 / d
        delta = d * c
        h *= delta
        done = np.abs(delta - 1.0) < _EPS
        if 4 * np.count_nonzero(done) >= idx.size:
            out[idx[done]] = h[done]
            keep = ~done
            idx, a, b, c, d, h = idx[keep], a[keep], b[keep], c[keep], d[keep], h[keep]
            if idx.size == 0:
                break
    out[idx] = h
    return out


def gammainc(a: ArrayLike, x: ArrayLike) -> Array:
    """Regularised lower incomplete gamma function P(a, x) = γ(a, x) / Γ(a), elementwise (a > 0, x ≥ 0).

    Arguments:
        a: Shape parameters (> 0), broadcast against ``x``.
        x: Arguments (≥ 0).

    Returns:
        P(a, x) in [0, 1], float64, the broadcast shape.
    """
    a_arr = np.asarray(a, dtype=np.float64)
    lg = np.asarray(_lgamma(a_arr), dtype=np.float64)  # on the unbroadcast shapes only
    a_b, x_b, lg_b = (np.ascontiguousarray(v).ravel() for v in np.broadcast_arrays(a_arr, np.asarray(x, np.float64), lg))
    out = np.zeros(a_b.shape, dtype=np.float64)
    positive = x_b > 0
    log_prefactor = np.zeros_like(x_b)
    log_prefactor[positive] = -x_b[positive] + a_b[positive] * np.log(x_b[positive]) - lg_b[positive]
    low = positive & (x_b < a_b + 1.0)
    high = positive & ~low
    if low.any():
        out[low] = np.exp(log_prefactor[low]) * _series(a_b[low], x_b[low])
    if high.any():
        out[high] = 1.0 - np.exp(log_prefactor[high]) * _continued_fraction(a_b[high], x_b[high])
    shape = np.broadcast_shapes(np.shape(a_arr), np.shape(x))
    return np.clip(out, 0.0, 1.0).reshape(shape)


def ar1_filter(x: ArrayLike, rho: float) -> Array:
    """``y[..., t] = x[..., t] + rho * y[..., t - 1]`` along the last axis (``y[..., 0] = x[..., 0]``)."""
    y = np.array(x, dtype=np.float64, copy=True)
    for t in range(1, y.shape[-1]):
        y[..., t] += rho * y[..., t - 1]
    return y

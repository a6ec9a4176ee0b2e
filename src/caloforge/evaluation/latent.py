"""Latent-space diagnostics of an encoder, on arrays: KL per dimension, normality tests, correlations.

The statistics take the encoded showers as NumPy arrays (this package never imports models):

* the KL divergence of a diagonal Gaussian posterior q(z_j|x) = N(μ_j, σ_j²) to N(0, 1) per latent
  dimension, averaged over the showers, ``½ E_x[μ_j² + σ_j² − 1 − log σ_j²]`` nats; a dimension is
  **active** when it exceeds ``kl_threshold`` (0.01 nats; an inactive one carries no information about
  the shower and the decoder ignores it — posterior collapse);
* whether the aggregate posterior (one draw z ~ q(z|x) per shower) is N(0, 1) in each dimension:
  the Kolmogorov–Smirnov test and the Anderson–Darling test against the fully specified N(0, 1)
  (A² with the asymptotic p-value of Marsaglia & Marsaglia 2004, which weights the tails more than KS);
  a dimension passes when neither rejects at ``alpha`` — the prior the decoder samples at generation
  time is then the distribution it was trained on;
* the correlation matrix of the draws (identity for a factorised N(0, 1)).

SciPy (the ``eval`` extra) supplies the KS distribution.

Example:
    >>> import numpy as np
    >>> z = np.random.default_rng(0).standard_normal((2000, 2))
    >>> d = latent_diagnostics(z, np.zeros((2000, 2)), np.zeros((2000, 2)))
    >>> [round(x.kl, 3) for x in d.dimensions], d.n_active, all(x.normal for x in d.dimensions)
    ([0.0, 0.0], 0, True)

References:
    Burda, Grosse, Salakhutdinov, "Importance Weighted Autoencoders" (active units),
    https://arxiv.org/abs/1509.00519; G. Marsaglia, J. Marsaglia, "Evaluating the Anderson-Darling
    Distribution", J. Stat. Softw. 9 (2004), https://doi.org/10.18637/jss.v009.i02
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "DEFAULT_KL_THRESHOLD",
    "DimensionDiagnostics",
    "LatentDiagnostics",
    "anderson_darling_normal",
    "gaussian_kl_per_dim",
    "kolmogorov_smirnov_normal",
    "latent_diagnostics",
]

#: A latent dimension with a mean KL to N(0, 1) above this many nats is active.
DEFAULT_KL_THRESHOLD = 0.01

FloatArray = NDArray[np.floating[Any]]


@dataclass(frozen=True)
class DimensionDiagnostics:
    """One latent dimension.

    Attributes:
        index: Dimension number.
        kl: Mean KL of q(z_j|x) to N(0, 1), nats (NaN when no posterior parameters were given).
        active: ``kl > kl_threshold``.
        mean: Mean of the draws.
        std: Standard deviation of the draws.
        ks_statistic: Kolmogorov–Smirnov distance of the draws to N(0, 1).
        ks_pvalue: Its p-value.
        ad_statistic: Anderson–Darling A² of the draws against N(0, 1).
        ad_pvalue: Its (asymptotic) p-value.
        normal: Neither test rejects N(0, 1) at ``alpha``.
    """

    index: int
    kl: float
    active: bool
    mean: float
    std: float
    ks_statistic: float
    ks_pvalue: float
    ad_statistic: float
    ad_pvalue: float
    normal: bool


@dataclass(frozen=True)
class LatentDiagnostics:
    """The latent diagnostics of one encoded sample.

    Attributes:
        n: Number of encoded showers.
        dimensions: One entry per latent dimension.
        correlation: Correlation matrix of the draws, (d, d).
        kl_threshold: The active-unit threshold, nats.
        alpha: Significance level of the normality tests.
        kl_total: Sum of the per-dimension KLs, nats (NaN without posterior parameters).
        kl_monte_carlo: Mean ``log q(z|x) − log p(z)`` of the draws, nats, where ``log_q`` was given
            (the KL of an IAF posterior, whose per-dimension values are those of its Gaussian base).
    """

    n: int
    dimensions: tuple[DimensionDiagnostics, ...]
    correlation: FloatArray
    kl_threshold: float
    alpha: float
    kl_total: float
    kl_monte_carlo: float | None = None

    @property
    def n_active(self) -> int:
        """Number of active dimensions."""
        return sum(d.active for d in self.dimensions)

    @property
    def max_abs_correlation(self) -> float:
        """Largest off-diagonal |correlation| (0 for one dimension)."""
        c = np.abs(self.correlation - np.diag(np.diag(self.correlation)))
        return float(c.max()) if c.size else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (NaN becomes None)."""
        out: dict[str, Any] = _clean(
            {
                "n": self.n,
                "latent_dim": len(self.dimensions),
                "kl_threshold": self.kl_threshold,
                "active_rule": f"a dimension is active when its mean KL(q(z_j|x) || N(0,1)) > {self.kl_threshold} nats",
                "alpha": self.alpha,
                "n_active": self.n_active,
                "n_normal": sum(d.normal for d in self.dimensions),
                "kl_total": self.kl_total,
                "kl_monte_carlo": self.kl_monte_carlo,
                "max_abs_correlation": self.max_abs_correlation,
                "dimensions": [asdict(d) for d in self.dimensions],
                "correlation": self.correlation.tolist(),
            }
        )
        return out


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    return value


def gaussian_kl_per_dim(mean: FloatArray, log_var: FloatArray) -> FloatArray:
    """Mean KL(N(μ, σ²) ‖ N(0, 1)) per dimension over the rows, nats.

    Arguments:
        mean: (N, d) posterior means.
        log_var: (N, d) posterior log-variances.

    Returns:
        (d,) KLs.

    Raises:
        ValueError: Shapes that differ or are not (N, d).
    """
    mean, log_var = np.asarray(mean, dtype=np.float64), np.asarray(log_var, dtype=np.float64)
    if mean.shape != log_var.shape or mean.ndim != 2:
        msg = f"posterior mean and log-variance must both be (N, d), got {mean.shape} and {log_var.shape}"
        raise ValueError(msg)
    kl: FloatArray = 0.5 * np.mean(mean**2 + np.exp(log_var) - 1.0 - log_var, axis=0)
    return kl


def _ad_infinity_cdf(a2: float) -> float:
    """Asymptotic CDF of the Anderson–Darling statistic (Marsaglia & Marsaglia 2004, |error| < 2·10⁻⁶)."""
    if a2 <= 0:
        return 0.0
    if a2 < 2.0:
        poly = 2.00012 + (0.247105 - (0.0649821 - (0.0347962 - (0.011672 - 0.00168691 * a2) * a2) * a2) * a2) * a2
        return math.exp(-1.2337141 / a2) / math.sqrt(a2) * poly
    inner = 1.0776 - (2.30695 - (0.43424 - (0.082433 - (0.008056 - 0.0003146 * a2) * a2) * a2) * a2) * a2
    return math.exp(-math.exp(inner))


def anderson_darling_normal(x: FloatArray) -> tuple[float, float]:
    """Anderson–Darling test of a sample against the fully specified N(0, 1).

    Arguments:
        x: (N,) sample.

    Returns:
        ``(A², p-value)``, the p-value from the asymptotic distribution (accurate for N ≳ 50).
    """
    from scipy.special import log_ndtr

    x = np.sort(np.asarray(x, dtype=np.float64))
    n = x.size
    i = np.arange(1, n + 1)
    a2 = float(-n - np.mean((2 * i - 1) * (log_ndtr(x) + log_ndtr(-x[::-1]))))
    return a2, float(min(max(1.0 - _ad_infinity_cdf(a2), 0.0), 1.0))


def kolmogorov_smirnov_normal(x: FloatArray) -> tuple[float, float]:
    """Kolmogorov–Smirnov test of a sample against N(0, 1); returns ``(D, p-value)`` (exact for small N)."""
    from scipy import stats

    result = stats.kstest(np.asarray(x, dtype=np.float64), "norm")
    return float(result.statistic), float(result.pvalue)


def latent_diagnostics(
    z: FloatArray,
    mean: FloatArray | None = None,
    log_var: FloatArray | None = None,
    *,
    log_q: FloatArray | None = None,
    kl_threshold: float = DEFAULT_KL_THRESHOLD,
    alpha: float = 0.05,
) -> LatentDiagnostics:
    """All latent diagnostics of one encoded sample.

    Arguments:
        z: (N, d) one posterior draw per shower (the aggregate posterior).
        mean: (N, d) posterior means (with ``log_var``: the per-dimension KL).
        log_var: (N, d) posterior log-variances.
        log_q: (N,) log q(z|x) of the draws (then the Monte-Carlo KL is reported too).
        kl_threshold: Active-unit threshold, nats.
        alpha: Significance level of the KS and AD tests.

    Returns:
        A :class:`LatentDiagnostics`.

    Raises:
        ValueError: ``z`` not (N, d) with N ≥ 2, non-finite values, or misshaped posterior parameters.
    """
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] < 2 or z.shape[1] < 1:
        msg = f"latent draws must be (N, d) with N ≥ 2 and d ≥ 1, got shape {z.shape}"
        raise ValueError(msg)
    if not np.all(np.isfinite(z)):
        msg = "latent draws contain NaN or infinite values"
        raise ValueError(msg)
    n, d = z.shape
    kl = np.full(d, np.nan) if mean is None or log_var is None else gaussian_kl_per_dim(mean, log_var)
    if kl.shape != (d,):
        msg = f"posterior parameters have {kl.shape[0]} dimensions, the draws {d}"
        raise ValueError(msg)
    dims = []
    for j in range(d):
        ks, ks_p = kolmogorov_smirnov_normal(z[:, j])
        ad, ad_p = anderson_darling_normal(z[:, j])
        dims.append(
            DimensionDiagnostics(
                index=j, kl=float(kl[j]), active=bool(kl[j] > kl_threshold), mean=float(z[:, j].mean()),
                std=float(z[:, j].std()), ks_statistic=ks, ks_pvalue=ks_p, ad_statistic=ad, ad_pvalue=ad_p,
                normal=bool(ks_p >= alpha and ad_p >= alpha),
            )
        )
    correlation = np.atleast_2d(np.corrcoef(z, rowvar=False)) if d > 1 else np.ones((1, 1))
    log_p = -0.5 * np.sum(z**2 + math.log(2 * math.pi), axis=1)
    mc = None if log_q is None else float(np.mean(np.asarray(log_q, dtype=np.float64) - log_p))
    return LatentDiagnostics(
        n=n, dimensions=tuple(dims), correlation=np.nan_to_num(correlation), kl_threshold=kl_threshold,
        alpha=alpha, kl_total=float(np.sum(kl)), kl_monte_carlo=mc,
    )

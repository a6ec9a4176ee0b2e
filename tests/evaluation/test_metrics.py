"""Separation power, χ²/NDF, FPD and KPD."""

from __future__ import annotations

import numpy as np
import pytest

from caloforge.evaluation import METRICS, chi2_ndf, fpd, kpd, separation_power
from caloforge.evaluation.histograms import fill
from caloforge.evaluation.metrics import frechet_distance


def test_separation_power_limits() -> None:
    rng = np.random.default_rng(1)
    edges = np.linspace(-5, 5, 51)
    a = fill(rng.normal(size=1000), edges).counts
    assert separation_power(a, a) == 0.0
    assert separation_power(a, 3 * a) == pytest.approx(0.0)
    assert separation_power(np.array([5, 5, 0, 0]), np.array([0, 0, 1, 9])) == pytest.approx(1.0)
    assert np.isnan(separation_power(np.zeros(3), a[:3]))


def test_separation_power_matches_calochallenge_density_formula() -> None:
    """CaloChallenge multiplies density=True histograms by the bin widths before the sum."""
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=500), rng.normal(0.3, 1.2, size=700)
    edges = np.linspace(-4, 4, 31)
    d1, _ = np.histogram(x, edges, density=True)
    d2, _ = np.histogram(y, edges, density=True)
    h1, h2 = d1 * np.diff(edges), d2 * np.diff(edges)
    official = 0.5 * np.sum((h1 - h2) ** 2 / (h1 + h2 + 1e-16))
    assert separation_power(fill(x, edges).counts, fill(y, edges).counts) == pytest.approx(official)


def test_chi2_same_and_different() -> None:
    rng = np.random.default_rng(3)
    edges = np.linspace(-4, 4, 41)
    chis = [chi2_ndf(fill(rng.normal(size=5000), edges).counts, fill(rng.normal(size=3000), edges).counts).chi2_ndf
            for _ in range(20)]
    assert 0.7 < np.mean(chis) < 1.3
    far = chi2_ndf(fill(rng.normal(size=5000), edges).counts, fill(rng.normal(0.5, 1, size=5000), edges).counts)
    assert far.chi2_ndf > 10
    assert far.p_value < 1e-6


def test_frechet_distance_of_gaussians() -> None:
    mu, cov = np.zeros(2), np.diag([1.0, 4.0])
    assert frechet_distance(mu, cov, mu, cov) == pytest.approx(0.0, abs=1e-12)
    # 1D: (μ1-μ2)² + (σ1-σ2)²
    assert frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([0.0]), np.array([[1.0]])) == pytest.approx(2.0)


def test_fpd_and_kpd_same_vs_different() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(20_000, 4)), rng.normal(size=(20_000, 4))
    c = rng.normal(0.5, 1.0, size=(20_000, 4))
    kw = {"min_samples": 1000, "max_samples": 5000, "num_batches": 5, "num_points": 4}
    same, diff = fpd(a, b, **kw), fpd(a, c, **kw)
    assert same.value < 3 * same.error + 1e-3
    assert diff.value > 0.02
    assert diff.value > 10 * same.value
    k_same, k_diff = kpd(a, b, batch_size=1000, num_batches=5), kpd(a, c, batch_size=1000, num_batches=5)
    assert abs(k_same.value) < 3 * k_same.error + 1e-4
    assert k_diff.value > 10 * abs(k_same.value)


def test_registry_names() -> None:
    assert {"separation_power", "chi2_ndf", "fpd", "kpd"} <= set(METRICS.names())
    with pytest.raises(KeyError, match="choices are"):
        METRICS.get("nope")

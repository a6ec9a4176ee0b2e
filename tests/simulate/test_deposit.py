from __future__ import annotations

import itertools

import numpy as np

from caloforge.simulate import (
    RectangleTable,
    rectangle_fractions,
    ring_fractions,
    sample_deposits,
    sample_ring_deposits,
)


def test_ring_fractions_match_cdf() -> None:
    edges = np.array([0.0, 5.0, 10.0, 40.0])
    frac = ring_fractions(edges, np.array([[2.0]]), np.array([[20.0]]), np.array([[0.7]]))[0, 0]
    cdf = lambda r, big_r: r**2 / (r**2 + big_r**2)
    expected = [
        0.7 * (cdf(b, 2.0) - cdf(a, 2.0)) + 0.3 * (cdf(b, 20.0) - cdf(a, 20.0)) for a, b in itertools.pairwise(edges)
    ]
    np.testing.assert_allclose(frac, expected)


def test_rectangle_fractions_match_monte_carlo() -> None:
    rng = np.random.default_rng(0)
    radius = 3.0
    u = rng.random(400_000)
    r = radius * np.sqrt(u / (1 - u))  # inverse of r^2 / (r^2 + R^2)
    phi = rng.uniform(-np.pi, np.pi, r.size)
    edges = np.array([-6.0, -2.0, 0.0, 1.0, 5.0])
    counts, _, _ = np.histogram2d(r * np.cos(phi), r * np.sin(phi), bins=[edges, edges])
    frac = rectangle_fractions(edges, edges, np.array([[radius]]), np.array([[radius]]), np.array([[1.0]]))[0, 0]
    np.testing.assert_allclose(frac, counts / r.size, atol=3e-3)
    assert frac.min() > 0


def test_sample_deposits_statistics() -> None:
    rng = np.random.default_rng(1)
    mean = np.full((4000, 8), 20.0, dtype=np.float32)
    out = sample_deposits(mean, spot_energy=4.0, spot_shape=0.5, threshold=0.0, rng=rng)
    totals = out.sum(1, dtype=np.float64)
    assert abs(totals.mean() / 160.0 - 1) < 0.01
    # compound Poisson-Gamma: relative variance (1 + 1/k) * spot_energy / total
    np.testing.assert_allclose(totals.var() / totals.mean() ** 2, 3 * 4.0 / 160.0, rtol=0.1)
    hit_fraction = (out > 0).mean()
    np.testing.assert_allclose(hit_fraction, 1 - np.exp(-5.0), atol=0.01)
    thresholded = sample_deposits(mean, 4.0, 0.5, 1.0, np.random.default_rng(1))
    assert thresholded[thresholded > 0].min() >= 1.0


def test_ring_spots_match_voxel_sampling() -> None:
    ring = np.array([[[40.0, 8.0, 0.5]]])  # (N=1, L=1, n_r=3), spread over 4 angular bins
    n_alpha, spot, k = 4, 2.0, 1.5
    rings = np.broadcast_to(ring, (20000, 1, 3)).copy()
    a = sample_ring_deposits(rings, n_alpha, spot, k, 0.0, np.random.default_rng(4))
    per_voxel = np.broadcast_to((ring[0, 0] / n_alpha).astype(np.float32), (20000, n_alpha, 3)).reshape(20000, -1)
    b = sample_deposits(per_voxel.copy(), spot, k, 0.0, np.random.default_rng(9))
    assert a.shape == b.shape == (20000, 12)
    np.testing.assert_allclose(a.mean(0), per_voxel[0], rtol=0.12)
    np.testing.assert_allclose((a > 0).mean(0), (b > 0).mean(0), atol=0.03)
    np.testing.assert_allclose(a.reshape(20000, 4, 3).sum(1).var(0), b.reshape(20000, 4, 3).sum(1).var(0), rtol=0.15)


def test_rectangle_table_matches_exact_fractions() -> None:
    edges = tuple(float(v) for v in np.linspace(-40.0, 40.0, 11))
    table = RectangleTable(edges, edges)
    rng = np.random.default_rng(2)
    core, tail, weight = rng.uniform(0.5, 20, (4, 6)), rng.uniform(5, 3000, (4, 6)), rng.uniform(0, 1, (4, 6))
    exact = rectangle_fractions(np.asarray(edges), np.asarray(edges), core, tail, weight).reshape(4, 6, -1)
    np.testing.assert_allclose(table.fractions(core, tail, weight), exact, rtol=2e-3, atol=1e-6)

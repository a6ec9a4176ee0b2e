"""Hit-level observables on hand-made showers where every number is known."""

from __future__ import annotations

import numpy as np
import pytest

from caloforge.evaluation.hit_comparison import compare_correlations, compare_hits, hit_specs, linearity_table
from caloforge.evaluation.hits import (
    MOMENTS,
    HitAccumulator,
    HitSample,
    cell_threshold,
    correlation_matrix,
    mean90_rms90,
    start_layers,
)
from caloforge.geometry import Geometry

# 4 layers of 2 cells at x = 1 and x = 3 mm (one angular bin centred on α = 0, so y = 0)
GEOMETRY = Geometry.regular("toy", n_layers=4, n_alpha=1, r_edges=[0, 2, 4])
SHOWER = np.array([[0.2, 0.0, 1.0, 0.0, 2.0, 1.0, 0.0, 4.0]])  # layer 0 below the 0.5 MeV threshold


def _sample(showers: np.ndarray, energies: np.ndarray, threshold: float = 0.5, **kw: int) -> HitSample:
    acc = HitAccumulator(GEOMETRY, threshold, e_max=100.0, **kw)
    acc.add(showers, energies)
    return acc.result()


def test_hits_visible_energy_and_centre_of_gravity() -> None:
    s = _sample(SHOWER.copy(), np.array([10.0]))
    assert s.n_hits.tolist() == [4.0]
    assert s.e_vis.tolist() == [8.0]
    assert s.cog_x[0] == pytest.approx((1 * 1 + 2 * 1 + 1 * 3 + 4 * 3) / 8)
    assert s.cog_y[0] == pytest.approx(0.0, abs=1e-12)
    assert s.cog_z[0] == pytest.approx((1 * 1 + 3 * 2 + 4 * 3) / 8)
    assert s.r_rms[0] == pytest.approx(np.sqrt((3 * 1 + 5 * 9) / 8))
    assert s.hits_per_layer.tolist() == [0.0, 1.0, 2.0, 1.0]
    assert s.spectrum_counts.sum() == 4
    assert s.spectrum_overflow == 0
    assert s.start_layer.tolist() == [-1.0]  # no two consecutive layers with 3 hits
    assert _sample(SHOWER.copy(), np.array([10.0]), min_hits=1).start_layer.tolist() == [1.0]
    # a threshold of 0 counts every positive cell
    assert _sample(SHOWER.copy(), np.array([10.0]), threshold=0.0).n_hits.tolist() == [5.0]


def test_chunks_add_up_to_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    showers = rng.exponential(1.0, (50, GEOMETRY.n_voxels))
    energies = rng.uniform(10, 100, 50)
    whole = _sample(showers.copy(), energies)
    acc = HitAccumulator(GEOMETRY, 0.5, e_max=100.0)
    acc.add(showers[:20].copy(), energies[:20])
    acc.add(showers[20:].copy(), energies[20:])
    parts = acc.result()
    np.testing.assert_allclose(parts.moments(), whole.moments())
    np.testing.assert_array_equal(parts.spectrum_counts, whole.spectrum_counts)
    monkeypatch.setattr("caloforge.evaluation.hits._BLOCK_BYTES", 4 * GEOMETRY.n_voxels * 7)  # blocks of 7 showers
    blocks = _sample(showers.copy(), energies)
    np.testing.assert_allclose(blocks.moments(), whole.moments())
    np.testing.assert_array_equal(blocks.hits_per_layer, whole.hits_per_layer)


def test_start_layer_is_the_first_of_two_showering_layers() -> None:
    hits = np.array([[1, 1, 1, 3, 1, 3, 3, 9], [5, 5, 0, 0, 0, 0, 0, 0], [9, 0, 9, 0, 9, 0, 9, 0]])
    assert start_layers(hits).tolist() == [5, 0, -1]
    assert start_layers(hits, min_hits=9, n_consecutive=1).tolist() == [7, -1, 0]


def test_mip_peak_in_the_cell_spectrum() -> None:
    showers = np.zeros((10, GEOMETRY.n_voxels))
    showers[:, 0] = 0.3  # one MIP of 0.3 MeV in every shower
    acc = HitAccumulator(GEOMETRY, cell_threshold(GEOMETRY, {"mip_mev": 0.3}, override=None, voxel_threshold=0.0),
                         e_max=10.0)
    acc.add(showers, np.full(10, 10.0))
    s = acc.result()
    assert s.threshold.mev == pytest.approx(0.15)
    assert s.spectrum_edges[0] == pytest.approx(0.15)
    peak = int(np.argmax(s.spectrum_counts))
    assert s.spectrum_counts[peak] == 10
    assert s.spectrum_edges[peak] <= 0.3 < s.spectrum_edges[peak + 1]
    assert np.allclose(np.diff(np.log10(s.spectrum_edges)), 1 / 20)


def test_cell_threshold_priorities() -> None:
    attrs = {"mip_mev": 1.0, "cell_threshold_mev": 0.2}
    assert cell_threshold(GEOMETRY, attrs, override=0.7, voxel_threshold=0.01).mev == 0.7
    assert cell_threshold(GEOMETRY, attrs, override=None, voxel_threshold=0.01).source == "geometry"
    mip = cell_threshold(GEOMETRY, {"mip_mev": 1.0}, override=None, voxel_threshold=0.01)
    assert (mip.mev, mip.source, mip.mip_mev) == (0.5, "mip", 1.0)
    voxel = cell_threshold(GEOMETRY, {"mip_mev": "n/a"}, override=None, voxel_threshold=0.01)
    assert (voxel.mev, voxel.source) == (0.01, "voxel")
    with pytest.raises(ValueError, match="non-negative"):
        cell_threshold(GEOMETRY, None, override=-1.0, voxel_threshold=0.0)


def test_mean90_rms90() -> None:
    assert mean90_rms90(np.r_[np.full(45, 1.0), np.full(45, 3.0), np.full(10, 100.0)]) == (2.0, 1.0)
    # a unit Gaussian: the central 90 % has rms sqrt(1 - 2 z φ(z) / 0.9) = 0.7893 with z = 1.6449
    mean, rms = mean90_rms90(np.random.default_rng(0).normal(5.0, 2.0, 400_000))
    assert mean == pytest.approx(5.0, abs=0.03)  # the shortest window wanders a little on the flat top
    assert rms == pytest.approx(2.0 * 0.7893, rel=0.01)
    assert np.isnan(mean90_rms90(np.array([1.0]))[0])


def test_correlation_of_perfectly_correlated_moments() -> None:
    x = np.arange(10.0)
    c = correlation_matrix(np.stack([x, 3 * x - 2, -x, np.ones(10)], axis=1))
    assert c[0, 1] == pytest.approx(1.0)
    assert c[0, 2] == pytest.approx(-1.0)
    assert np.isnan(c[3]).all()  # a constant moment has no correlation
    rng = np.random.default_rng(1)
    showers = rng.exponential(1.0, (200, GEOMETRY.n_voxels))
    s = _sample(showers, rng.uniform(10, 100, 200))
    same = compare_correlations(s, s)
    i, j = MOMENTS.index("n_hits"), MOMENTS.index("e_vis")
    assert same.reference[i, i] == pytest.approx(1.0)
    assert same.reference[i, j] > 0.3
    assert same.mean_abs_difference == 0.0


def test_linearity_and_identical_samples() -> None:
    showers = np.zeros((20, GEOMETRY.n_voxels))
    showers[:10, 2] = 5.0  # E_inc 10: E_vis 5
    showers[10:, 2] = 40.0  # E_inc 100: E_vis 40
    energies = np.r_[np.full(10, 10.0), np.full(10, 100.0)]
    s = _sample(showers, energies)
    table = linearity_table(s, np.array([5.0, 50.0, 200.0]))
    assert table.linearity == pytest.approx([0.5, 0.4])
    assert table.resolution == pytest.approx([0.0, 0.0])
    report = compare_hits(hit_specs(s), s, s, np.array([5.0, 50.0, 200.0]))
    assert all(c.separation_power in (0.0,) or np.isnan(c.separation_power) for c in report.histograms.values())
    out = report.to_dict()
    assert out["separation_power"]["n_hits"] == 0.0
    assert out["linearity"]["max_abs_linearity_rel_diff"] == 0.0
    assert out["cell_threshold_mev"] == 0.5


def test_cell_threshold_from_the_geometry() -> None:
    import dataclasses

    from caloforge.geometry import get_geometry

    with_mip = dataclasses.replace(GEOMETRY, mip_mev=0.4)
    assert cell_threshold(with_mip, None, override=None, voxel_threshold=0.01).mev == pytest.approx(0.2)
    given = dataclasses.replace(with_mip, cell_threshold_mev=0.3)
    assert cell_threshold(given, {"mip_mev": 9.0}, override=None, voxel_threshold=0.01).source == "geometry"
    ild = cell_threshold(get_geometry("ild-48x25x25"), None, override=None, voxel_threshold=0.0)
    assert (ild.mev, ild.source, ild.mip_mev) == (0.25, "geometry", 0.49)

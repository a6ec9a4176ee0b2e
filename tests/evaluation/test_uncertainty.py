"""Bootstrap uncertainties: right size (analytic errors, 1/√N, sample-to-sample spread), seeded, in metrics.json."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from caloforge.evaluation import EvaluationConfig, evaluate
from caloforge.evaluation.compare import compare_histogram, fill_all, response_table
from caloforge.evaluation.features import FeatureTable, features_of
from caloforge.evaluation.histograms import HistSpec, fill, histogram_specs
from caloforge.evaluation.metrics import separation_power
from caloforge.evaluation.uncertainty import BinnedSample, bootstrap_errors, bootstrap_mean_error, replicate_std
from caloforge.geometry import Geometry

SPEC = HistSpec("response", "response", None, np.linspace(0.5, 1.5, 41))


def _table(response: np.ndarray, e_inc: np.ndarray | None = None) -> FeatureTable:
    """A feature table holding only a response (no layers)."""
    n = len(response)
    e = np.full(n, 1e4) if e_inc is None else e_inc
    empty = np.zeros((n, 0))
    return FeatureTable(e, response * e, empty, empty, empty, empty, empty, empty, empty, empty)


def _pair(n: int, seed: int, shift: float = 0.05) -> tuple[FeatureTable, FeatureTable]:
    rng = np.random.default_rng(seed)
    return _table(rng.normal(1.0, 0.1, n)), _table(rng.normal(1.0 + shift, 0.1, n))


def test_binned_counts_equal_the_histograms(tiny_geometry: Geometry) -> None:
    rng = np.random.default_rng(3)
    showers = rng.exponential(1.0, (300, tiny_geometry.n_voxels)) * (rng.random((300, tiny_geometry.n_voxels)) > 0.5)
    table = features_of(showers, rng.uniform(1e3, 1e4, 300), tiny_geometry)
    specs = histogram_specs(table, "other", 0.0)
    binned = BinnedSample.build(specs, table)
    hists = fill_all(specs, table)
    rows = rng.integers(0, 300, 300)
    resampled = fill_all(specs, table.subset(rows))
    for j, spec in enumerate(specs):  # sparsity values sit exactly on bin edges: np.histogram's rule is kept
        lo, hi = binned.offsets[j], binned.offsets[j + 1]
        assert binned.counts(np.arange(300))[lo:hi].tolist() == hists[spec.name].counts.tolist(), spec.name
        assert binned.counts(rows)[lo:hi].tolist() == resampled[spec.name].counts.tolist(), spec.name
    assert np.array_equal(binned.block_counts([rows])[0], binned.counts(rows))


def test_mean_error_matches_the_analytic_standard_error() -> None:
    x = np.random.default_rng(0).normal(5.0, 2.0, 2000)
    err = bootstrap_mean_error(x, n_replicates=400, seed=1)
    assert err == pytest.approx(2.0 / math.sqrt(2000), rel=0.1)


def test_response_errors_match_the_analytic_ones() -> None:
    rng = np.random.default_rng(1)
    e_inc = rng.choice([1e3, 1e4], 4000)
    gen = _table(rng.normal(1.0, 0.1, 4000), e_inc)
    edges = np.array([500.0, 3e3, 2e4])
    errors = bootstrap_errors([SPEC], gen, gen, response_edges=edges, n_replicates=300, seed=2)
    analytic = response_table(gen.e_inc, gen.response, edges)
    np.testing.assert_allclose(errors.response_mean, analytic.mean_error, rtol=0.15)
    np.testing.assert_allclose(errors.response_resolution, analytic.resolution_error, rtol=0.2)


def test_errors_shrink_as_one_over_root_n() -> None:
    small = bootstrap_errors([SPEC], *_pair(1000, 5), n_replicates=300, seed=0)
    large = bootstrap_errors([SPEC], *_pair(4000, 6), n_replicates=300, seed=0)
    assert small.separation_power["response"] / large.separation_power["response"] == pytest.approx(2.0, rel=0.2)
    assert small.separation_power_mean / large.separation_power_mean == pytest.approx(2.0, rel=0.2)


def test_bootstrap_error_is_the_sample_to_sample_spread() -> None:
    ref_edges = SPEC.edges
    spread = np.std([separation_power(fill(r.response, ref_edges).counts, fill(g.response, ref_edges).counts)
                     for r, g in (_pair(1000, 100 + i) for i in range(60))], ddof=1)
    err = bootstrap_errors([SPEC], *_pair(1000, 7), n_replicates=200, seed=0).separation_power["response"]
    assert err == pytest.approx(spread, rel=0.35)


def test_seeded_and_reproducible() -> None:
    ref, gen = _pair(500, 8)
    a = bootstrap_errors([SPEC], ref, gen, n_replicates=30, seed=4)
    assert a == bootstrap_errors([SPEC], ref, gen, n_replicates=30, seed=4)
    assert a.separation_power != bootstrap_errors([SPEC], ref, gen, n_replicates=30, seed=5).separation_power


def test_summary_errors_hold_other_histograms_fixed() -> None:
    ref, gen = _pair(800, 9)
    fixed = compare_histogram("voxel_energy", "voxel_energy", fill(np.ones(3), SPEC.edges), fill(np.ones(3), SPEC.edges))
    nominal = {"response": compare_histogram("response", "response", fill(ref.response, SPEC.edges),
                                             fill(gen.response, SPEC.edges)), "voxel_energy": fixed}
    alone = bootstrap_errors([SPEC], ref, gen, n_replicates=50, seed=0)
    both = bootstrap_errors([SPEC], ref, gen, nominal=nominal, n_replicates=50, seed=0)
    assert both.separation_power_mean == pytest.approx(alone.separation_power_mean / 2)  # mean over 2, one fixed
    assert set(both.separation_power_by_family) == {"response"}


def test_bad_replicate_counts_are_refused() -> None:
    ref, gen = _pair(50, 0)
    with pytest.raises(ValueError, match="at least 2 replicates"):
        bootstrap_errors([SPEC], ref, gen, n_replicates=1)
    with pytest.raises(ValueError, match="bootstrap must be 0"):
        EvaluationConfig(bootstrap=1)
    assert math.isnan(float(replicate_std(np.array([1.0, np.nan]))))


def test_metrics_json_carries_the_errors(tmp_path: Path, shower_file: Callable[..., Path]) -> None:
    ref, gen = shower_file("ref.h5", n=300, seed=1), shower_file("gen.h5", n=300, seed=2)
    cfg = EvaluationConfig(classifier="none", distances="none", plots=False, bootstrap=20)
    evaluate(ref, {"model": gen}, tmp_path / "out", cfg)
    g = json.loads((tmp_path / "out" / "metrics.json").read_text())["generated"]["model"]
    assert list(g["histograms"]["response"])[:3] == ["family", "separation_power", "separation_power_err"]
    assert g["histograms"]["response"]["separation_power_err"] > 0
    assert g["histograms"]["voxel_energy"]["separation_power_err"] is None  # filled while streaming: not resampled
    assert g["summary"]["separation_power_mean_err"] > 0
    assert g["summary"]["bootstrap_replicates"] == 20
    assert set(g["summary"]["separation_power_by_family_err"]) <= set(g["summary"]["separation_power_by_family"])
    assert len(g["response"]["mean_bootstrap_err"]) == len(g["response"]["mean"])
    html = (tmp_path / "out" / "report.html").read_text()
    assert "±" in html
    assert "20 bootstrap" in html
    evaluate(ref, {"model": gen}, tmp_path / "none", EvaluationConfig(classifier="none", distances="none", plots=False,
                                                                        bootstrap=0))
    g0 = json.loads((tmp_path / "none" / "metrics.json").read_text())["generated"]["model"]
    assert g0["summary"]["separation_power_mean_err"] is None
    assert g0["response"]["mean_bootstrap_err"] == []

"""CaloChallenge binning rules and histogram filling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from caloforge.data import ShowerData
from caloforge.evaluation import compute_features
from caloforge.evaluation.histograms import feature_values, fill, histogram_specs
from caloforge.evaluation.scan import _log_bin_index
from caloforge.geometry import get_geometry


def _specs(name: str, kind: str, threshold: float) -> dict[str, object]:
    g = get_geometry(name)
    rng = np.random.default_rng(0)
    showers = (rng.gamma(0.5, 20, (50, g.n_voxels)) * (rng.random((50, g.n_voxels)) < 0.4)).astype(np.float32)
    t = compute_features([ShowerData(np.full(50, 2.0**12), showers, g)], g, threshold)
    return {s.name: s for s in histogram_specs(t, kind, threshold, particle=g.particle)}  # type: ignore[arg-type]


def test_dataset1_rules() -> None:
    specs = _specs("calochallenge-1-photons", "calochallenge-1", 1.0)
    assert (specs["ec_x_1"].edges[0], specs["ec_x_1"].edges[-1], len(specs["ec_x_1"].edges)) == (-100, 100, 101)
    assert specs["ec_r_12"].edges[-1] == 1500
    assert specs["width_r_3"].edges[-1] == 500
    assert "ec_x_12" not in specs  # layer 12 of the photons has no angular bins
    e = specs["e_layer_2"].edges
    assert len(e) == 40
    assert e[0] == pytest.approx(1.0)
    assert specs["response_E256"].energy_range == (256.0, 512.0)
    assert specs["response_E8192"].edges[0] == pytest.approx(0.9)  # photons above the fourth energy


def test_dataset2_rules() -> None:
    specs = _specs("calochallenge-2", "calochallenge-2", 0.5e-3 / 0.033)
    assert (specs["ec_y_0"].edges[0], specs["ec_y_0"].edges[-1]) == (-30, 30)
    assert specs["width_x_44"].edges[-1] == 30
    assert specs["ec_r_7"].edges[-1] == 42
    assert specs["width_r_7"].edges[-1] == 20
    assert len(specs["sparsity_3"].edges) == 21
    assert specs["response"].edges[0] == 0.5
    assert len(specs["response"].edges) == 101
    assert not any(n.startswith("response_E") for n in specs)


def test_fill_under_overflow_nan() -> None:
    h = fill(np.array([-1.0, 0.0, 0.5, 1.0, 2.0, np.nan]), np.array([0.0, 0.5, 1.0]))
    assert h.counts.tolist() == [1, 2]
    assert (h.underflow, h.overflow, h.n_nan) == (1, 1, 1)
    assert h.outside_fraction == pytest.approx(0.5)


def test_log_bin_index_matches_numpy() -> None:
    rng = np.random.default_rng(0)
    edges = np.logspace(np.log10(0.01515), 3.2, 50)
    values = np.concatenate([np.exp(rng.uniform(np.log(0.01), np.log(3000), 100_000)), edges]).astype(np.float32)
    idx = _log_bin_index(values, edges)
    counts = np.bincount(idx[idx >= 0], minlength=49)
    expected, _ = np.histogram(values, edges)
    np.testing.assert_array_equal(counts, expected)


def test_feature_values_energy_slice(tiny_geometry: object) -> None:
    from caloforge.evaluation.histograms import HistSpec
    from tests.conftest import make_showers

    d = make_showers(tiny_geometry, 40)  # type: ignore[arg-type]
    t = compute_features([d], tiny_geometry, 0.0)  # type: ignore[arg-type]
    spec = HistSpec("r", "response", None, np.linspace(0, 2, 3), energy_range=(1e3, 1e4))
    assert len(feature_values(t, spec)) == int(((d.energies >= 1e3) & (d.energies < 1e4)).sum())


@pytest.mark.slow
def test_geant4_halves_indistinguishable(g4_file: Path) -> None:
    from caloforge.data import ShowerFile
    from caloforge.evaluation import ClassifierConfig, classifier_test, hlf_vector
    from caloforge.evaluation.scan import scan_showers

    with ShowerFile(g4_file) as f:
        t = scan_showers(f.iter_chunks(5000, validate=False), f.geometry, 0.5e-3 / 0.033).features
    x = hlf_vector(t)
    r = classifier_test(x[::2], x[1::2], ClassifierConfig.preset("fast"))
    assert abs(r.auc - 0.5) < 0.05

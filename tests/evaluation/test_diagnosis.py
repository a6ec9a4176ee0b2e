"""What gives a sample away: a deliberately distorted feature family must come out first."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest

from caloforge.evaluation.compare import fill_all
from caloforge.evaluation.diagnosis import Diagnosis, diagnose, energy_bin_diagnosis, noise_floor
from caloforge.evaluation.features import FeatureTable, features_of, hlf_groups, hlf_vector
from caloforge.evaluation.histograms import Histogram, histogram_specs
from caloforge.evaluation.importance import PermutationImportance
from caloforge.evaluation.metrics import separation_power
from caloforge.geometry import Geometry
from tests.conftest import make_showers


def _features(geometry: Geometry, n: int, seed: int) -> FeatureTable:
    data = make_showers(geometry, n, seed)
    return features_of(data.showers, data.energies, geometry)


def _widen_r(t: FeatureTable) -> None:
    t.width_r = t.width_r * 1.3


def _more_zeros(t: FeatureTable) -> None:
    t.sparsity = np.clip(t.sparsity + 0.08, 0.0, 1.0)


def _scale_layers(t: FeatureTable) -> None:
    t.e_layer = t.e_layer * 2.0


def _diagnose(ref: FeatureTable, gen: FeatureTable, **kwargs: object) -> Diagnosis:
    specs = histogram_specs(ref, "other", 0.0)
    return diagnose(specs, fill_all(specs, ref), fill_all(specs, gen), ref, gen, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("family", "distort"), [("width_r", _widen_r), ("sparsity", _more_zeros), ("e_layer", _scale_layers)]
)
def test_distorted_family_ranks_first(
    tiny_geometry: Geometry, family: str, distort: Callable[[FeatureTable], None]
) -> None:
    ref, gen = _features(tiny_geometry, 1500, 1), _features(tiny_geometry, 1500, 2)
    distort(gen)
    d = _diagnose(ref, gen)
    assert d.families[0].family == family
    assert d.top(1)[0].worst.family == family
    assert d.observables[0].family == family
    assert d.families[0].excess > 0.05
    assert all(abs(f.excess) < 0.02 for f in d.families[1:])  # the others sit at their statistical floor
    ranked = [b for b in d.energy_bins if b.worst is not None]
    assert len(ranked) == 5  # ~300 showers per log bin
    assert all(b.worst_family == family for b in ranked)
    assert sum(b.n_reference for b in d.energy_bins) == len(ref)


def test_same_distribution_sits_at_the_floor(tiny_geometry: Geometry) -> None:
    ref, gen = _features(tiny_geometry, 1500, 1), _features(tiny_geometry, 1500, 2)
    d = _diagnose(ref, gen)
    assert all(abs(f.excess) < 0.02 for f in d.families)
    assert all(f.separation_power > 0 for f in d.families if f.family != "sparsity")  # raw values are not 0
    assert {f.family for f in d.families} == {"response", "e_layer", "ec_x", "ec_y", "width_x", "width_y", "ec_r",
                                               "width_r", "sparsity"}


def test_noise_floor_is_a_quantile_of_the_null_distribution() -> None:
    rng = np.random.default_rng(0)
    edges = np.linspace(-3.0, 3.0, 41)
    seps, floors, medians = [], [], []
    for _ in range(400):
        a, b = (Histogram(np.histogram(rng.normal(size=n), edges)[0]) for n in (400, 300))
        seps.append(separation_power(a.counts, b.counts))
        floors.append(noise_floor(a, b))
        medians.append(noise_floor(a, b, quantile=0.5))
    assert np.mean(np.array(seps) < np.array(floors)) > 0.97
    assert np.median(seps) == pytest.approx(np.median(medians), rel=0.1)
    assert np.isnan(noise_floor(Histogram(np.zeros(3, np.int64)), Histogram(np.ones(3, np.int64))))
    assert noise_floor(Histogram(np.array([5, 0])), Histogram(np.array([7, 0]))) == 0.0


def test_small_energy_bins_are_not_ranked(tiny_geometry: Geometry) -> None:
    ref, gen = _features(tiny_geometry, 200, 1), _features(tiny_geometry, 200, 2)
    specs = histogram_specs(ref, "other", 0.0)
    edges = np.array([1e3, 1.2e3, 1e5])  # the first bin holds a handful of showers
    rows = energy_bin_diagnosis(specs, ref, gen, edges, min_showers=30)
    assert rows[0].worst is None
    assert rows[0].families == {}
    assert rows[1].worst is not None
    assert rows[1].n_reference + rows[0].n_reference == len(ref)


def test_json_form_with_importance(tiny_geometry: Geometry) -> None:
    ref, gen = _features(tiny_geometry, 300, 1), _features(tiny_geometry, 300, 2)
    _widen_r(gen)
    imp = PermutationImportance(0.9, 240, {"width_r": 0.3, "e_inc": 0.0, "sparsity": 0.01})
    d = _diagnose(ref, gen, importance=imp)
    data = json.loads(json.dumps(d.to_dict(), allow_nan=False))
    assert data["top"][0] == "width_r"
    first = data["families"][0]
    assert first["auc_drop"] == 0.3
    assert first["worst"].startswith("width_r_")
    assert data["permutation_importance"]["ranking"][0] == "width_r"
    assert next(f for f in data["families"] if f["family"] == "ec_x")["auc_drop"] is None
    assert len(data["observables"]) == len(d.observables)


def test_hlf_groups_tile_the_feature_vector(tiny_geometry: Geometry) -> None:
    table = _features(tiny_geometry, 5, 0)
    groups = hlf_groups(table)
    cols = np.concatenate([np.arange(s.start, s.stop) for s in groups.values()])
    assert cols.tolist() == list(range(hlf_vector(table).shape[1]))
    np.testing.assert_allclose(hlf_vector(table)[:, groups["sparsity"]], table.sparsity)
    assert groups["e_layer"].stop - groups["e_layer"].start == tiny_geometry.n_layers

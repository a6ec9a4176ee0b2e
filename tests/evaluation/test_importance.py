"""Permutation importance of the high-level classifier: large for a distorted family, about 0 elsewhere."""

from __future__ import annotations

import numpy as np
import pytest

from caloforge.evaluation.classifier import ClassifierConfig, TrainedClassifier, classifier_test
from caloforge.evaluation.features import FeatureTable, features_of, hlf_groups, hlf_vector
from caloforge.evaluation.importance import ImportanceCollector, PermutationImportance, permutation_importance
from caloforge.geometry import Geometry
from tests.conftest import make_showers


def _features(geometry: Geometry, n: int, seed: int) -> FeatureTable:
    data = make_showers(geometry, n, seed)
    return features_of(data.showers, data.energies, geometry)


def test_distorted_family_drops_the_auc(tiny_geometry: Geometry) -> None:
    ref, gen = _features(tiny_geometry, 1500, 1), _features(tiny_geometry, 1500, 2)
    gen.width_r = gen.width_r * 1.3
    runs: list[TrainedClassifier] = []
    result = classifier_test(hlf_vector(gen), hlf_vector(ref), ClassifierConfig(), on_trained=runs.append)
    assert len(runs) == 1
    imp = permutation_importance(runs[0], hlf_groups(ref))
    assert imp.auc > 0.9
    assert imp.auc == pytest.approx(result.auc_uncalibrated, abs=0.02)  # the same held-out split, raw output
    assert imp.ranking()[0][0] == "width_r"
    assert imp.auc_drop["width_r"] > 0.3
    assert all(abs(v) < 0.03 for k, v in imp.auc_drop.items() if k != "width_r")
    assert imp.n_events == len(runs[0].labels)


def test_hook_leaves_the_result_unchanged_and_sees_every_run(tiny_geometry: Geometry) -> None:
    x_ref, x_gen = hlf_vector(_features(tiny_geometry, 200, 1)), hlf_vector(_features(tiny_geometry, 200, 2))
    cfg = ClassifierConfig(epochs=2, repeats=2)
    collect = ImportanceCollector(hlf_groups(_features(tiny_geometry, 2, 0)))
    with_hook = classifier_test(x_gen, x_ref, cfg, on_trained=collect)
    without = classifier_test(x_gen, x_ref, cfg)
    assert with_hook.auc == without.auc
    assert with_hook.runs == without.runs
    merged = collect.result()
    assert merged is not None
    assert merged.runs == 2
    assert len(collect.runs) == 2
    assert merged.auc_drop["e_layer"] == pytest.approx(np.mean([r.auc_drop["e_layer"] for r in collect.runs]))
    assert ImportanceCollector({}).result() is None


def test_mean_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no permutation importance"):
        PermutationImportance.mean([])

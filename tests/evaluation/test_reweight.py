"""Classifier reweighting: a known density ratio is recovered; weight normalisation, clipping and ESS."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from caloforge.evaluation.classifier import ClassifierConfig
from caloforge.evaluation.reweight import (
    ReweightConfig,
    effective_sample_size,
    fit_reweighter,
    normalise_weights,
)

_FAST = ClassifierConfig(recipe="reweight", hidden=(64, 64), epochs=30, patience=5, max_events=None)


@pytest.mark.parametrize("calibration", ["platt", "temperature"])
def test_recovers_the_density_ratio_of_two_gaussians(calibration: str) -> None:
    rng = np.random.default_rng(3)
    n = 8000
    reference = rng.normal(0.0, 1.0, (n, 1))
    generated = rng.normal(0.5, 1.2, (n, 1))
    reweighter, info = fit_reweighter(generated, reference, ReweightConfig(_FAST, calibration=calibration))  # type: ignore[arg-type]
    x = rng.normal(0.5, 1.2, (4000, 1))  # fresh generated showers
    w, _ = normalise_weights(reweighter.ratio(x), clip=10.0)
    truth = stats.norm.pdf(x[:, 0], 0.0, 1.0) / stats.norm.pdf(x[:, 0], 0.5, 1.2)
    truth /= truth.mean()
    assert np.corrcoef(w, truth)[0, 1] > 0.95
    assert np.mean(np.abs(w - truth)) < 0.12
    # the weighted generated sample has the reference's mean and width
    mean = np.average(x[:, 0], weights=w)
    assert abs(mean) < 0.08
    assert abs(np.sqrt(np.average((x[:, 0] - mean) ** 2, weights=w)) - 1.0) < 0.12
    assert info.validation_auc > 0.58
    assert abs(info.validation_auc_weighted - 0.5) < 0.03
    assert info.n_train + info.n_validation + info.n_calibration == 2 * n


def test_identical_samples_give_flat_weights() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(3000, 2)), rng.normal(size=(3000, 2))
    reweighter, _ = fit_reweighter(a, b, ReweightConfig(_FAST))
    w, _ = normalise_weights(reweighter.ratio(rng.normal(size=(2000, 2))))
    assert effective_sample_size(w) > 0.95 * len(w)


def test_normalise_weights_clips_at_a_multiple_of_the_median() -> None:
    raw = np.concatenate([np.ones(99), [1e4]])
    w, n_clipped = normalise_weights(raw, clip=5.0)
    assert n_clipped == 1
    assert w.mean() == pytest.approx(1.0, rel=1e-6)
    assert w.max() / np.median(w) == pytest.approx(5.0, rel=1e-5)
    for bad in (np.zeros(3), np.array([1.0, np.nan]), np.array([-1.0, 2.0]), np.zeros(0)):
        with pytest.raises(ValueError, match="weights"):
            normalise_weights(bad)


def test_effective_sample_size() -> None:
    assert effective_sample_size(np.ones(50)) == pytest.approx(50.0)
    assert effective_sample_size(np.array([0.0, 0.0, 3.0])) == pytest.approx(1.0)
    assert effective_sample_size(np.array([1.0, 3.0])) == pytest.approx(16 / 10)


def test_config_and_input_errors() -> None:
    with pytest.raises(ValueError, match="clip"):
        ReweightConfig(clip=1.0)
    with pytest.raises(ValueError, match="calibration"):
        ReweightConfig(calibration="magic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fraction"):
        ReweightConfig(train_fraction=0.8, validation_fraction=0.2)
    with pytest.raises(ValueError, match="shape"):
        fit_reweighter(np.zeros((100, 2)), np.zeros((100, 3)))
    with pytest.raises(ValueError, match="at least 10"):
        fit_reweighter(np.zeros((20, 2)), np.zeros((20, 2)))
    with pytest.raises(ValueError, match="NaN"):
        fit_reweighter(np.full((100, 2), np.nan), np.zeros((100, 2)))

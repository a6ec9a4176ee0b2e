"""Classifier test: AUC ≈ 0.5 for one distribution, ≈ 1 for clearly different ones; repeats; calibration helpers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from caloforge.evaluation import ClassifierConfig, EvaluationConfig, classifier_test
from caloforge.evaluation.classifier import _single_test, isotonic_fit, roc_auc

FAST = ClassifierConfig.preset("fast", hidden=(32,), epochs=8, patience=3)
QUICK = ClassifierConfig.preset("fast", hidden=(16,), epochs=3, patience=3, batch_size=150, lr=3e-2)


def test_same_distribution_auc_half() -> None:
    rng = np.random.default_rng(0)
    r = classifier_test(rng.normal(size=(1200, 4)), rng.normal(size=(1200, 4)), FAST)
    assert abs(r.auc - 0.5) < 0.08
    assert abs(r.jsd) < 0.05


def test_different_distributions_auc_one() -> None:
    rng = np.random.default_rng(0)
    r = classifier_test(rng.normal(size=(1500, 5)), rng.normal(3.0, 1.0, size=(1500, 5)), FAST)
    assert r.auc > 0.97
    assert r.jsd > 0.7


def test_unbalanced_and_bad_inputs() -> None:
    rng = np.random.default_rng(0)
    r = classifier_test(rng.normal(size=(300, 3)), rng.normal(size=(900, 3)), FAST)
    assert r.n_train == 180
    with pytest.raises(ValueError, match="width"):
        classifier_test(np.zeros((20, 3)), np.zeros((20, 4)), FAST)
    with pytest.raises(ValueError, match="NaN"):
        classifier_test(np.full((20, 3), np.nan), np.zeros((20, 3)), FAST)


def test_official_preset() -> None:
    cfg = ClassifierConfig.preset("official")
    assert (cfg.hidden, cfg.lr, cfg.batch_size, cfg.epochs, cfg.max_events) == ((2048,) * 3, 2e-4, 1000, 50, None)
    with pytest.raises(ValueError, match="choices"):
        ClassifierConfig.preset("slow")  # type: ignore[arg-type]


def test_roc_auc_with_ties() -> None:
    assert roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)
    assert roc_auc(np.array([0, 1]), np.array([0.5, 0.5])) == pytest.approx(0.5)


def test_isotonic_is_monotone_and_clipped() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(size=500)
    y = (rng.uniform(size=500) < x).astype(float)
    f = isotonic_fit(x, y, y_min=1e-6, y_max=1 - 1e-6)
    grid = np.linspace(-1, 2, 301)
    p = f(grid)
    assert np.all(np.diff(p) >= 0)
    assert p.min() >= 1e-6
    assert p.max() <= 1 - 1e-6
    # least-squares property of PAV: the fitted training values have mean equal to the labels' mean
    assert f(x).mean() == pytest.approx(y.mean(), abs=1e-6)


def _overlapping(n: int = 250) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.normal(size=(n, 3)), rng.normal(0.7, 1.0, size=(n, 3))


def test_single_run_is_the_plain_test() -> None:
    gen, ref = _overlapping()
    r = classifier_test(gen, ref, QUICK)
    plain = _single_test(gen, ref, QUICK)  # the unrepeated code path
    assert (r.auc, r.jsd, r.accuracy, r.best_epoch, r.history) == (
        plain.auc, plain.jsd, plain.accuracy, plain.best_epoch, plain.history)
    assert (r.repeats, r.auc_std, r.jsd_std) == (1, 0.0, 0.0)
    assert r.runs == [{"seed": 0, "auc": r.auc, "jsd": r.jsd, "best_epoch": r.best_epoch, "learned": True}]


def test_repeats_average_reseeded_runs() -> None:
    gen, ref = _overlapping()
    r = classifier_test(gen, ref, replace(QUICK, seed=5, repeats=3))
    singles = [classifier_test(gen, ref, replace(QUICK, seed=s)) for s in (5, 6, 7)]
    assert r.repeats == 3
    assert [run["seed"] for run in r.runs] == [5, 6, 7]
    assert [run["auc"] for run in r.runs] == [s.auc for s in singles]
    assert r.auc == pytest.approx(np.mean([s.auc for s in singles]), abs=1e-12)
    assert r.jsd == pytest.approx(np.mean([s.jsd for s in singles]), abs=1e-12)
    assert r.auc_std == pytest.approx(np.std([s.auc for s in singles], ddof=1), abs=1e-12)
    assert 0 < r.auc_std < 0.15
    assert r.jsd_std > 0
    assert 0.6 < r.auc < 0.95
    assert (r.best_epoch, r.history) == (singles[0].best_epoch, singles[0].history)
    assert set(r.to_dict()) >= {"auc_std", "jsd_std", "repeats", "runs"}


@pytest.mark.parametrize("repeats", [0, -1, 1.5, True])
def test_invalid_repeats(repeats: object) -> None:
    with pytest.raises(ValueError, match="repeats"):
        ClassifierConfig(repeats=repeats)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="classifier_repeats"):
        EvaluationConfig(classifier_repeats=repeats)  # type: ignore[arg-type]
    assert EvaluationConfig(classifier_repeats=4).classifier_config().repeats == 4  # type: ignore[union-attr]


def test_a_classifier_that_never_learned_is_flagged_not_read_as_indistinguishable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rng = np.random.default_rng(3)
    gen, ref = rng.normal(size=(1500, 4)), rng.normal(scale=1.6, size=(1500, 4))  # separable by |x| only
    frozen = ClassifierConfig.preset("fast", hidden=(32, 32), epochs=4, patience=None, lr=0.0)
    stuck = classifier_test(gen, ref, frozen)
    assert len(set(stuck.history)) == 1  # lr 0: the test accuracy never moves
    assert not stuck.learned
    assert stuck.verdict is not None
    assert stuck.verdict.startswith("did not learn")
    assert stuck.to_dict()["learned"] is False
    assert "did not learn" in caplog.text
    repeated = classifier_test(gen, ref, replace(frozen, repeats=2))
    assert not repeated.learned
    assert [r["learned"] for r in repeated.runs] == [False, False]
    trained = classifier_test(gen, ref, ClassifierConfig.preset("fast", hidden=(32, 32), epochs=15, lr=1e-2))
    assert trained.auc > 0.6
    assert trained.learned
    assert trained.verdict is None


def test_did_learn_rule() -> None:
    from caloforge.evaluation.classifier import did_learn

    assert not did_learn([0.5, 0.49, 0.5], 0.495, 1000)  # flat and at chance
    assert did_learn([0.5, 0.51], 0.5, 1000)  # the test accuracy rose
    assert did_learn([0.9], 0.95, 1000)  # learned within the first epoch
    assert not did_learn([0.5], 0.52, 100)  # 0.02 off chance is noise for 100 showers
    assert did_learn([0.5], 0.52, 100_000)  # but not for 100k

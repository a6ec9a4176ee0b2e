"""Evaluation settings and comparison-table numbers of a repeated classifier test."""

from __future__ import annotations

import math
from typing import Any

from caloforge.config import from_dict
from caloforge.evaluation import (
    ClassifierResult,
    ComparisonSummary,
    EvaluationConfig,
    ResponseTable,
    SampleReport,
    SkippedTest,
    WorstFeature,
)
from caloforge.evaluation.plots.markup import auc_span
from caloforge.pipeline.stages import _summary


def _result(auc: float, **kw: Any) -> ClassifierResult:
    return ClassifierResult(auc=auc, jsd=0.1, accuracy=0.6, auc_uncalibrated=auc, jsd_uncalibrated=0.1, best_epoch=1,
                            n_train=10, n_validation=5, **kw)


def _generated(**high: Any) -> SampleReport:
    summary = ComparisonSummary(3, 0, 0.1, 0.1, 0.3, 1.0, {}, [WorstFeature("response", 0.3)])
    table = ResponseTable([], [], [], [], [], [], [])
    return SampleReport("g.h5", 100, summary, table, classifier={"low": _result(0.7), "high": _result(0.93, **high)})


def test_evaluate_settings_accept_classifier_repeats() -> None:
    config = from_dict(EvaluationConfig, {"classifier": "fast", "classifier_repeats": 3}, where="evaluate.settings")
    assert config.classifier_config().repeats == 3  # type: ignore[union-attr]


def test_auc_spread_only_for_repeated_tests() -> None:
    single = _summary(_generated(repeats=1, auc_std=0.0))
    assert (single["auc_low"], single["auc_high"]) == (0.7, 0.93)
    assert "auc_low_std" not in single
    assert "auc_high_std" not in single
    repeated = _summary(_generated(repeats=3, auc_std=0.006))
    assert repeated["auc_high_std"] == 0.006
    assert "auc_low_std" not in repeated
    assert auc_span(0.93) == '<span class="bad">0.930</span>'
    assert auc_span(0.93, 0.006) == '<span class="bad">0.930 ± 0.006</span>'


def test_summary_of_skipped_tests_and_empty_comparisons() -> None:
    sample = _generated()
    sample.classifier["low"] = SkippedTest("too few showers")
    sample.summary = ComparisonSummary(2, 2, math.nan, math.nan, math.nan, math.nan)
    row = _summary(sample)
    assert row["auc_low"] is None
    assert row["auc_high"] == 0.93
    assert (row["separation_power_mean"], row["worst_feature"], row["fpd"]) == (None, None, None)


def test_index_verdict_names_the_best_model_and_what_gives_it_away() -> None:
    from caloforge.evaluation.plots.verdict import verdict_html
    from caloforge.pipeline.report import summary_line, verdicts

    good = {"label": "good", **_summary(_generated(repeats=1, auc_std=0.0))}
    bad = {**good, "label": "bad", "verdict_auc": 0.99, "gives_away": ["sparsity"]}
    page = verdict_html(verdicts([bad, good]))
    assert page.index("good</b> <mark>best</mark>") > 0
    assert "sparsity" in page
    assert good["verdict_auc"] == 0.93  # the most sensitive test that ran
    line = summary_line({**good, "train_seconds": 2530.0, "torch_ms_per_shower": 0.123})
    assert "AUC 0.700 (voxels) / 0.930 (high-level)" in line
    assert "42.2 min" in line

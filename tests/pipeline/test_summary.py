"""Evaluation settings and comparison-table numbers of a repeated classifier test."""

from __future__ import annotations

from typing import Any

from caloforge.config import from_dict
from caloforge.evaluation import EvaluationConfig
from caloforge.pipeline.report import _auc
from caloforge.pipeline.stages import _summary


def _generated(**high: Any) -> dict[str, Any]:
    return {
        "summary": {"separation_power_mean": 0.1, "separation_power_max": 0.3, "worst": [{"name": "response"}]},
        "classifier": {"low": {"auc": 0.7, "repeats": 1, "auc_std": 0.0}, "high": {"auc": 0.93, **high}},
    }


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
    assert _auc(0.93) == '<span class="bad">0.930</span>'
    assert _auc(0.93, 0.006) == '<span class="bad">0.930 ± 0.006</span>'

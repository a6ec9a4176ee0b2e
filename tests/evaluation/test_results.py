"""The typed results keep the ``metrics.json`` layout that readers (docs, the model zoo) rely on."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

from caloforge.evaluation import (
    BaselineReport,
    ClassifierResult,
    ComparisonSummary,
    EvaluationConfig,
    EvaluationReport,
    ReferenceInfo,
    ResponseTable,
    SampleReport,
    SkippedTest,
    WorstFeature,
    run_evaluation,
)
from caloforge.evaluation.metrics import DistanceResult

SAMPLE_KEYS = ["path", "n_events", "n_invalid", "invalid_fraction", "n_negative_voxels", "n_classifier_voxel_subset",
               "flags", "summary", "histograms", "response"]
SUMMARY_KEYS = ["n_histograms", "n_empty", "separation_power_mean", "separation_power_mean_err",
                "separation_power_median", "separation_power_max", "chi2_ndf_median", "chi2_ndf_median_err",
                "separation_power_by_family", "separation_power_by_family_err", "worst", "bootstrap_replicates"]


def _sample() -> SampleReport:
    summary = ComparisonSummary(2, 1, 0.2, 0.2, 0.3, math.nan, {"response": 0.2}, [WorstFeature("response", 0.3)])
    table = ResponseTable([1e3], [1e4], [10.0], [1.0], [0.01], [0.1], [0.02])
    high = ClassifierResult(0.7, 0.2, 0.6, 0.71, 0.19, 3, 100, 20, recipe="fast")
    return SampleReport("g.h5", 10, summary, table, n_invalid=1, fpd=DistanceResult(0.1, 0.01, {"n": 1}),
                        kpd=DistanceResult(0.2, 0.02, {}), classifier={"low": SkippedTest("too few"), "high": high})


def test_sample_layout() -> None:
    data = _sample().to_dict()
    assert list(data) == [*SAMPLE_KEYS, "fpd", "kpd", "classifier"]
    assert list(data["summary"]) == SUMMARY_KEYS
    assert data["summary"]["worst"] == [{"name": "response", "separation_power": 0.3}]
    assert data["invalid_fraction"] == 0.1
    assert data["classifier"]["low"] == {"skipped": "too few"}
    assert next(iter(data["classifier"]["high"])) == "recipe"
    assert data["fpd"] == {"value": 0.1, "error": 0.01, "settings": {"n": 1}}
    assert list(data["response"]) == ["e_low", "e_high", "n", "mean", "mean_error", "mean_bootstrap_err", "resolution",
                                      "resolution_error", "resolution_bootstrap_err"]


def test_report_json_is_strict_and_holds_the_diagnosis_apart(tmp_path: Path) -> None:
    sample = _sample()
    baseline = BaselineReport(50, sample.summary)
    report = EvaluationReport({"threshold_mev": 0.5}, ReferenceInfo("r.h5", 100, "toy"), {"g": sample}, baseline)
    report.write_json(tmp_path / "metrics.json")
    data = json.loads((tmp_path / "metrics.json").read_text())
    assert list(data) == ["caloforge_version", "settings", "reference", "generated", "baseline", "flags", "timing_s",
                          "diagnosis"]
    assert data["generated"]["g"]["summary"]["chi2_ndf_median"] is None  # NaN → null
    assert data["baseline"] == {"n_per_half": 50, "summary": data["generated"]["g"]["summary"]}
    assert data["diagnosis"] == {}
    assert sample.classifier_result("low") is None
    assert sample.classifier_result("high") is sample.classifier["high"]


def test_evaluation_fills_the_layout(shower_file: Callable[..., Path]) -> None:
    ref = shower_file("ref.h5", n=80)
    config = EvaluationConfig(classifier="none", distances="none", plots=False)
    report, _ = run_evaluation(ref, {"g": shower_file("g.h5", n=80, seed=2)}, config)
    data = report.to_dict()
    assert list(data["generated"]["g"]) == [*SAMPLE_KEYS, "classifier", "hits"]  # no FPD/KPD without distances
    assert data["generated"]["g"]["classifier"] == {}
    assert set(data["diagnosis"]) == {"g"}
    sample = report.generated["g"]
    assert sample.summary.n_histograms == len(sample.histograms)
    assert sample.summary.worst_name == sample.summary.worst[0].name
    assert math.isclose(sample.summary.separation_power_max,
                        max(h.separation_power for h in sample.histograms.values() if math.isfinite(h.separation_power)))

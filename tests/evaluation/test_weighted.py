"""Weighted evaluation: weighted histograms with √Σw² errors, ESS, before/after rows in metrics.json and report.html."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from caloforge.data import write_showers
from caloforge.evaluation import EvaluationConfig, evaluate
from caloforge.evaluation.compare import compare_histogram, response_table
from caloforge.evaluation.histograms import fill
from caloforge.evaluation.weighted import WeightStats
from caloforge.geometry import Geometry

from ..conftest import make_showers


def test_weighted_histogram_errors_and_separation() -> None:
    edges = np.array([0.0, 1.0, 2.0])
    ref = fill(np.array([0.5, 0.5, 1.5, 1.5]), edges)
    gen = fill(np.array([0.5, 1.5, 1.5, 1.5]), edges, weights=np.array([3.0, 1.0, 1.0, 1.0]))
    assert gen.normalised().tolist() == [0.5, 0.5]
    np.testing.assert_allclose(gen.errors(), np.sqrt([9.0, 3.0]) / 6.0)
    unweighted = compare_histogram("x", "x", ref, fill(np.array([0.5, 1.5, 1.5, 1.5]), edges))
    weighted = compare_histogram("x", "x", ref, gen)
    assert unweighted.separation_power > 0.05
    assert weighted.separation_power == pytest.approx(0.0)
    assert weighted.chi2 == pytest.approx(0.0)


def test_weighted_response_and_ess() -> None:
    e = np.full(4, 1e3)
    table = response_table(e, np.array([0.9, 0.9, 1.1, 1.1]), np.array([500.0, 2e3]), np.array([3.0, 3.0, 1.0, 1.0]))
    assert table.mean[0] == pytest.approx(0.95)
    assert WeightStats.of(np.ones(10)).ess == pytest.approx(10.0)


def test_evaluate_reports_before_and_after(tmp_path: Path, tiny_geometry: Geometry) -> None:
    ref = make_showers(tiny_geometry, 300, seed=0)
    gen = make_showers(tiny_geometry, 300, seed=1)
    response = gen.showers.sum(axis=1) / gen.energies
    gen.weights = np.where(response > np.median(response), 3.0, 1.0)  # any weights: checked through the numbers
    gen.weights = gen.weights / gen.weights.mean()
    write_showers(tmp_path / "ref.h5", ref)
    write_showers(tmp_path / "gen.h5", gen)
    cfg = EvaluationConfig(classifier_inputs=("high",), classifier_epochs=2, distances="none", plot_formats=("png",))
    report = evaluate(tmp_path / "ref.h5", {"gen": tmp_path / "gen.h5"}, tmp_path / "out", cfg)
    sample = report.generated["gen"]
    assert sample.weighted is not None
    assert sample.weighted.weights.ess == pytest.approx(float(gen.weights.sum() ** 2 / (gen.weights**2).sum()), rel=1e-4)
    assert sample.weighted.summary.separation_power_mean != pytest.approx(sample.summary.separation_power_mean)
    assert sample.weighted.classifier_result("high") is not None
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    weighted = metrics["generated"]["gen"]["weighted"]
    assert set(weighted) >= {"weights", "summary", "histograms", "response", "classifier"}
    assert "voxel_energy" in weighted["histograms"]
    html = (tmp_path / "out" / "report.html").read_text()
    assert "before / after" in html
    assert "effective sample size" in html
    assert (tmp_path / "out" / "plots" / "weights.png").exists()


def test_unweighted_files_have_no_weighted_rows(tmp_path: Path, tiny_geometry: Geometry) -> None:
    write_showers(tmp_path / "ref.h5", make_showers(tiny_geometry, 120, seed=0))
    write_showers(tmp_path / "gen.h5", make_showers(tiny_geometry, 120, seed=1))
    cfg = EvaluationConfig(classifier="none", distances="none", plots=False)
    report = evaluate(tmp_path / "ref.h5", {"gen": tmp_path / "gen.h5"}, tmp_path / "out", cfg)
    assert report.generated["gen"].weighted is None
    assert "weighted" not in json.loads((tmp_path / "out" / "metrics.json").read_text())["generated"]["gen"]
    assert "before / after" not in (tmp_path / "out" / "report.html").read_text()

"""End to end on tiny files: metrics.json, figures and report.html; bad inputs."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from caloforge.data import ShowerData, ShowerFileError, write_showers
from caloforge.evaluation import ClassifierResult, EvaluationConfig, evaluate, run_evaluation
from caloforge.evaluation.plots.html import render_html
from caloforge.geometry import Geometry
from tests.conftest import make_showers

QUICK = EvaluationConfig(classifier="none", distances="none", plots=False)


def test_report_written_and_readable(tmp_path: Path, shower_file: Callable[..., Path]) -> None:
    ref, gen = shower_file("ref.h5", n=300, seed=1), shower_file("gen.h5", n=200, seed=2)
    cfg = EvaluationConfig(classifier="fast", classifier_inputs=("high", "low"), classifier_epochs=2,
                           distances="fast", plot_formats=("png",))
    report = evaluate(ref, {"model": gen}, tmp_path / "out", cfg)
    data = json.loads((tmp_path / "out" / "metrics.json").read_text())
    g = data["generated"]["model"]
    assert data["settings"]["classifier_settings"]["recipe"] == "fast"
    assert set(g["classifier"]) == {"high", "low"}
    assert 0 <= g["classifier"]["high"]["auc"] <= 1
    assert g["fpd"]["value"] >= 0
    assert "kpd" in g
    assert g["histograms"]["response"]["separation_power"] >= 0
    assert any("300" in f for f in data["flags"])  # different event counts are reported
    html = (tmp_path / "out" / "report.html").read_text()
    assert html.index("Summary") < html.index("Figures")
    assert "data:image/png;base64," in html
    assert (tmp_path / "out" / "plots" / "response.png").exists()
    assert report.generated["model"].n_events == 200
    assert report.to_dict() == data  # metrics.json is to_dict, nothing else
    files = data["provenance"]["files"]
    assert files["model"]["n_events"] == 200
    assert len(files["reference"]["sha256"]) == 16
    assert files["model"]["size_bytes"] == gen.stat().st_size
    assert {"read_and_features", "model/histograms", "model/fpd_kpd", "model/classifier_high"} <= set(data["timing_s"])
    assert html.index("Verdict") < html.index("Summary")
    assert "Provenance" in html
    assert "e+0" not in html.split("<h2>Figures")[0]  # one number rule, no exponent artefacts


def test_identical_files_give_zero_separation(shower_file: Callable[..., Path]) -> None:
    ref = shower_file("ref.h5", n=100)
    report, _ = run_evaluation(ref, {"same": ref}, QUICK)
    seps = [h.separation_power for h in report.generated["same"].histograms.values()]
    assert np.nanmax(seps) == 0.0


def test_several_models_side_by_side(shower_file: Callable[..., Path]) -> None:
    ref = shower_file("ref.h5", n=100)
    report, _ = run_evaluation(ref, {"a": shower_file("a.h5", seed=3), "b": shower_file("b.h5", seed=4)}, QUICK)
    assert list(report.generated) == ["a", "b"]


def test_nan_showers_flagged_or_refused(tmp_path: Path, tiny_geometry: Geometry, shower_file: Callable[..., Path]) -> None:
    ref = shower_file("ref.h5", n=100)
    bad = make_showers(tiny_geometry, 50, seed=5)
    bad.showers[7, 3] = np.nan
    write_showers(tmp_path / "bad.h5", bad)
    report, _ = run_evaluation(ref, {"bad": tmp_path / "bad.h5"}, QUICK)
    assert report.generated["bad"].n_invalid == 1
    assert any("NaN" in f for f in report.flags)
    strict = EvaluationConfig(classifier="none", distances="none", plots=False, invalid="error")
    with pytest.raises(ValueError, match="NaN"):
        run_evaluation(ref, {"bad": tmp_path / "bad.h5"}, strict)
    with pytest.raises(ValueError, match="NaN"):  # NaN in the reference is always an error
        run_evaluation(tmp_path / "bad.h5", {"ref": ref}, QUICK)


def test_geometry_mismatch_and_empty_file(tmp_path: Path, shower_file: Callable[..., Path]) -> None:
    ref = shower_file("ref.h5", n=50)
    other = Geometry.regular("other", n_layers=2, n_alpha=2, r_edges=[0, 1, 2])
    write_showers(tmp_path / "other.h5", ShowerData(np.ones(5), np.ones((5, 8)), other))
    with pytest.raises(ValueError, match=r"voxels|geometry"):
        run_evaluation(ref, {"other": tmp_path / "other.h5"}, QUICK)
    (tmp_path / "empty.h5").write_bytes(b"")
    with pytest.raises(ShowerFileError, match="empty"):
        run_evaluation(ref, {"empty": tmp_path / "empty.h5"}, QUICK)


def test_refuses_non_empty_out_dir(tmp_path: Path, shower_file: Callable[..., Path]) -> None:
    ref = shower_file("ref.h5", n=50)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError, match="force"):
        evaluate(ref, {"g": ref}, out, QUICK)
    evaluate(ref, {"g": ref}, out, QUICK, force=True)
    assert (out / "metrics.json").exists()


def test_html_shows_classifier_spread_only_when_repeated(shower_file: Callable[..., Path]) -> None:
    ref = shower_file("ref.h5", n=60)
    report, _ = run_evaluation(ref, {"g": ref}, QUICK)
    single = ClassifierResult(auc=0.9321, jsd=0.4104, accuracy=0.8, auc_uncalibrated=0.93, jsd_uncalibrated=0.41,
                              best_epoch=1, n_train=30, n_validation=10)
    report.generated["g"].classifier = {"high": single}
    report.settings["classifier_settings"] = {"recipe": "fast", "repeats": 1}
    html = render_html(report)
    row = html.split("classifier high: AUC / JSD</td>")[1].split("</tr>")[0]
    assert row.startswith('<td><span class="bad">0.932</span> / 0.410</td>')  # unchanged for one run
    assert "re-drawn" not in html
    report.generated["g"].classifier = {"high": replace(single, repeats=3, auc_std=0.0061, jsd_std=0.012)}
    report.settings["classifier_settings"] = {"recipe": "fast", "repeats": 3}
    html = render_html(report)
    assert "0.932 ± 0.006</span> / 0.410 ± 0.012" in html
    assert "over 3 re-drawn splits" in html


def test_diagnosis_names_the_distorted_observables_first(tmp_path: Path, tiny_geometry: Geometry) -> None:
    ref = make_showers(tiny_geometry, 600, seed=1)
    write_showers(tmp_path / "ref.h5", ref)
    scaled = ShowerData(ref.energies, ref.showers * 1.3, tiny_geometry)  # energies off, shapes untouched
    write_showers(tmp_path / "scaled.h5", scaled)
    cfg = EvaluationConfig(classifier="fast", classifier_inputs=("high",), classifier_epochs=5, distances="none",
                           plots=False, threshold=0.0)
    report = evaluate(tmp_path / "ref.h5", {"scaled": tmp_path / "scaled.h5", "same": tmp_path / "ref.h5"},
                      tmp_path / "out", cfg)
    d = report.diagnosis["scaled"]
    assert {f.family for f in d.top(2)} == {"response", "e_layer"}
    assert all(f.separation_power == 0.0 for f in d.families[2:])  # centres, widths, sparsity: identical
    assert d.importance is not None  # its values are tested in test_importance.py
    assert set(d.importance.auc_drop) == {f.family for f in d.families} | {"e_inc"}
    assert all(f.auc_drop == d.importance.auc_drop[f.family] for f in d.families)
    data = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert set(data["diagnosis"]) == {"scaled", "same"}
    assert set(data["diagnosis"]["scaled"]["top"][:2]) == {"response", "e_layer"}
    assert data["diagnosis"]["same"]["families"][0]["separation_power"] == 0.0
    assert len(data["diagnosis"]["scaled"]["energy_bins"]) == 5
    html = (tmp_path / "out" / "report.html").read_text()
    assert html.index("What gives it away") < html.index("Summary")
    assert html.index("<h3>scaled</h3>") < html.index("<h3>same</h3>")  # side by side, in order
    assert "Worst observable per incident-energy bin" in html

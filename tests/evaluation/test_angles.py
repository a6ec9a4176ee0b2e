"""Evaluation by incidence angle: bins, per-angle numbers in metrics.json, the report.html table and figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from caloforge.data import ShowerData, write_showers
from caloforge.evaluation import EvaluationConfig
from caloforge.evaluation.angles import angle_edges, angle_index
from caloforge.evaluation.report import evaluate, run_evaluation
from caloforge.geometry import Geometry
from tests.conftest import make_showers

QUICK = EvaluationConfig(classifier="none", distances="none", plots=False)


def _angled(geometry: Geometry, n: int, seed: int, angles_deg: list[float], *, tilt: float = 0.0) -> ShowerData:
    """Showers at the given angles; ``tilt`` moves energy into the last layer in proportion to the angle."""
    data = make_showers(geometry, n, seed)
    theta = np.radians(np.resize(np.asarray(angles_deg), n)).astype(np.float32)
    showers = data.showers.copy()
    last = geometry.voxel_layer == geometry.n_layers - 1
    showers[:, last] *= (1.0 + tilt * theta)[:, None]
    return ShowerData(data.energies, showers, geometry, theta)


def test_bins_are_the_distinct_angles_or_quantiles() -> None:
    edges = angle_edges(np.radians([0.0, 10.0, 10.0, 30.0]))
    assert len(edges) == 4
    assert angle_index(np.radians([0.0, 10.0, 30.0]), edges).tolist() == [0, 1, 2]
    many = np.random.default_rng(0).uniform(0.0, 0.7, 1000)
    q = angle_edges(many)
    assert len(q) == 5
    counts = np.bincount(angle_index(many, q))
    assert counts.min() >= 240  # quantile bins: about a quarter each
    assert angle_index(np.array([-0.1, 0.8]), q).tolist() == [-1, -1]


def test_by_angle_numbers_follow_the_angle(tmp_path: Path, tiny_geometry: Geometry) -> None:
    write_showers(tmp_path / "ref.h5", _angled(tiny_geometry, 300, 0, [0.0, 20.0, 40.0]))
    # a generator that gets the angle dependence wrong: more energy in the last layer at larger angles
    write_showers(tmp_path / "gen.h5", _angled(tiny_geometry, 300, 1, [0.0, 20.0, 40.0], tilt=3.0))
    report = run_evaluation(tmp_path / "ref.h5", {"gen": tmp_path / "gen.h5"}, QUICK)[0]
    by = report.by_angle
    assert by is not None
    assert by.distinct
    assert by.centres_deg == pytest.approx([0.0, 20.0, 40.0], abs=1e-4)
    gen = by.generated["gen"]
    assert gen.n == [100, 100, 100]
    # at 0° the samples agree; the disagreement grows with the angle
    sep = gen.response_separation
    assert sep[0] < sep[1] < sep[2]
    last_ref = [p[-1] for p in by.reference.longitudinal]
    last_gen = [p[-1] for p in gen.longitudinal]
    assert last_gen[2] / last_ref[2] > last_gen[1] / last_ref[1] > 1.2
    assert len(gen.radial[0]) == len(by.radii_mm)
    assert len(gen.response[0].mean) == len(report.generated["gen"].response.mean)  # energy bins within each θ bin
    out = report.to_dict()["by_angle"]
    assert out["binning"] == "distinct"
    assert out["labels"] == ["0°", "20°", "40°"]
    assert set(out["generated"]["gen"]) >= {"response", "longitudinal_profile", "radial_profile", "classifier_auc"}


def test_classifier_auc_per_angle(tmp_path: Path, tiny_geometry: Geometry) -> None:
    write_showers(tmp_path / "ref.h5", _angled(tiny_geometry, 400, 0, [0.0, 40.0]))
    write_showers(tmp_path / "gen.h5", _angled(tiny_geometry, 400, 1, [0.0, 40.0], tilt=4.0))
    cfg = EvaluationConfig(classifier="fast", classifier_inputs=("high",), classifier_epochs=3, distances="none",
                           plots=False, min_classifier_events=100)
    evaluate(tmp_path / "ref.h5", {"gen": tmp_path / "gen.h5"}, tmp_path / "ev", cfg)
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    aucs = metrics["by_angle"]["generated"]["gen"]["classifier_auc"]["high"]
    assert len(aucs) == 2
    assert aucs[1] > aucs[0]  # the wrong angle dependence shows at 40°, not head-on
    html = (tmp_path / "ev" / "report.html").read_text()
    assert "By incidence angle" in html
    assert html.count("<td>40°</td>") == 2  # reference and generated rows


def test_angle_figures(tmp_path: Path, tiny_geometry: Geometry) -> None:
    pytest.importorskip("matplotlib")
    from caloforge.evaluation.plots.angles import angle_figures

    write_showers(tmp_path / "ref.h5", _angled(tiny_geometry, 60, 0, [0.0, 20.0]))
    write_showers(tmp_path / "gen.h5", _angled(tiny_geometry, 60, 1, [0.0, 20.0], tilt=2.0))
    report = run_evaluation(tmp_path / "ref.h5", {"gen": tmp_path / "gen.h5"}, QUICK)[0]
    assert report.by_angle is not None
    figs = angle_figures(report.by_angle)
    assert set(figs) == {"angle_response", "angle_longitudinal_profile", "angle_radial_profile"}  # no classifier run
    lines = figs["angle_longitudinal_profile"].axes[0].get_lines()
    assert len(lines) == 4  # two angle bins × (reference, gen)


def test_generated_without_angles_is_flagged(tmp_path: Path, tiny_geometry: Geometry) -> None:
    write_showers(tmp_path / "ref.h5", _angled(tiny_geometry, 60, 0, [0.0, 30.0]))
    write_showers(tmp_path / "gen.h5", make_showers(tiny_geometry, 60, 1))
    report = run_evaluation(tmp_path / "ref.h5", {"gen": tmp_path / "gen.h5"}, QUICK)[0]
    assert report.by_angle is not None
    assert report.by_angle.generated == {}
    assert any("no incidence angles" in f for f in report.flags)


def test_without_angles_nothing_changes(tmp_path: Path, tiny_geometry: Geometry) -> None:
    write_showers(tmp_path / "ref.h5", make_showers(tiny_geometry, 60, 0))
    write_showers(tmp_path / "gen.h5", make_showers(tiny_geometry, 60, 1))
    evaluate(tmp_path / "ref.h5", {"gen": tmp_path / "gen.h5"}, tmp_path / "ev", QUICK)
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert "by_angle" not in metrics
    assert "by_angle" not in metrics["timing_s"]
    assert "By incidence angle" not in (tmp_path / "ev" / "report.html").read_text()

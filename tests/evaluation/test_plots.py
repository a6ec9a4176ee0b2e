"""Figures compared pixel by pixel with committed baselines (pytest-mpl), and evaluation without matplotlib.

The baselines in ``baseline/`` are drawn without text (``remove_text``) at low DPI with the ``default``
style pinned, so fonts and freetype versions do not matter; regenerate them after an intended change with
``pytest tests/evaluation/test_plots.py --mpl-generate-path=tests/evaluation/baseline``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from caloforge.evaluation import EvaluationConfig, evaluate
from caloforge.evaluation.compare import ResponseTable
from caloforge.evaluation.histograms import HistSpec, fill
from caloforge.evaluation.plots import (
    histogram_figure,
    histogram_grid,
    layer_images_figure,
    profile_figure,
    require_matplotlib,
    response_figure,
)
from caloforge.geometry import Geometry

pytest.importorskip("matplotlib")

IMAGE = pytest.mark.mpl_image_compare(baseline_dir="baseline", style="default", tolerance=5, remove_text=True,
                                      savefig_kwargs={"dpi": 50})


def _spec(name: str = "response") -> HistSpec:
    return HistSpec(name, "response", None, np.linspace(0.5, 1.5, 21))


def _samples() -> tuple[Any, dict[str, Any]]:
    x = stats.norm.ppf((np.arange(2000) + 0.5) / 2000)  # deterministic normal quantiles
    ref = fill(1.0 + 0.1 * x, _spec().edges)
    return ref, {"shifted": fill(1.05 + 0.1 * x, _spec().edges), "wide": fill(1.0 + 0.2 * x, _spec().edges)}


def _table(scale: float) -> ResponseTable:
    n = 4
    return ResponseTable(
        e_low=[1e3 * 2**i for i in range(n)], e_high=[1e3 * 2 ** (i + 1) for i in range(n)], n=[100.0] * n,
        mean=[scale * (0.95 + 0.01 * i) for i in range(n)], mean_error=[0.01] * n,
        resolution=[0.2 / (i + 1) ** 0.5 for i in range(n)], resolution_error=[0.01] * n,
    )


@IMAGE
def test_histogram_figure() -> Any:
    ref, gens = _samples()
    return histogram_figure(_spec(), ref, gens, {"shifted": 0.25, "wide": 0.1})


@IMAGE
def test_histogram_grid() -> Any:
    ref, gens = _samples()
    specs = [_spec(f"response_{i}") for i in range(3)]
    return histogram_grid(specs, {s.name: ref for s in specs}, {k: {s.name: h for s in specs} for k, h in gens.items()},
                          "grid", ncols=3)


@IMAGE
def test_response_figure() -> Any:
    return response_figure(_table(1.0), {"model": _table(1.03)})


@IMAGE
def test_profile_figure() -> Any:
    x = np.arange(5.0)
    return profile_figure(x, np.exp(-x), {"model": np.exp(-0.9 * x)}, xlabel="layer", ylabel="E", title="profile")


@IMAGE
def test_layer_images_figure() -> Any:
    g = Geometry.regular("toy", n_layers=2, n_alpha=4, r_edges=[0, 1, 2, 4])
    shower = np.arange(1.0, g.n_voxels + 1.0)
    return layer_images_figure(g, {"reference": shower, "model": shower[::-1].copy()})


def _no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # ``import matplotlib`` now raises ImportError


def test_drawing_without_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_matplotlib(monkeypatch)
    with pytest.raises(ImportError, match=r"pip install 'caloforge\[plot\]'") as info:
        require_matplotlib()
    assert "\n" not in str(info.value)
    ref, gens = _samples()
    with pytest.raises(ImportError, match="caloforge"):
        histogram_figure(_spec(), ref, gens)


def test_evaluate_without_matplotlib_writes_the_numbers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, shower_file: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    _no_matplotlib(monkeypatch)
    ref = shower_file("ref.h5", n=60)
    config = EvaluationConfig(classifier="none", distances="none", plots=True, plot_formats=("png",))
    report = evaluate(ref, {"g": shower_file("g.h5", n=60, seed=1)}, tmp_path / "out", config)
    assert not (tmp_path / "out" / "plots").exists()
    flags = json.loads((tmp_path / "out" / "metrics.json").read_text())["flags"]
    assert any("figures not drawn" in f and "caloforge[plot]" in f for f in flags)
    assert "figures not drawn" in (tmp_path / "out" / "report.html").read_text()
    assert "caloforge[plot]" in caplog.text
    assert "plots" not in report.timing

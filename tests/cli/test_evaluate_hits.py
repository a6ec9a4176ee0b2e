"""``caloforge evaluate`` writes the hit-level section (``--cell-threshold``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from caloforge.cli.main import main


def test_evaluate_writes_hits_section(tmp_path: Path, shower_file: Callable[..., Path]) -> None:
    ref, gen = shower_file("ref.h5", n=120, seed=1), shower_file("gen.h5", n=120, seed=2)
    out = tmp_path / "out"
    argv = ["evaluate", "--reference", str(ref), "--generated", f"mine={gen}", "--out", str(out),
            "--classifier", "none", "--distances", "none", "--no-plots", "--bootstrap", "0", "--cell-threshold", "2.5"]
    assert main(argv) == 0
    data = json.loads((out / "metrics.json").read_text())
    hits = data["generated"]["mine"]["hits"]
    assert hits["cell_threshold_mev"] == 2.5
    assert hits["threshold_source"] == "option"
    assert {"n_hits", "e_vis", "cog_x", "cog_y", "cog_z", "start_layer", "cell_energy"} <= set(hits["separation_power"])
    assert 0.0 <= hits["separation_power"]["n_hits"] <= 1.0
    assert len(hits["correlation"]["difference"]) == len(hits["correlation"]["moments"])
    assert "mean90" in hits["linearity"]["reference"]
    assert "mine/hits" in data["timing_s"]
    assert "<h2>Hit level</h2>" in (out / "report.html").read_text()
    default = tmp_path / "default"
    assert main([*argv[:argv.index("--out") + 1], str(default), *argv[argv.index("--out") + 2 : -2]]) == 0
    # no MIP known: the voxel threshold
    hits = json.loads((default / "metrics.json").read_text())["generated"]["mine"]["hits"]
    assert hits["threshold_source"] == "voxel"


def test_evaluate_rejects_negative_cell_threshold(
    tmp_path: Path, shower_file: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    ref = shower_file("ref.h5", n=20)
    argv = ["evaluate", "--reference", str(ref), "--generated", str(ref), "--out", str(tmp_path / "o"),
            "--cell-threshold", "-1"]
    assert main(argv) == 2
    assert "cell_threshold" in capsys.readouterr().err

"""The pipeline end to end on synthetic data: outputs, report, skipping of up-to-date stages."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from caloforge.data import read_showers
from caloforge.pipeline import pipeline_from_dict, run_pipeline

pytest.importorskip("onnxruntime")


def test_pipeline_end_to_end_and_skips(tmp_path: Path, tiny_pipeline: Callable[..., dict[str, Any]]) -> None:
    config = pipeline_from_dict(tiny_pipeline())
    run_dir = tmp_path / "run"
    first = run_pipeline(config, run_dir, progress=False)
    expected = ["data", "train/small", "generate/small", "evaluate", "export/small", "bench/small"]
    assert list(first.stages) == expected
    assert not any(r.skipped for r in first.stages.values())
    generated = read_showers(run_dir / "generate" / "small" / "showers.h5")
    reference = read_showers(config.data.reference_file or "")
    assert (generated.energies == reference.energies).all()
    assert generated.showers.min() >= 0
    for path in ("train/small/model.pt", "evaluate/report.html", "bench/small/bench.json"):
        assert (run_dir / path).is_file(), path
    (row,) = first.rows
    assert row["separation_power_mean"] > 0
    assert row["torch_ms_per_shower"] > 0
    page = first.report.read_text()
    export = first.stages["export/small"]
    if export.ok:  # the ONNX export is optional: a failure is shown in the report instead of stopping the run
        assert (run_dir / "export/small/model.onnx").is_file()
        assert row["onnx_ms_per_shower"] > 0
    else:
        assert row["onnx_ms_per_shower"] is None
        assert "failed: " in page
    fastest = min(t for t in (row["torch_ms_per_shower"], row["onnx_ms_per_shower"]) if t is not None)
    assert row["speedup"] == pytest.approx(127.3 / fastest, 1e-3)
    assert "Model comparison" in page
    assert 'href="evaluate/report.html"' in page
    assert "small (vae)" in page
    assert json.loads((run_dir / "summary.json").read_text())[0]["label"] == "small"

    second = run_pipeline(config, run_dir, progress=False)
    assert all(r.skipped for name, r in second.stages.items() if first.stages[name].ok)
    assert second.rows == first.rows

    # A second model: only its own stages and the stages reading every model re-run.
    more = pipeline_from_dict(tiny_pipeline(big={"name": "vae", "config": {"hidden": [8]}, "train": {"max_steps": 2,
                              "batch_size": 32, "device": "cpu", "progress": False}}))
    third = run_pipeline(more, run_dir, progress=False)
    ran = {name for name, r in third.stages.items() if not r.skipped}
    retried = set() if export.ok else {"export/small"}  # failed optional stages keep no stamp
    assert ran == {"bench/big", "evaluate", "export/big", "generate/big", "train/big"} | retried


def test_failed_stage_keeps_finished_ones(tmp_path: Path, tiny_pipeline: Callable[..., dict[str, Any]]) -> None:
    data = tiny_pipeline()
    data["evaluate"]["settings"]["no_such_setting"] = 1
    config = pipeline_from_dict(data)
    with pytest.raises(ValueError, match="no_such_setting"):
        run_pipeline(config, tmp_path / "run", progress=False)
    assert (tmp_path / "run" / "train" / "small" / "stamp.json").is_file()
    assert not (tmp_path / "run" / "evaluate" / "stamp.json").exists()

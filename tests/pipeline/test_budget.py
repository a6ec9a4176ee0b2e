"""Per-stage ETA lines and the report of a training stage cut by its wall-clock budget."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from caloforge.pipeline import PipelineConfig, PipelineContext
from caloforge.pipeline.report import _stage_table
from caloforge.pipeline.runner import StageResult, _expected
from caloforge.pipeline.stamp import StageStamp


def _body(directory: Path) -> tuple[list[str], dict[str, int]]:
    (directory / "out.txt").write_text("x")
    return ["out.txt"], {}


def test_a_rerun_stage_logs_its_previous_time_and_eta(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ctx = PipelineContext(PipelineConfig(), tmp_path, progress=False)
    with caplog.at_level(logging.INFO, logger="caloforge.pipeline.runner"):
        ctx.run_stage("a", {"x": 1}, [], _body, budget_s=60)
        ctx.run_stage("a", {"x": 2}, [], _body, budget_s=60)  # changed settings: runs again
    running = [r.getMessage() for r in caplog.records if "running" in r.getMessage()]
    assert running[0].startswith("[a]: running (budget 60 s, ETA ")
    assert "previous run" in running[1]


def test_eta_uses_the_previous_run_capped_by_the_budget() -> None:
    previous = StageStamp("a", "k", [], 300.0, {})
    now = time.mktime((2026, 1, 1, 12, 0, 0, 0, 1, -1))
    assert _expected(previous, None, now=now) == " (previous run 300 s, ETA 12:05:00)"
    assert _expected(previous, 120.0, now=now) == " (previous run 300 s, budget 120 s, ETA 12:02:00)"
    assert _expected(None, None, now=now) == ""


def test_report_says_when_training_was_cut_by_its_budget(tmp_path: Path) -> None:
    info = {"steps": 412, "planned_steps": 1000, "stop_reason": "wall-clock limit", "max_wall_s": 240.0}
    cut = StageResult("train/vae", tmp_path / "train" / "vae", "k", False, 241.0, [], info)
    full = StageResult("train/fm", tmp_path / "train" / "fm", "k", False, 90.0, [],
                       {"steps": 1000, "planned_steps": 1000, "stop_reason": None})
    table = _stage_table(tmp_path, {"train/vae": cut, "train/fm": full})
    assert "cut by its 240 s budget after 412 of 1000 steps" in table
    assert table.count("cut by its") == 1

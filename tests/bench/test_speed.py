"""Tests of the benchmark library at tiny sizes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from caloforge.bench.plot import save_bench_plot
from caloforge.bench.speed import BenchConfig, BenchRow, BenchTable, PeakMemory, thread_counts, time_calls
from caloforge.bench.suite import benchmark
from caloforge.geometry import Geometry
from tests.export.conftest import fitted

FAST = {"min_seconds": 0.01, "max_calls": 3}


def test_time_calls_counts_and_measures() -> None:
    calls = []
    seconds, n = time_calls(lambda: calls.append(1), min_seconds=0.0, max_calls=5)
    assert n == 3
    assert len(calls) == 4
    assert seconds >= 0.0


def test_peak_memory_sees_an_allocation() -> None:
    with PeakMemory() as mem:
        block = np.ones(25_000_000)  # 200 MB
        block[::1000] = 2.0
    if mem.peak_mb is None:
        pytest.skip("no /proc/self/statm on this system")
    assert mem.peak_mb > 100


def test_config_rejects_unknown_backend() -> None:
    with pytest.raises(ValueError, match="unknown backends"):
        BenchConfig(backends=("tensorflow",))
    assert thread_counts([1, None, 1])[0] == 1


def test_benchmark_all_cpu_backends(tiny_geometry: Geometry, tmp_path: Path) -> None:
    model = fitted("wgan", tiny_geometry)
    config = BenchConfig(
        batch_sizes=(1, 16), threads=(1,), devices=("cpu",), geant4_ms=130.0,
        backends=("pytorch", "torchscript", "onnxruntime-fp32", "onnxruntime-int8"), **FAST,
    )
    table = benchmark(model, config=config, workdir=tmp_path)
    assert {(r.backend, r.batch_size) for r in table.rows} == {
        (b, n) for b in config.backends for n in (1, 16)
    }
    assert all(r.ms_per_shower > 0 and r.threads == 1 for r in table.rows)
    assert set(table.files) == {"onnxruntime-fp32", "onnxruntime-int8"}
    markdown = table.to_markdown()
    assert markdown.count("\n") == 2 + len(table.rows)  # header, rule, cells, Geant4 row
    assert "Geant4 (reference) | cpu | 1 | 1 | 130" in markdown
    again = BenchTable.from_dict(json.loads(json.dumps(table.to_dict())))
    assert again.rows == table.rows
    png = save_bench_plot(table, tmp_path / "bench.png")
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_onnx_only_benchmark(tiny_geometry: Geometry, tmp_path: Path) -> None:
    from caloforge.export.onnx import export_onnx

    export_onnx(fitted("wgan", tiny_geometry), tmp_path / "m.onnx")
    config = BenchConfig(batch_sizes=(4,), threads=(1, 2), devices=("cpu",), backends=("onnxruntime-fp32",), **FAST)
    table = benchmark(onnx_files={"onnxruntime-fp32": tmp_path / "m.onnx"}, config=config, workdir=tmp_path)
    assert [(r.threads, r.batch_size) for r in table.rows] == [(1, 4), (2, 4)]
    assert table.model == "wgan"
    assert table.geant4_ms is None
    with pytest.raises(ValueError, match="model or ONNX"):
        benchmark(config=config)


def test_table_speedup_column() -> None:
    table = BenchTable("m", "g", [BenchRow("pytorch", "cpu", 2, 100, 0.13, 5.0)], geant4_ms=130.0)
    assert "| pytorch | cpu | 2 | 100 | 0.13 | 5 | 1e+03 |" in table.to_markdown()

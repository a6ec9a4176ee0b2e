"""CLI tests of ``caloforge export`` and ``caloforge bench`` (in-process, tiny models)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from caloforge.cli.main import main
from caloforge.export.runtime import OnnxGenerator
from caloforge.geometry import Geometry
from caloforge.models.serialization import save_model
from tests.export.conftest import fitted


@pytest.fixture
def checkpoint(tiny_geometry: Geometry, tmp_path: Path) -> Path:
    path = tmp_path / "model.pt"
    save_model(fitted("wgan", tiny_geometry, n_conditions=2), path)
    return path


def test_export_onnx_with_variants(checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m.onnx"
    assert main(["export", "--checkpoint", str(checkpoint), "-o", str(out), "--quantize", "int8", "fp16"]) == 0
    text = capsys.readouterr().out
    assert "parity passed on 64 showers" in text
    assert OnnxGenerator(out).card.n_conditions == 2
    assert OnnxGenerator(tmp_path / "m-int8.onnx").card.precision == "int8"
    assert OnnxGenerator(tmp_path / "m-fp16.onnx").card.precision == "fp16"
    assert main(["export", "--checkpoint", str(checkpoint), "-o", str(out)]) == 2  # exists, no --force
    assert "already exists" in capsys.readouterr().err


def test_export_par04_and_torchscript(checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "--checkpoint", str(checkpoint), "-o", str(tmp_path / "p.onnx"), "--par04"]) == 0
    assert "p.mac (Geant4 Par04 macro" in capsys.readouterr().out
    assert "/Par04/inference/setSizeLatentVector" in (tmp_path / "p.mac").read_text()
    assert OnnxGenerator(tmp_path / "p.onnx").input_names == ["input"]
    assert main(["export", "--checkpoint", str(checkpoint), "--format", "torchscript", "-o", str(tmp_path / "m.pt")]) == 0
    assert (tmp_path / "m.pt").stat().st_size > 0
    assert main(["export", "--checkpoint", str(checkpoint), "--format", "torchscript", "--quantize", "int8",
                 "-o", str(tmp_path / "q.pt")]) == 2


def test_bench_onnx_model(checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    onnx_path = tmp_path / "m.onnx"
    assert main(["export", "--checkpoint", str(checkpoint), "-o", str(onnx_path)]) == 0
    capsys.readouterr()
    args = ["bench", "--model", str(onnx_path), "--batch-sizes", "1", "8", "--threads", "1", "--cpu-only",
            "--min-seconds", "0.01", "--geant4-ms", "130", "-o", str(tmp_path / "b.json"),
            "--plot", str(tmp_path / "b.png"), "--no-progress"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "| onnxruntime-fp32 | cpu | 1 | 8 |" in out
    assert "Geant4 (reference)" in out
    rows = json.loads((tmp_path / "b.json").read_text())["rows"]
    assert [r["batch_size"] for r in rows] == [1, 8]
    assert (tmp_path / "b.png").exists()
    assert (tmp_path / "b.md").exists()


def test_bench_writes_table_and_plot_into_the_run(
    tiny_geometry: Geometry, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("matplotlib")
    run = tmp_path / "runs" / "wgan"
    ckpt = run / "checkpoints" / "last.pt"
    ckpt.parent.mkdir(parents=True)
    save_model(fitted("wgan", tiny_geometry, n_conditions=2), ckpt)
    monkeypatch.chdir(tmp_path)
    args = ["bench", "--checkpoint", str(ckpt), "--backends", "pytorch", "onnxruntime-fp32", "--batch-sizes", "4",
            "--threads", "1", "--cpu-only", "--min-seconds", "0.01", "--no-progress"]
    assert main(args) == 0
    out = capsys.readouterr().out
    bench = run / "bench"
    assert {"bench.json", "bench.md", "bench.png"} <= {p.name for p in bench.iterdir()}
    assert f"plot: {bench / 'bench.png'}" in out
    assert any((bench / "models").iterdir())  # exported models beside the table, not in the working directory
    assert not (tmp_path / "bench-models").exists()
    assert main([*args, "--force", "--no-plot", "-o", str(tmp_path / "t.json")]) == 0
    assert (tmp_path / "t.json").exists()
    assert not (tmp_path / "t.png").exists()

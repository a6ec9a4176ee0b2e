"""Hostile or unlucky inputs: broken ONNX files, foreign geometries, tiny samples, negative references, huge N."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from caloforge import atomic
from caloforge.cli.main import main
from caloforge.data import EnergySpec, ShowerData, read_showers, write_showers
from caloforge.evaluation.plots import numbers
from caloforge.geometry import Geometry
from tests.conftest import make_showers


def _one_error(capsys: pytest.CaptureFixture[str], command: str) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"caloforge {command}: error: "), err
    assert len(err.splitlines()) == 1, err
    return err.removeprefix(f"caloforge {command}: error: ")


@pytest.fixture
def exported(tmp_path: Path, tiny_geometry: Geometry) -> Path:
    pytest.importorskip("onnxruntime")
    from caloforge.export.onnx import export_onnx
    from tests.export.conftest import fitted

    path = tmp_path / "m.onnx"
    export_onnx(fitted("wgan", tiny_geometry), path)
    return path


@pytest.mark.parametrize("content", [b"", b"this is not a protobuf \x00\x01\x02"])
def test_broken_onnx_files(content: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("onnxruntime")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(content)
    out = tmp_path / "out.h5"
    assert main(["generate", "--model", str(bad), "--energies", "fixed:10", "--n", "3", "-o", str(out)]) == 2
    assert _one_error(capsys, "generate").startswith(f"{bad}: cannot load as an ONNX model")
    assert main(["bench", "--model", str(bad), "--batch-sizes", "1", "--threads", "1", "--cpu-only"]) == 2
    assert _one_error(capsys, "bench").startswith(f"{bad}: cannot load as an ONNX model")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.onnx"]


def test_onnx_like_file_of_another_geometry(exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = Geometry.regular("other", n_layers=2, n_alpha=2, r_edges=[0, 1, 2, 3])
    ref = tmp_path / "other.h5"
    write_showers(ref, make_showers(other, 8))
    out = tmp_path / "gen.h5"
    assert main(["generate", "--model", str(exported), "--like", str(ref), "-o", str(out), "--no-progress"]) == 2
    assert _one_error(capsys, "generate").startswith(f"{ref}: geometry 'other' (12 voxels) differs from the model's")
    assert not out.exists()


def test_quantize_refuses_an_existing_variant_before_writing(exported: Path, tmp_path: Path, tiny_geometry: Geometry,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from caloforge.models import save_model
    from tests.export.conftest import fitted

    ckpt = tmp_path / "m.pt"
    save_model(fitted("wgan", tiny_geometry), ckpt)
    variant = tmp_path / "new-int8.onnx"
    variant.write_bytes(b"keep")
    assert main(["export", "--checkpoint", str(ckpt), "-o", str(tmp_path / "new.onnx"), "--quantize", "int8"]) == 2
    assert _one_error(capsys, "export") == (f"{variant} already exists; pass overwrite=True (--force on the command "
                                            "line) to replace it")
    assert not (tmp_path / "new.onnx").exists()
    assert variant.read_bytes() == b"keep"


def test_bench_output_is_not_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = tmp_path / "bench.json"
    table.write_text("{}")
    assert main(["bench", "--model", str(tmp_path / "m.onnx"), "-o", str(table)]) == 2
    assert "already exists" in _one_error(capsys, "bench")
    assert table.read_text() == "{}"


def _evaluate(ref: Path, gen: Path, out: Path, *extra: str) -> int:
    return main(["-q", "evaluate", "--reference", str(ref), "--generated", str(gen), "--out", str(out),
                 "--no-plots", "--classifier-epochs", "2", "--classifier-inputs", "high", *extra])


def test_small_samples_are_flagged_not_reported(tmp_path: Path, shower_file: Callable[..., Path],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    ref, gen = shower_file("ref.h5", n=400, seed=1), shower_file("gen.h5", n=10, seed=2)
    assert _evaluate(ref, gen, tmp_path / "out") == 0
    out = capsys.readouterr().out
    g = json.loads((tmp_path / "out" / "metrics.json").read_text())["generated"]["gen"]
    assert "fpd" not in g
    assert "kpd" not in g
    assert g["classifier"]["high"] == {"skipped": "needs at least 100 showers per sample, got 10"}
    assert "gen: FPD/KPD not computed: needs at least 100 showers per sample, got 10" in g["flags"]
    assert "warning: gen: classifier tests skipped" in out
    assert "FPD" not in out.split("warning")[0]


def test_reported_metrics_stay_in_range(tmp_path: Path, shower_file: Callable[..., Path],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    ref, gen = shower_file("ref.h5", n=300, seed=1), shower_file("gen.h5", n=150, seed=2)
    assert _evaluate(ref, gen, tmp_path / "out") == 0
    summary = capsys.readouterr().out
    g = json.loads((tmp_path / "out" / "metrics.json").read_text())["generated"]["gen"]
    result = g["classifier"]["high"]
    assert 0.0 <= result["auc"] <= 1.0
    assert 0.0 <= result["jsd"] <= 1.0
    assert 0.0 <= result["jsd_uncalibrated"] <= 1.0
    fpd, kpd = g["fpd"], g["kpd"]
    shown = f"FPD×10³ {numbers.distance(fpd['value'], fpd['error'])}, KPD×10³ {numbers.distance(kpd['value'], kpd['error'])}"
    assert shown in summary
    assert "e-3" not in summary
    assert "e+" not in summary


def test_reference_with_negative_voxels_is_refused(tmp_path: Path, tiny_geometry: Geometry,
                                                   shower_file: Callable[..., Path],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    data = make_showers(tiny_geometry, 50)
    showers = data.showers.copy()
    showers[7, 3] = -1.0
    ref = tmp_path / "neg.h5"
    write_showers(ref, ShowerData(data.energies, showers, tiny_geometry))
    assert _evaluate(ref, shower_file("gen.h5"), tmp_path / "out") == 2
    assert _one_error(capsys, "evaluate") == f"reference {ref}: showers contain negative energies (first in event 7)"
    assert main(["inspect", str(ref)]) == 2
    assert "1 negative; first in event 7" in _one_error(capsys, "inspect")


def test_conditions_are_drawn_per_chunk_and_disk_space_checked(
    tmp_path: Path, shower_file: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = tmp_path / "run"
    assert main(["-q", "train", "--model", "wgan", "--data", str(shower_file(n=64)), "--dry-run", "--out", str(run),
                 "--no-progress", "--device", "cpu"]) == 0
    ckpt = str(run / "dry-run" / "checkpoints" / "last.pt")
    sizes: list[int] = []
    real = EnergySpec.sample
    monkeypatch.setattr(EnergySpec, "sample", lambda self, n, rng: (sizes.append(n), real(self, n, rng))[1])
    out = tmp_path / "many.h5"
    n = 150_000
    assert main(["-q", "generate", "--checkpoint", ckpt, "--energies", "fixed:10", "--n", str(n), "-o", str(out),
                 "--batch-size", "50000", "--device", "cpu", "--no-progress"]) == 0
    assert len(read_showers(out)) == n
    assert max(sizes) <= 1 << 16  # never all energies at once
    usage = type("Usage", (), {"free": 5_000_000, "total": 1 << 40, "used": 0})()
    monkeypatch.setattr(atomic.shutil, "disk_usage", lambda _: usage)
    big = tmp_path / "big.h5"
    assert main(["generate", "--checkpoint", ckpt, "--energies", "fixed:10", "--n", "100000000", "-o", str(big),
                 "--device", "cpu", "--no-progress"]) == 2
    assert _one_error(capsys, "generate").startswith(f"no space left on device {atomic.mount_point(tmp_path)} "
                                                     f"writing {big}: it needs about 6.16 GB, 5 MB free")  # gzip: a quarter
    assert main(["-q", "simulate", "-n", "100000000", "-o", str(big), "--no-progress"]) == 2
    assert "it needs about" in _one_error(capsys, "simulate")
    assert not big.exists()


def test_simulate_draws_energies_per_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import caloforge.data.energies

    sizes: list[int] = []
    real = EnergySpec.sample
    monkeypatch.setattr(caloforge.data.energies, "_STREAM_BLOCK", 16)
    monkeypatch.setattr(EnergySpec, "sample", lambda self, n, rng: (sizes.append(n), real(self, n, rng))[1])
    assert main(["-q", "simulate", "-n", "100", "--batch-size", "8", "-o", str(tmp_path / "s.h5"), "--seed", "2",
                 "--no-progress"]) == 0
    assert sum(sizes) == 100
    assert max(sizes) <= 16
    assert len(read_showers(tmp_path / "s.h5")) == 100


def test_energy_stream_matches_one_draw() -> None:
    spec = EnergySpec("log-uniform", (1.0, 100.0))
    whole = spec.sample(200_000, np.random.default_rng(3))
    parts = np.concatenate(list(spec.stream(200_000, np.random.default_rng(3), 7_777)))
    np.testing.assert_array_equal(parts, whole)

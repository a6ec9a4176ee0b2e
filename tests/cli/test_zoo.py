"""``caloforge zoo`` and ``--pretrained NAME`` for generate / export / bench, on a temporary zoo of tiny models."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from caloforge.cli.main import main
from caloforge.data import read_showers
from caloforge.geometry import Geometry
from caloforge.models.pretrained import ZOO_DIR_ENV, list_pretrained
from caloforge.models.serialization import save_model
from tests.export.conftest import fitted
from tests.models.pretrained_zoo import add_tiny, write_report

REPO = Path(__file__).resolve().parents[2]
KEYS = {"name", "geometry", "particle", "energy_range_gev", "family", "single_pass", "steps", "training", "metrics",
        "ms_per_shower", "card"}


@pytest.fixture
def zoo(tmp_path: Path, tiny_geometry: Geometry, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A zoo with a tiny VAE and a tiny flow-matching model (default sampler midpoint:1), selected by the env var."""
    directory = tmp_path / "zoo"
    add_tiny(directory, tiny_geometry, "vae-tiny")
    add_tiny(directory, tiny_geometry, "fm-tiny", "flow-matching", sampler="midpoint:1")
    monkeypatch.setenv(ZOO_DIR_ENV, str(directory))
    return directory


def test_empty_zoo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(ZOO_DIR_ENV, str(tmp_path / "empty"))
    assert main(["zoo"]) == 0
    assert capsys.readouterr().out.startswith("no pretrained models are shipped")
    assert main(["zoo", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_table_json_schema_and_verify(zoo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["zoo"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["name", "family", "geometry", "particle"]
    assert [line.split()[0] for line in lines[1:]] == ["fm-tiny", "vae-tiny"]
    assert main(["zoo", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert [i["name"] for i in items] == ["fm-tiny", "vae-tiny"]
    for item in items:
        assert set(item) >= KEYS
        lo, hi = item["energy_range_gev"]
        assert 0 < lo < hi
        assert isinstance(item["single_pass"], bool)
        assert isinstance(item["steps"], int)
        assert set(item["training"]) >= {"data", "showers", "steps", "cpu_hours", "command"}
        assert set(item["metrics"]) >= {"voxel_auc", "high_level_auc", "separation_power_mean", "command"}
        assert item["card"].startswith("docs/")
    assert items[0]["sampler"] == {"solver": "midpoint", "steps": 1}
    assert (items[0]["steps"], items[1]["steps"]) == (2, 1)
    assert main(["zoo", "--verify"]) == 0
    assert "all 2 weights files match" in capsys.readouterr().out
    (zoo / "vae-tiny.pt").write_bytes(b"not a model")
    assert main(["zoo", "--verify"]) == 2
    assert "vae-tiny.pt: SHA-256" in capsys.readouterr().err


def test_generate_pretrained(zoo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "vae.h5"
    argv = ["-q", "generate", "--pretrained", "vae-tiny", "--energies", "log-uniform:2:50", "--n", "12",
            "-o", str(out), "--device", "cpu", "--no-progress"]
    assert main(argv) == 0
    assert "wrote 12 showers" in capsys.readouterr().out
    data = read_showers(out)
    assert data.showers.shape == (12, 60)
    assert data.attrs["pretrained"] == "vae-tiny"
    assert data.attrs["pretrained_sha256"] == list_pretrained()[1].sha256

    fm = tmp_path / "fm.h5"
    argv[3], argv[9] = "fm-tiny", str(fm)
    assert main(argv) == 0
    assert read_showers(fm).attrs["sampler"] == "midpoint:1"  # the zoo's default
    assert main([*argv, "--sampler", "euler:2", "--force"]) == 0
    assert read_showers(fm).attrs["sampler"] == "euler:2"  # --sampler wins


def test_generate_pretrained_errors(zoo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["generate", "--energies", "fixed:10", "--n", "2", "-o", str(tmp_path / "x.h5"), "--no-progress"]
    assert main([*base, "--pretrained", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "no pretrained model 'nope'; available: fm-tiny, vae-tiny" in err
    (zoo / "vae-tiny.pt").write_bytes((zoo / "fm-tiny.pt").read_bytes())
    assert main([*base, "--pretrained", "vae-tiny"]) == 2
    assert "vae-tiny.pt: SHA-256" in capsys.readouterr().err
    assert not (tmp_path / "x.h5").exists()
    with pytest.raises(SystemExit) as exc:
        main([*base, "--pretrained", "fm-tiny", "--checkpoint", "m.pt"])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_export_and_bench_pretrained(zoo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("onnxruntime")
    out = tmp_path / "vae.onnx"
    assert main(["export", "--pretrained", "vae-tiny", "-o", str(out)]) == 0
    assert "parity passed" in capsys.readouterr().out
    assert out.stat().st_size > 0
    argv = ["bench", "--pretrained", "vae-tiny", "--backends", "pytorch", "--batch-sizes", "4", "--threads", "1",
            "--cpu-only", "--min-seconds", "0.01", "--no-progress", "--workdir", str(tmp_path / "bench")]
    assert main(argv) == 0
    assert "| pytorch | cpu | 1 | 4 |" in capsys.readouterr().out
    assert main(["export", "--pretrained", "nope", "-o", str(out), "--force"]) == 2


def test_add_to_zoo_tool(tmp_path: Path, tiny_geometry: Geometry, capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("add_to_zoo", REPO / "tools" / "add_to_zoo.py")
    assert spec is not None
    assert spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    checkpoint = tmp_path / "vae.pt"
    save_model(fitted("vae", tiny_geometry), checkpoint)
    zoo = tmp_path / "zoo"
    argv = [str(checkpoint), "--name", "vae-tool", "--particle", "electron",
            "--report", str(write_report(tmp_path / "metrics.json")), "--eval-command", "caloforge evaluate ...",
            "--train-data", "synthetic", "--train-showers", "64", "--train-steps", "2", "--cpu-hours", "0.01",
            "--train-command", "caloforge train ...", "--zoo-dir", str(zoo), "--min-seconds", "0.01",
            "--card", str(tmp_path / "cards" / "vae-tool.md")]
    assert tool.main(argv) == 0
    entry = json.loads(capsys.readouterr().out)
    assert entry["ms_per_shower"] > 0
    assert entry["ms_per_shower_setup"] == "pytorch, cpu, 1 thread, batch 1000"
    assert [e.name for e in list_pretrained(zoo_dir=zoo)] == ["vae-tool"]
    assert "## Limits" in (tmp_path / "cards" / "vae-tool.md").read_text()
    assert tool.main(argv) == 2  # already in the zoo
    assert "--replace" in capsys.readouterr().err

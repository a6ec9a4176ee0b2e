"""Both Geant4 Par04 layouts read through ShowerFile, hence by every command that takes a shower file."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from caloforge.cli.main import main
from caloforge.data import ShowerData, ShowerFile, ShowerFileError, read_par04, read_showers, write_par04, write_showers
from caloforge.data.par04 import flat_to_par04, par04_to_flat
from caloforge.geometry import Geometry, get_geometry
from tests.conftest import make_showers


def _par04_showers(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.gamma(0.3, 2.0, (n, 18, 50, 45)) * (rng.random((n, 18, 50, 45)) < 0.2)).astype(np.float32)


def converter_file(path: Path, n: int = 6, *, theta: bool = False, energy: float | None = None) -> Path:
    rng = np.random.default_rng(1)
    with h5py.File(path, "w") as f:
        f["incident_energy"] = np.exp(rng.uniform(np.log(1e3), np.log(1e5), n)) if energy is None else np.full(n, energy)
        f["showers"] = _par04_showers(n)
        if theta:
            f["incident_theta"] = rng.uniform(0.0, 0.5, n)
    return path


def per_energy_file(path: Path) -> Path:
    with h5py.File(path, "w") as f:
        f["10"] = _par04_showers(3, 1)
        ds = f.create_dataset("500MeV", data=_par04_showers(2, 2))
        ds.attrs["angle_deg"] = 30.0
    return path


def test_converter_layout(tmp_path: Path) -> None:
    path = converter_file(tmp_path / "conv.h5", theta=True)
    with ShowerFile(path) as f:
        assert f.geometry.name == "par04"
        assert f.attrs["source_format"] == "par04-converter"
        assert f.angles is not None
        data = f.read(1, 4)
    with h5py.File(path) as raw:
        np.testing.assert_array_equal(data.showers, par04_to_flat(raw["showers"][1:4]))
        np.testing.assert_allclose(data.energies, raw["incident_energy"][1:4], rtol=1e-6)
    assert read_par04(path).showers.shape == (6, 40500)


def test_per_energy_layout_is_read_lazily_in_order(tmp_path: Path) -> None:
    path = per_energy_file(tmp_path / "pe.h5")
    with ShowerFile(path) as f:
        assert len(f) == 5
        assert f.energies.tolist() == [10e3] * 3 + [500.0] * 2  # datasets in name order
        np.testing.assert_allclose(f.angles, [0, 0, 0, np.radians(30), np.radians(30)], rtol=1e-6)
        across = f.read(2, 4)  # spans both datasets
    with h5py.File(path) as raw:
        expect = np.concatenate([par04_to_flat(raw["10"][2:3]), par04_to_flat(raw["500MeV"][0:1])])
    np.testing.assert_array_equal(across.showers, expect)
    with h5py.File(path) as raw:
        assert np.all(flat_to_par04(across.showers)[0] == raw["10"][2])


def test_written_par04_files_have_no_angle_column(tmp_path: Path) -> None:
    g = get_geometry("par04")
    data = ShowerData(np.array([1e3, 2e3], np.float32), par04_to_flat(_par04_showers(2)), g)
    write_par04(tmp_path / "p.h5", data)
    back = read_showers(tmp_path / "p.h5")
    assert back.angles is None
    np.testing.assert_array_equal(back.showers, data.showers)


def test_par04_errors(tmp_path: Path, tiny_geometry: Geometry) -> None:
    with h5py.File(tmp_path / "bad.h5", "w") as f:
        f["incident_energy"] = np.ones(2)
        f["showers"] = np.ones((2, 9, 16, 45))
    with pytest.raises(ShowerFileError, match=r"'showers' has shape \(2, 9, 16, 45\), expected \(N, 18, 50, 45\)"):
        read_showers(tmp_path / "bad.h5")
    with h5py.File(tmp_path / "mismatch.h5", "w") as f:
        f["incident_energy"] = np.ones(3)
        f["showers"] = np.zeros((2, 18, 50, 45))
    with pytest.raises(ShowerFileError, match="'incident_energy' has shape"):
        read_showers(tmp_path / "mismatch.h5")
    write_showers(tmp_path / "cc.h5", make_showers(tiny_geometry, 4))
    with pytest.raises(ShowerFileError, match="not a Par04 file"):
        read_par04(tmp_path / "cc.h5")


def test_every_command_reads_par04(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conv = converter_file(tmp_path / "conv.h5", n=40, energy=10e3)
    pe = per_energy_file(tmp_path / "pe.h5")
    for path in (conv, pe):
        assert main(["inspect", str(path)]) == 0
        assert "par04 (40500 voxels)" in capsys.readouterr().out
    out = tmp_path / "run"
    code = main(["-q", "train", "--model", "vae", "--data", str(conv), "--dry-run", "--out", str(out),
                 "--no-progress", "--device", "cpu"])
    assert code == 0
    gen = tmp_path / "gen.h5"
    assert main(["-q", "generate", "--checkpoint", str(out / "dry-run" / "checkpoints" / "last.pt"), "--like", str(conv),
                 "-o", str(gen), "--device", "cpu", "--no-progress"]) == 0
    assert len(read_showers(gen)) == 40
    report = tmp_path / "eval"
    assert main(["-q", "evaluate", "--reference", str(conv), "--generated", str(gen), "--out", str(report),
                 "--classifier", "none", "--distances", "none", "--no-plots", "--no-baseline"]) == 0
    assert (report / "metrics.json").exists()

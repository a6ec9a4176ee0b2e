"""Compressed shower files: one option (``data/writer.py``), checksums and exact round trips for every choice."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from caloforge.cli.main import main
from caloforge.data import COMPRESSIONS, DEFAULT_COMPRESSION, ShowerFileError, read_showers, write_showers
from caloforge.data.io import SHOWERS_KEY
from caloforge.data.writer import compression_filters
from caloforge.geometry import Geometry

from ..conftest import make_showers


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_every_compression_round_trips_with_checksums(
    compression: str, tmp_path: Path, tiny_geometry: Geometry
) -> None:
    data = make_showers(tiny_geometry, 300, angles=True)
    path = tmp_path / f"{compression}.h5"
    write_showers(path, data, compression=compression)
    back = read_showers(path)
    np.testing.assert_array_equal(back.showers, data.showers)
    np.testing.assert_array_equal(back.energies, data.energies)
    assert back.angles is not None
    with h5py.File(path) as f:
        for ds in f.values():
            assert ds.fletcher32
            assert ds.compression == (None if compression == "none" else compression)


def test_default_is_gzip_and_smaller(tmp_path: Path, tiny_geometry: Geometry) -> None:
    assert DEFAULT_COMPRESSION == "gzip"
    data = make_showers(tiny_geometry, 2000)
    data.showers[:, ::2] = 0.0  # sparse, as calorimeter showers are
    write_showers(tmp_path / "default.h5", data)
    write_showers(tmp_path / "none.h5", data, compression="none")
    with h5py.File(tmp_path / "default.h5") as f:
        assert f[SHOWERS_KEY].compression == "gzip"
        assert f[SHOWERS_KEY].compression_opts == 4
        assert not f[SHOWERS_KEY].shuffle
    assert (tmp_path / "default.h5").stat().st_size < 0.8 * (tmp_path / "none.h5").stat().st_size


def test_unknown_compression_is_refused() -> None:
    with pytest.raises(ValueError, match="choose one of none, gzip, lzf"):
        compression_filters("zip")
    assert compression_filters(None) == {}


@pytest.mark.parametrize("compression", ["gzip", "lzf"])
def test_damaged_compressed_chunk_is_refused(compression: str, tmp_path: Path, tiny_geometry: Geometry) -> None:
    path = tmp_path / "showers.h5"
    write_showers(path, make_showers(tiny_geometry, 500), compression=compression)
    with h5py.File(path) as f:
        offset = f[SHOWERS_KEY].id.get_chunk_info(0).byte_offset
    raw = bytearray(path.read_bytes())
    raw[offset + 40] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ShowerFileError, match=str(path)):
        read_showers(path)


def test_cli_compression_and_energy_spellings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["-q", "simulate", "--geometry", "calochallenge-2", "--particles", "20", "--seed", "3", "--no-progress"]
    assert main([*common, "--energies", "fixed:10", "-o", str(tmp_path / "a.h5"), "--compression", "lzf"]) == 0
    assert main([*common, "--energy", "fixed:10", "-o", str(tmp_path / "b.h5"), "--compression", "none"]) == 0
    a, b = read_showers(tmp_path / "a.h5"), read_showers(tmp_path / "b.h5")
    np.testing.assert_array_equal(a.showers, b.showers)  # both spellings, the same showers
    with h5py.File(tmp_path / "a.h5") as fa, h5py.File(tmp_path / "b.h5") as fb:
        assert fa[SHOWERS_KEY].compression == "lzf"
        assert fb[SHOWERS_KEY].compression is None
    with pytest.raises(SystemExit, match="2"):  # a usage error, as argparse reports them
        main([*common, "-o", str(tmp_path / "c.h5"), "--compression", "zip"])
    assert "choose from none, gzip, lzf" in capsys.readouterr().err
    assert not (tmp_path / "c.h5").exists()
    helps = []
    for command in ("simulate", "generate", "geant4", "reweight"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        helps.append(capsys.readouterr().out)
    for text in helps:
        assert "--compression" in text
    assert all("--energy " not in text for text in helps)  # the alias is hidden
    assert all("--energies" in text for text in helps[:3])

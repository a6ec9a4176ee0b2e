from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

from caloforge.data import (
    ShowerData,
    ShowerFile,
    ShowerFileError,
    ShowerWriter,
    iter_showers,
    read_par04,
    read_showers,
    write_par04,
    write_showers,
)
from caloforge.geometry import Geometry, get_geometry

from ..conftest import make_showers


def test_round_trip(tmp_path: Path, tiny_geometry: Geometry) -> None:
    data = make_showers(tiny_geometry, 20, angles=True)
    data.attrs["generator"] = "test"
    write_showers(tmp_path / "a.h5", data)
    back = read_showers(tmp_path / "a.h5")
    assert back.geometry == tiny_geometry
    np.testing.assert_array_equal(back.showers, data.showers)
    np.testing.assert_array_equal(back.energies, data.energies)
    assert back.angles is not None
    np.testing.assert_array_equal(back.angles, data.angles)
    assert back.attrs["generator"] == "test"
    with h5py.File(tmp_path / "a.h5") as f:
        assert f["incident_energies"].shape == (20, 1)
        assert f["showers"].shape == (20, 60)


def test_float64_plain_calochallenge_file_is_cast(tmp_path: Path) -> None:
    g = get_geometry("calochallenge-1-photons")
    path = tmp_path / "ds1.h5"
    with h5py.File(path, "w") as f:
        f["incident_energies"] = np.full((3, 1), 256.0)
        f["showers"] = np.ones((3, g.n_voxels))
    data = read_showers(path)
    assert data.geometry.name == "calochallenge-1-photons"
    assert data.showers.dtype == np.float32
    assert data.energies.shape == (3,)


def test_chunked_iteration(shower_file: Callable[..., Path]) -> None:
    path = shower_file(n=50)
    chunks = list(iter_showers(path, chunk_size=16))
    assert [len(c) for c in chunks] == [16, 16, 16, 2]
    full = read_showers(path)
    np.testing.assert_array_equal(np.concatenate([c.showers for c in chunks]), full.showers)
    with ShowerFile(path) as f:
        assert len(f) == 50
        assert len(f.read(10, 20)) == 10


def test_refuses_overwrite_and_force(tmp_path: Path, tiny_geometry: Geometry) -> None:
    path = tmp_path / "x.h5"
    write_showers(path, make_showers(tiny_geometry, 4))
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="--force"):
        write_showers(path, make_showers(tiny_geometry, 5))
    assert path.read_bytes() == before
    write_showers(path, make_showers(tiny_geometry, 5), overwrite=True)
    assert len(read_showers(path)) == 5


def test_failed_write_leaves_nothing(tmp_path: Path, tiny_geometry: Geometry) -> None:
    path = tmp_path / "y.h5"
    def write_then_fail() -> None:
        with ShowerWriter(path, tiny_geometry) as w:
            w.write(make_showers(tiny_geometry, 4))
            msg = "boom"
            raise RuntimeError(msg)

    with pytest.raises(RuntimeError, match="boom"):
        write_then_fail()
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def _write_raw(path: Path, **datasets: np.ndarray) -> Path:
    with h5py.File(path, "w") as f:
        for k, v in datasets.items():
            f[k] = v
    return path


def test_missing_key(tmp_path: Path) -> None:
    path = _write_raw(tmp_path / "m.h5", showers=np.ones((2, 60)))
    with pytest.raises(ShowerFileError, match=r"m\.h5.*incident_energies"):
        read_showers(path, "calochallenge-2")


def test_voxel_count_mismatch(tmp_path: Path) -> None:
    path = _write_raw(tmp_path / "v.h5", incident_energies=np.ones((2, 1)), showers=np.ones((2, 61)))
    with pytest.raises(ShowerFileError, match="no built-in geometry has 61"):
        read_showers(path)
    with pytest.raises(ShowerFileError, match="6480"):
        read_showers(path, "calochallenge-2")


@pytest.mark.parametrize(
    ("energies", "shower_value", "match"),
    [
        (np.ones((2, 1)), np.nan, "NaN or inf"),
        (np.ones((2, 1)), np.inf, "NaN or inf"),
        (np.ones((2, 1)), -1.0, "negative"),
        (np.array([[1.0], [-5.0]]), 1.0, "positive"),
        (np.array([[1.0], [np.nan]]), 1.0, "NaN"),
    ],
)
def test_bad_values(tmp_path: Path, energies: np.ndarray, shower_value: float, match: str) -> None:
    showers = np.ones((2, 368))
    showers[1, 5] = shower_value
    path = _write_raw(tmp_path / "bad.h5", incident_energies=energies, showers=showers)
    with pytest.raises(ShowerFileError, match=match):
        read_showers(path)


def test_empty_truncated_and_missing_files(tmp_path: Path, shower_file: Callable[..., Path]) -> None:
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    with pytest.raises(ShowerFileError, match=r"empty\.h5.*cannot open"):
        read_showers(empty)
    good = shower_file("good.h5", n=64)
    truncated = tmp_path / "trunc.h5"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ShowerFileError, match=r"trunc\.h5"):
        read_showers(truncated)
    with pytest.raises(ShowerFileError, match="no such file"):
        read_showers(tmp_path / "nothere.h5")
    zero = _write_raw(tmp_path / "zero.h5", incident_energies=np.ones((0, 1)), showers=np.ones((0, 368)))
    with pytest.raises(ShowerFileError, match="no showers"):
        read_showers(zero)


def test_wrong_geometry_for_stored_one(shower_file: Callable[..., Path]) -> None:
    path = shower_file()
    other = Geometry.regular("other", n_layers=3, n_alpha=5, r_edges=[0, 1, 2, 3, 4])
    with pytest.raises(ShowerFileError, match="written for geometry 'tiny'"):
        read_showers(path, other)


def test_par04_round_trip(tmp_path: Path) -> None:
    g = get_geometry("par04")
    rng = np.random.default_rng(1)
    data = ShowerData(
        np.array([1e3, 1e3, 64e3], np.float32), rng.random((3, g.n_voxels)).astype(np.float32), g
    )
    path = tmp_path / "par04.h5"
    write_par04(path, data)
    with h5py.File(path) as f:
        assert sorted(f.keys()) == ["1", "64"]
        assert f["1"].shape == (2, 18, 50, 45)
        # Par04 (r, phi, z) index maps to CaloChallenge (z, phi, r)
        assert f["64"][0, 3, 7, 11] == data.showers[2, g.ravel(11, 7, 3)]
    back = read_par04(path)
    order = np.argsort(back.energies, kind="stable")
    np.testing.assert_array_equal(back.showers[order], data.showers)
    with pytest.raises(FileExistsError):
        write_par04(path, data)


def test_par04_bad_dataset(tmp_path: Path) -> None:
    path = _write_raw(tmp_path / "p.h5", **{"10": np.ones((2, 18, 50, 44))})
    with pytest.raises(ShowerFileError, match=r"p\.h5.*shape"):
        read_par04(path)
    path = _write_raw(tmp_path / "q.h5", ten=np.ones((2, 18, 50, 45)))
    with pytest.raises(ShowerFileError, match="not named by an energy"):
        read_par04(path)

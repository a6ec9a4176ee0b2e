"""The optional per-shower ``weights`` dataset: round trip, slicing, checksums, bad values, old readers."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from caloforge.data import ShowerData, ShowerFile, ShowerFileError, ShowerWriter, read_showers, write_showers
from caloforge.data.io import WEIGHTS_KEY
from caloforge.geometry import Geometry

from ..conftest import make_showers


def _weighted(geometry: Geometry, n: int = 20) -> ShowerData:
    data = make_showers(geometry, n)
    data.weights = np.linspace(0.5, 1.5, n, dtype=np.float32)
    return data


def test_weights_round_trip_and_slices(tmp_path: Path, tiny_geometry: Geometry) -> None:
    data = _weighted(tiny_geometry)
    write_showers(tmp_path / "w.h5", data)
    back = read_showers(tmp_path / "w.h5")
    assert back.weights is not None
    np.testing.assert_array_equal(back.weights, data.weights)
    part = read_showers(tmp_path / "w.h5", start=5, stop=9)
    assert part.weights is not None
    np.testing.assert_array_equal(part.weights, np.asarray(data.weights)[5:9])
    sub = back.subset(np.array([0, 3]))
    assert sub.weights is not None
    assert sub.weights.tolist() == [float(back.weights[0]), float(back.weights[3])]
    joined = ShowerData.concatenate([back, back])
    assert joined.weights is not None
    assert len(joined.weights) == 40
    with h5py.File(tmp_path / "w.h5") as f:
        assert f[WEIGHTS_KEY].shape == (20,)
        assert f[WEIGHTS_KEY].fletcher32  # covered by the writer's chunk checksums


def test_unweighted_files_have_no_weights(tmp_path: Path, tiny_geometry: Geometry) -> None:
    write_showers(tmp_path / "u.h5", make_showers(tiny_geometry, 8))
    assert read_showers(tmp_path / "u.h5").weights is None
    with h5py.File(tmp_path / "u.h5") as f:
        assert WEIGHTS_KEY not in f


def test_reader_that_ignores_weights_still_works(tmp_path: Path, tiny_geometry: Geometry) -> None:
    write_showers(tmp_path / "w.h5", _weighted(tiny_geometry))
    with h5py.File(tmp_path / "w.h5") as f:  # a plain CaloChallenge reader: only the two standard keys
        assert f["showers"].shape == (20, tiny_geometry.n_voxels)
        assert f["incident_energies"].shape == (20, 1)


def test_flipped_byte_in_weights_is_reported(tmp_path: Path, tiny_geometry: Geometry) -> None:
    path = tmp_path / "w.h5"
    write_showers(path, _weighted(tiny_geometry))
    with h5py.File(path) as f:
        offset = f[WEIGHTS_KEY].id.get_chunk_info(0).byte_offset
    raw = bytearray(path.read_bytes())
    raw[offset + 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ShowerFileError, match="corrupted"):
        read_showers(path)


@pytest.mark.parametrize(("values", "match"), [(np.full(20, -1.0), "non-negative"), (np.full(20, np.nan), "NaN"),
                                                (np.ones(19), "shape")])
def test_bad_weights_are_refused(tmp_path: Path, tiny_geometry: Geometry, values: np.ndarray, match: str) -> None:
    path = tmp_path / "bad.h5"
    write_showers(path, make_showers(tiny_geometry, 20))
    with h5py.File(path, "a") as f:
        f.create_dataset(WEIGHTS_KEY, data=values)
    with pytest.raises(ShowerFileError, match=match) as info:
        ShowerFile(path)
    assert str(path) in str(info.value)


def test_container_and_writer_checks(tmp_path: Path, tiny_geometry: Geometry) -> None:
    data = make_showers(tiny_geometry, 4)
    with pytest.raises(ValueError, match="weights"):
        ShowerData(data.energies, data.showers, tiny_geometry, weights=np.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        ShowerData(data.energies, data.showers, tiny_geometry, weights=-np.ones(4))
    with pytest.raises(ValueError, match="weights"), ShowerWriter(tmp_path / "x.h5", tiny_geometry,
                                                                   with_weights=True) as writer:
        writer.write(data)
    assert not (tmp_path / "x.h5").exists()

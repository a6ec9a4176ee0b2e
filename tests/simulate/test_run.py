from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from caloforge.data import read_showers
from caloforge.simulate import simulate_to_file


def test_simulate_to_file_round_trip_and_seed(tmp_path: Path) -> None:
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    run = simulate_to_file(a, "calochallenge-2", 30, "log-uniform:1:100", seed=3, batch_size=8)
    simulate_to_file(b, "calochallenge-2", 30, "log-uniform:1:100", seed=3, batch_size=8)
    assert run.n_showers == 30
    assert run.showers_per_second > 0
    da, db = read_showers(a), read_showers(b)
    assert da.geometry.name == "calochallenge-2"
    assert len(da) == 30
    assert da.energies.min() >= 1e3
    assert da.energies.max() <= 1e5
    np.testing.assert_array_equal(da.showers, db.showers)
    assert da.attrs["seed"] == 3
    assert da.attrs["generator"] == "caloforge GFlash"
    assert da.attrs["energy_spec"] == "log-uniform:1:100"


def test_simulate_to_file_refuses_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "out.h5"
    simulate_to_file(path, "calochallenge-2", 4, "fixed:10", seed=1)
    with pytest.raises(FileExistsError, match="already exists"):
        simulate_to_file(path, "calochallenge-2", 4, "fixed:10", seed=1)
    simulate_to_file(path, "calochallenge-2", 6, "fixed:10", seed=1, overwrite=True)
    data = read_showers(path)
    assert len(data) == 6
    assert np.all(data.energies == 1e4)
    assert not list(tmp_path.glob(".*tmp"))


def test_simulate_to_file_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        simulate_to_file(tmp_path / "x.h5", "calochallenge-2", 0)
    with pytest.raises(ValueError, match="energy spec"):
        simulate_to_file(tmp_path / "x.h5", "calochallenge-2", 3, "weird:1")
    assert not (tmp_path / "x.h5").exists()


def test_simulate_to_file_records_fresh_seed(tmp_path: Path) -> None:
    first = tmp_path / "first.h5"
    simulate_to_file(first, "calochallenge-2", 5, "fixed:5")
    seed = read_showers(first).attrs["seed"]
    assert seed >= 0
    again = tmp_path / "again.h5"
    simulate_to_file(again, "calochallenge-2", 5, "fixed:5", seed=seed)
    np.testing.assert_array_equal(read_showers(first).showers, read_showers(again).showers)

"""Campaign entry points: simulation and checkpoint sampling, same file for any worker count."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from caloforge.data import read_showers
from caloforge.distributed import resolve_seed, simulate_sharded
from caloforge.geometry import Geometry


@pytest.mark.slow
def test_simulate_sharded_same_for_one_and_two_workers(tmp_path: Path, tiny_geometry: Geometry) -> None:
    one = simulate_sharded(tmp_path / "one.h5", tiny_geometry, 30, "uniform:1:10", seed=2, shard_size=8)
    two = simulate_sharded(tmp_path / "two.h5", tiny_geometry, 30, "uniform:1:10", seed=2, shard_size=8, workers=2)
    assert (one.workers, two.workers, one.n_shards) == (0, 2, 4)
    a, b = read_showers(one.path), read_showers(two.path)
    np.testing.assert_array_equal(a.showers, b.showers)
    assert a.energies.min() >= 1e3
    assert a.energies.max() <= 1e4
    assert a.attrs["generator"] == "caloforge GFlash"


def test_simulate_sharded_validates_before_work(tmp_path: Path, tiny_geometry: Geometry) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        simulate_sharded(tmp_path / "x.h5", tiny_geometry, 0)
    with pytest.raises(ValueError, match="unknown energy spec"):
        simulate_sharded(tmp_path / "x.h5", tiny_geometry, 5, "gauss:1:2")
    assert not list(tmp_path.iterdir())


def test_resolve_seed() -> None:
    assert resolve_seed(5) == 5
    assert isinstance(resolve_seed(None), int)

"""The cluster context: the same file for any worker count; validation before any work."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from caloforge.data import Conditions, read_showers
from caloforge.distributed import cluster, produce_sharded, resolve_seed
from caloforge.geometry import Geometry
from caloforge.simulate import GFlashProducer


def _simulate(path: Path, geometry: Geometry, workers: int) -> object:
    conditions = Conditions.from_spec("uniform:1:10", 30, 2)
    with cluster(workers) as client:
        return produce_sharded(GFlashProducer(geometry), conditions, path, seed=2, shard_size=8, client=client)


@pytest.mark.slow
def test_sharded_simulation_same_for_one_and_two_workers(tmp_path: Path, tiny_geometry: Geometry) -> None:
    one = _simulate(tmp_path / "one.h5", tiny_geometry, 1)
    two = _simulate(tmp_path / "two.h5", tiny_geometry, 2)
    assert (one.workers, two.workers, one.n_shards) == (0, 2, 4)  # type: ignore[attr-defined]
    a, b = read_showers(tmp_path / "one.h5"), read_showers(tmp_path / "two.h5")
    np.testing.assert_array_equal(a.showers, b.showers)
    assert a.energies.min() >= 1e3
    assert a.energies.max() <= 1e4
    assert a.attrs["generator"] == "caloforge GFlash"


def test_sharded_production_validates_before_work(tmp_path: Path, tiny_geometry: Geometry) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        produce_sharded(GFlashProducer(tiny_geometry), Conditions.from_spec("fixed:1", 0), tmp_path / "x.h5", seed=1)
    with pytest.raises(ValueError, match="unknown energy spec"):
        Conditions.from_spec("gauss:1:2", 5)
    assert not list(tmp_path.iterdir())


def test_resolve_seed() -> None:
    assert resolve_seed(5) == 5
    assert isinstance(resolve_seed(None), int)

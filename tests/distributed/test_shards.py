"""Shard planning, seeds, per-shard writing, merging and virtual datasets."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from caloforge.data import Conditions, ShowerData, produce, read_showers
from caloforge.distributed import (
    merge_shards,
    plan_shards,
    run_shard,
    shard_seed,
    write_virtual,
)
from caloforge.geometry import Geometry
from caloforge.simulate import GFlashProducer


def test_plan_covers_events_contiguously() -> None:
    shards = plan_shards(23, 5, seed=1)
    assert [len(s) for s in shards] == [5, 5, 5, 5, 3]
    assert shards[0].start == 0
    assert all(a.stop == b.start for a, b in itertools.pairwise(shards))
    assert shards[-1].stop == 23
    assert len({s.seed for s in shards}) == len(shards)


def test_shard_seed_depends_only_on_run_seed_and_index() -> None:
    assert plan_shards(100, 10, 4)[3].seed == plan_shards(40, 10, 4)[3].seed == shard_seed(4, 3)
    assert shard_seed(4, 3) != shard_seed(5, 3)
    assert 0 <= shard_seed(2**40, 7) < 2**63


@pytest.mark.parametrize(("n", "size", "seed"), [(0, 5, 1), (5, 0, 1), (5, 5, -1)])
def test_plan_rejects_bad_arguments(n: int, size: int, seed: int) -> None:
    with pytest.raises(ValueError, match=r"must|need"):
        plan_shards(n, size, seed)


def _write_two_shards(tmp_path: Path, geometry: Geometry) -> tuple[list[Path], ShowerData]:
    producer = GFlashProducer(geometry)
    energies = Conditions(np.geomspace(1e3, 1e5, 7).astype(np.float32))
    shards = plan_shards(len(energies), 4, seed=9)
    paths = [run_shard(producer, energies[s.start : s.stop], s, tmp_path) for s in shards]
    parts = [produce(producer, energies[s.start : s.stop], s.seed) for s in shards]
    return paths, ShowerData.concatenate(parts)


def test_merge_concatenates_in_order(tmp_path: Path, tiny_geometry: Geometry) -> None:
    paths, expected = _write_two_shards(tmp_path, tiny_geometry)
    assert merge_shards(paths, tmp_path / "out.h5", attrs={"seed": 9}) == 7
    merged = read_showers(tmp_path / "out.h5")
    np.testing.assert_array_equal(merged.showers, expected.showers)
    np.testing.assert_array_equal(merged.energies, expected.energies)
    assert merged.attrs["seed"] == 9
    with pytest.raises(FileExistsError):
        merge_shards(paths, tmp_path / "out.h5")


def test_virtual_dataset_reads_like_a_file(tmp_path: Path, tiny_geometry: Geometry) -> None:
    shard_dir = tmp_path / "shards"
    shard_dir.mkdir()
    paths, expected = _write_two_shards(shard_dir, tiny_geometry)
    assert write_virtual(paths, tmp_path / "virtual.h5") == 7
    data = read_showers(tmp_path / "virtual.h5")
    np.testing.assert_array_equal(data.showers, expected.showers)
    assert data.geometry.same_binning(tiny_geometry)


class _Short(GFlashProducer):
    def batches(self, conditions: Conditions, seed: int):  # type: ignore[no-untyped-def]
        yield from super().batches(conditions[:-1], seed)


def test_run_shard_rejects_wrong_count(tmp_path: Path, tiny_geometry: Geometry) -> None:
    with pytest.raises(ValueError, match="produced 2 showers for 3"):
        run_shard(_Short(tiny_geometry), Conditions(np.ones(3, np.float32) * 1e3), plan_shards(3, 3, 0)[0], tmp_path)
    assert not list(tmp_path.iterdir())

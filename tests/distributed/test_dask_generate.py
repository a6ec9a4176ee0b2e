"""Sharded generation: identical to in-process generation, retries, atomic output, resume, virtual output."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from caloforge.data import Conditions, ShowerData, read_showers
from caloforge.distributed import produce_sharded
from caloforge.geometry import Geometry
from caloforge.simulate import GFlashProducer

ENERGIES = Conditions(np.geomspace(1e3, 1e5, 50).astype(np.float32))


class FlakyProducer(GFlashProducer):
    """Fails the first call for each shard (remembered in marker files), then simulates."""

    def __init__(self, geometry: Geometry, marker_dir: Path, *, always: bool = False) -> None:
        super().__init__(geometry)
        self.marker_dir = marker_dir
        self.always = always

    def batches(self, conditions: Conditions, seed: int) -> Iterator[ShowerData]:
        marker = self.marker_dir / f"{seed}.failed"
        if self.always or not marker.exists():
            marker.touch()
            msg = f"simulated worker failure for shard seed {seed}"
            raise RuntimeError(msg)
        yield from super().batches(conditions, seed)


def test_cluster_equals_single_process(tmp_path: Path, tiny_geometry: Geometry, dask_client: Any) -> None:
    producer = GFlashProducer(tiny_geometry)
    single = produce_sharded(producer, ENERGIES, tmp_path / "single.h5", seed=11, shard_size=8)
    multi = produce_sharded(producer, ENERGIES, tmp_path / "multi.h5", seed=11, shard_size=8, client=dask_client)
    assert (single.n_shards, multi.n_shards, multi.workers) == (7, 7, 2)
    a, b = read_showers(single.path), read_showers(multi.path)
    np.testing.assert_array_equal(a.showers, b.showers)
    np.testing.assert_array_equal(a.energies, ENERGIES.energies)
    assert a.attrs["seed"] == 11
    assert a.attrs["generator"] == "caloforge GFlash"
    assert (single.label, single.seed, single.n) == ("caloforge GFlash", 11, 50)
    other = produce_sharded(producer, ENERGIES, tmp_path / "other.h5", seed=12, shard_size=8)
    assert not np.array_equal(read_showers(other.path).showers, a.showers)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["multi.h5", "other.h5", "single.h5"]  # no shards left


def test_failed_shard_is_retried(tmp_path: Path, tiny_geometry: Geometry, dask_client: Any) -> None:
    (tmp_path / "markers").mkdir()
    flaky = FlakyProducer(tiny_geometry, tmp_path / "markers")
    run = produce_sharded(flaky, ENERGIES, tmp_path / "out.h5", seed=3, shard_size=20, client=dask_client, retries=1)
    reference = produce_sharded(GFlashProducer(tiny_geometry), ENERGIES, tmp_path / "ref.h5", seed=3, shard_size=20)
    np.testing.assert_array_equal(read_showers(run.path).showers, read_showers(reference.path).showers)
    assert len(list((tmp_path / "markers").iterdir())) == 3


def test_failure_never_leaves_output(tmp_path: Path, tiny_geometry: Geometry, dask_client: Any) -> None:
    broken = FlakyProducer(tiny_geometry, tmp_path, always=True)
    out = tmp_path / "out.h5"
    with pytest.raises(RuntimeError, match="simulated worker failure"):
        produce_sharded(broken, ENERGIES, out, seed=3, shard_size=20, client=dask_client, retries=1)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.suffix != ".failed"]


def test_existing_output_is_refused_before_work(tmp_path: Path, tiny_geometry: Geometry) -> None:
    out = tmp_path / "out.h5"
    out.write_bytes(b"keep")
    with pytest.raises(FileExistsError, match="already exists"):
        produce_sharded(FlakyProducer(tiny_geometry, tmp_path, always=True), ENERGIES, out, seed=1)
    assert out.read_bytes() == b"keep"


def test_resume_reuses_complete_shards(tmp_path: Path, tiny_geometry: Geometry) -> None:
    shard_dir = tmp_path / "shards"
    producer = GFlashProducer(tiny_geometry)
    first = produce_sharded(producer, ENERGIES, tmp_path / "a.h5", seed=5, shard_size=16, shard_dir=shard_dir)
    assert len(list(shard_dir.glob("shard-*.h5"))) == first.n_shards == 4
    # Every shard is complete: a producer that always fails is never called.
    again = produce_sharded(
        FlakyProducer(tiny_geometry, tmp_path, always=True), ENERGIES, tmp_path / "b.h5", seed=5, shard_size=16,
        shard_dir=shard_dir,
    )
    np.testing.assert_array_equal(read_showers(first.path).showers, read_showers(again.path).showers)


def test_virtual_output_keeps_shards(tmp_path: Path, tiny_geometry: Geometry, dask_client: Any) -> None:
    producer = GFlashProducer(tiny_geometry)
    run = produce_sharded(
        producer, ENERGIES, tmp_path / "v.h5", seed=2, shard_size=16, client=dask_client, virtual=True
    )
    copy = produce_sharded(producer, ENERGIES, tmp_path / "c.h5", seed=2, shard_size=16)
    assert run.virtual
    assert len(list((tmp_path / "v.h5.shards").glob("shard-*.h5"))) == 4
    np.testing.assert_array_equal(read_showers(run.path).showers, read_showers(copy.path).showers)


def test_connect_rejects_zero_workers() -> None:
    from caloforge.distributed import connect

    with pytest.raises(ValueError, match="at least one worker"), connect(workers=0):
        pass


@pytest.mark.slow
def test_process_cluster_equals_single_process(tmp_path: Path, tiny_geometry: Geometry) -> None:
    from caloforge.distributed import connect

    producer = GFlashProducer(tiny_geometry)
    single = produce_sharded(producer, ENERGIES, tmp_path / "single.h5", seed=4, shard_size=10)
    with connect(workers=2, processes=True) as client:
        multi = produce_sharded(producer, ENERGIES, tmp_path / "multi.h5", seed=4, shard_size=10, client=client)
    np.testing.assert_array_equal(read_showers(single.path).showers, read_showers(multi.path).showers)

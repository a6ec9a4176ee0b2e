"""Training data: reproducible split, epoch shuffling, resuming mid-epoch, data-parallel sharding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from caloforge.geometry import Geometry
from caloforge.training import DataConfig, ShowerTensors, SimulateConfig, load_training_data, split_data

from ..conftest import make_showers


def test_split_is_reproducible_and_disjoint(tiny_geometry: Geometry) -> None:
    data = make_showers(tiny_geometry, 50)
    train, val = split_data(data, 0.2, seed=3)
    again, _ = split_data(data, 0.2, seed=3)
    other, _ = split_data(data, 0.2, seed=4)
    assert val is not None
    assert (len(train), len(val)) == (40, 10)
    np.testing.assert_array_equal(train.energies, again.energies)
    assert not np.array_equal(train.energies, other.energies)
    assert not set(train.energies.tolist()) & set(val.energies.tolist())
    assert split_data(data, 0.0, seed=0)[1] is None


def test_batches_shuffle_per_epoch_and_resume(tiny_geometry: Geometry) -> None:
    tensors = ShowerTensors.from_data(make_showers(tiny_geometry, 40))
    epoch0 = [b.conditions[:, 0] for b in tensors.batches(8, epoch=0, seed=1)]
    epoch1 = [b.conditions[:, 0] for b in tensors.batches(8, epoch=1, seed=1)]
    assert len(epoch0) == 5
    assert sorted(torch.cat(epoch0).tolist()) == sorted(tensors.conditions[:, 0].tolist())
    assert not torch.equal(torch.cat(epoch0), torch.cat(epoch1))
    tail = [b.conditions[:, 0] for b in tensors.batches(8, epoch=0, seed=1, start=3)]
    assert all(torch.equal(a, b) for a, b in zip(epoch0[3:], tail, strict=True))


def test_data_parallel_shards_cover_the_epoch(tiny_geometry: Geometry) -> None:
    tensors = ShowerTensors.from_data(make_showers(tiny_geometry, 37))
    shards = [
        torch.cat([b.conditions[:, 0] for b in tensors.batches(6, epoch=0, seed=0, rank=r, world_size=2)])
        for r in range(2)
    ]
    assert len(shards[0]) == len(shards[1]) == 18  # 19 per rank after wrapping, 3 full batches of 6
    assert not set(shards[0].tolist()) & set(shards[1].tolist())


def test_validation_batches_keep_the_remainder(tiny_geometry: Geometry) -> None:
    tensors = ShowerTensors.from_data(make_showers(tiny_geometry, 10))
    sizes = [len(b) for b in tensors.batches(4, epoch=0, seed=0, shuffle=False, drop_last=False)]
    assert sizes == [4, 4, 2]


def test_load_file_slice(tiny_geometry: Geometry, shower_file, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = shower_file(n=30, angles=True)
    data = load_training_data(DataConfig(path=str(path), start=5, stop=25))
    assert len(data) == 20
    assert data.angles is not None
    assert load_training_data(DataConfig(path=str(path), use_angles=False)).angles is None
    with pytest.raises(ValueError, match="geometry"):
        load_training_data(DataConfig(simulate=SimulateConfig(n=4)))


@pytest.mark.slow
def test_load_simulated() -> None:
    simulated = load_training_data(
        DataConfig(geometry="calochallenge-2", simulate=SimulateConfig(n=4, energy="fixed:10", seed=0))
    )
    assert simulated.showers.shape == (4, 6480)
    assert np.allclose(simulated.energies, 1e4)

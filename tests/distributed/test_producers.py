"""Shard producers: seeded, picklable without their heavy state, usable on a cluster."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from caloforge.data import read_showers
from caloforge.distributed import CheckpointProducer, SimulatorProducer, generate_sharded
from caloforge.geometry import Geometry

from ..conftest import make_showers


def test_simulator_producer_is_seeded(tiny_geometry: Geometry) -> None:
    producer = SimulatorProducer(tiny_geometry)
    energies = np.array([2e3, 5e4], dtype=np.float32)
    a, b, c = producer(energies, 1), producer(energies, 1), producer(energies, 2)
    np.testing.assert_array_equal(a.showers, b.showers)
    assert not np.array_equal(a.showers, c.showers)
    np.testing.assert_array_equal(a.energies, energies)
    assert a.showers.min() >= 0


def test_pickle_drops_the_built_simulator(tiny_geometry: Geometry) -> None:
    producer = SimulatorProducer(tiny_geometry)
    energies = np.array([1e4], dtype=np.float32)
    before = producer(energies, 3)
    assert producer._state is not None
    clone = pickle.loads(pickle.dumps(producer))
    assert clone._state is None
    np.testing.assert_array_equal(clone(energies, 3).showers, before.showers)


def test_checkpoint_producer_loads_once_and_is_seeded(
    tmp_path: Path, tiny_geometry: Geometry, dask_client: Any
) -> None:
    torch = pytest.importorskip("torch")
    from caloforge.models import MODELS, build_model, save_model

    cls = MODELS.get("wgan")
    model = build_model("wgan", tiny_geometry, cls.smoke_config())
    data = make_showers(tiny_geometry, 32)
    model.fit_preprocessing(torch.as_tensor(data.showers), torch.as_tensor(data.conditions()))
    save_model(model, tmp_path / "model.pt")
    producer = CheckpointProducer(tmp_path / "model.pt", batch_size=4)
    energies = data.energies[:10]
    a, b = producer(energies, 1), producer(energies, 1)
    model_object = producer._state
    assert producer(energies, 2) is not None
    assert producer._state is model_object
    np.testing.assert_array_equal(a.showers, b.showers)
    assert a.showers.shape == (10, tiny_geometry.n_voxels)
    assert a.showers.min() >= 0
    single = generate_sharded(producer, energies, tmp_path / "single.h5", seed=6, shard_size=3)
    multi = generate_sharded(producer, energies, tmp_path / "multi.h5", seed=6, shard_size=3, client=dask_client)
    np.testing.assert_array_equal(read_showers(single.path).showers, read_showers(multi.path).showers)

"""Shard producers: seeded, picklable without their heavy state."""

from __future__ import annotations

import pickle

import numpy as np

from caloforge.distributed import SimulatorProducer
from caloforge.geometry import Geometry


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

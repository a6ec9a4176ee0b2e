"""The simulator producer through produce_to_file: round trip, seeding, atomic refusal, bad arguments."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from caloforge.data import Conditions, ShowerProducer, produce_to_file, read_showers
from caloforge.geometry import Geometry
from caloforge.simulate import GFlashProducer


def _simulate(path: Path, n: int, spec: str, seed: int, **kwargs: object) -> object:
    producer = GFlashProducer("calochallenge-2", batch_size=8)
    return produce_to_file(producer, Conditions.from_spec(spec, n, seed), path, seed=seed, **kwargs)  # type: ignore[arg-type]


def test_produce_to_file_round_trip_and_seed(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.h5", tmp_path / "b.h5", tmp_path / "c.h5"
    run = _simulate(a, 30, "log-uniform:1:100", 3)
    _simulate(b, 30, "log-uniform:1:100", 3)
    _simulate(c, 30, "log-uniform:1:100", 4)
    assert run.n == 30
    assert run.showers_per_second > 0
    assert run.label == "caloforge GFlash"
    da, db, dc = read_showers(a), read_showers(b), read_showers(c)
    assert da.geometry.name == "calochallenge-2"
    assert len(da) == 30
    assert da.energies.min() >= 1e3
    assert da.energies.max() <= 1e5
    np.testing.assert_array_equal(da.showers, db.showers)
    assert not np.array_equal(da.showers, dc.showers)
    assert da.attrs["seed"] == 3
    assert da.attrs["generator"] == "caloforge GFlash"
    assert "simulator_config" in da.attrs


def test_produce_to_file_refuses_overwrite_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "out.h5"
    _simulate(path, 4, "fixed:10", 1)
    with pytest.raises(FileExistsError, match="already exists"):
        _simulate(path, 4, "fixed:10", 1)
    _simulate(path, 6, "fixed:10", 1, overwrite=True)
    data = read_showers(path)
    assert len(data) == 6
    assert np.all(data.energies == 1e4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.h5"]


class _Failing(GFlashProducer):
    def batches(self, conditions: Conditions, seed: int):  # type: ignore[no-untyped-def]
        yield from list(super().batches(conditions, seed))[:1]
        msg = "worker died"
        raise RuntimeError(msg)


def test_a_failing_producer_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="worker died"):
        produce_to_file(_Failing("calochallenge-2", batch_size=2), Conditions.from_spec("fixed:10", 5), tmp_path / "x.h5",
                        seed=1)
    assert not list(tmp_path.iterdir())


def test_simulator_producer_is_seeded_and_pickles_without_its_simulator(tiny_geometry: Geometry) -> None:
    producer = GFlashProducer(tiny_geometry)
    assert isinstance(producer, ShowerProducer)
    conditions = Conditions(np.array([2e3, 5e4], dtype=np.float32), np.array([0.1, 0.2], dtype=np.float32))
    accepted = producer.accept(conditions)
    assert accepted.angles is None
    a = np.concatenate([d.showers for d in producer.batches(accepted, 1)])
    b = np.concatenate([d.showers for d in producer.batches(accepted, 1)])
    c = np.concatenate([d.showers for d in producer.batches(accepted, 2)])
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert producer._state is not None
    clone = pickle.loads(pickle.dumps(producer))
    assert clone._state is None
    np.testing.assert_array_equal(np.concatenate([d.showers for d in clone.batches(accepted, 1)]), a)


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        _simulate(tmp_path / "x.h5", 0, "fixed:10", 1)
    with pytest.raises(ValueError, match="energy spec"):
        _simulate(tmp_path / "x.h5", 3, "weird:1", 1)
    assert not (tmp_path / "x.h5").exists()

"""The model producer on a cluster: loaded once per process, the same file in shards as in one process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from caloforge.data import Conditions, produce, produce_to_file, read_showers
from caloforge.distributed import produce_sharded
from caloforge.geometry import Geometry
from caloforge.sampling import ModelProducer

from ..conftest import make_showers


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
    producer = ModelProducer(tmp_path / "model.pt", batch_size=4, device="cpu")
    energies = Conditions(data.energies[:10])
    a, b = produce(producer, energies, 1), produce(producer, energies, 1)
    model_object = producer._state
    assert produce(producer, energies, 2) is not None
    assert producer._state is model_object
    np.testing.assert_array_equal(a.showers, b.showers)
    assert a.showers.shape == (10, tiny_geometry.n_voxels)
    assert a.showers.min() >= 0
    single = produce_sharded(producer, energies, tmp_path / "single.h5", seed=6, shard_size=3)
    multi = produce_sharded(producer, energies, tmp_path / "multi.h5", seed=6, shard_size=3, client=dask_client)
    np.testing.assert_array_equal(read_showers(single.path).showers, read_showers(multi.path).showers)
    # one shard is the in-process path with the shard's seed
    from caloforge.distributed import shard_seed

    one = produce_sharded(producer, energies, tmp_path / "one.h5", seed=6, shard_size=10)
    plain = produce_to_file(producer, energies, tmp_path / "plain.h5", seed=shard_seed(6, 0))
    np.testing.assert_array_equal(read_showers(one.path).showers, read_showers(plain.path).showers)

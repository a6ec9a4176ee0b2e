"""``caloforge generate --workers/--dask-scheduler``: sharded generation from a checkpoint via the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from caloforge.cli.main import main
from caloforge.data import read_showers
from caloforge.geometry import Geometry
from caloforge.models import MODELS, build_model, save_model

from ..conftest import make_showers

pytest.importorskip("distributed")


@pytest.fixture
def checkpoint(tmp_path: Path, tiny_geometry: Geometry) -> Path:
    model = build_model("vae", tiny_geometry, MODELS.get("vae").smoke_config())
    data = make_showers(tiny_geometry, 32)
    model.fit_preprocessing(torch.as_tensor(data.showers), torch.as_tensor(data.conditions()))
    save_model(model, tmp_path / "model.pt")
    return tmp_path / "model.pt"


def test_generate_on_a_cluster_equals_in_process(tmp_path: Path, checkpoint: Path) -> None:
    from caloforge.distributed import connect

    common = ["generate", "--checkpoint", str(checkpoint), "--energies", "uniform:1:10", "--n", "20",
              "--seed", "3", "--shard-size", "8", "--device", "cpu", "--no-progress"]
    assert main([*common, "-o", str(tmp_path / "one.h5"), "--workers", "1"]) == 0
    with connect(workers=2, processes=False) as client:
        address = client.scheduler.address
        assert main([*common, "-o", str(tmp_path / "two.h5"), "--dask-scheduler", address]) == 0
    one, two = read_showers(tmp_path / "one.h5"), read_showers(tmp_path / "two.h5")
    assert len(one) == 20
    assert one.attrs["n_shards"] == 3
    np.testing.assert_array_equal(one.showers, two.showers)
    np.testing.assert_array_equal(one.energies, two.energies)
    assert main([*common, "-o", str(tmp_path / "one.h5"), "--workers", "1"]) == 2  # exists, no --force

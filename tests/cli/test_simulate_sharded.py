"""``caloforge simulate --workers/--dask-scheduler``: sharded simulation via the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from caloforge.cli.main import main
from caloforge.data import read_showers

pytest.importorskip("distributed")


def test_simulate_on_a_cluster_equals_in_process(tmp_path: Path) -> None:
    from caloforge.distributed import connect

    common = ["simulate", "--geometry", "calochallenge-2", "-n", "30", "--energy", "uniform:1:20", "--seed", "5",
              "--shard-size", "12", "--no-progress"]
    assert main([*common, "-o", str(tmp_path / "one.h5"), "--workers", "1"]) == 0
    with connect(workers=2, processes=False) as client:
        assert main([*common, "-o", str(tmp_path / "two.h5"), "--dask-scheduler", client.scheduler.address]) == 0
    one, two = read_showers(tmp_path / "one.h5"), read_showers(tmp_path / "two.h5")
    assert len(one) == 30
    assert one.attrs["n_shards"] == 3
    assert one.attrs["generator"] == "caloforge GFlash"
    np.testing.assert_array_equal(one.showers, two.showers)
    assert main([*common, "-o", str(tmp_path / "one.h5"), "--workers", "1"]) == 2  # exists, no --force

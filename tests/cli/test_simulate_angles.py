"""``caloforge simulate --angle/--phi/--frame`` end to end: angles in the file, attributes, bad input."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from caloforge.cli.main import main
from caloforge.data import read_showers


def test_simulate_angle_range_detector_frame_writes_angles(tmp_path: Path) -> None:
    out, head_on = tmp_path / "inclined.h5", tmp_path / "head-on.h5"
    base = ["simulate", "-n", "16", "--seed", "3", "--no-progress", "--geometry", "calochallenge-2"]
    assert main([*base, "--angle", "30:60", "--frame", "detector", "-o", str(out)]) == 0
    data = read_showers(out)
    assert data.angles is not None
    assert len(data.angles) == 16
    assert np.radians(30.0) <= data.angles.min() <= data.angles.max() <= np.radians(60.0)
    assert len(np.unique(data.angles)) == 16
    assert data.attrs["angle_spec"] == "30:60"
    assert data.attrs["frame"] == "detector"
    assert data.attrs["phi_spec"] == "0"
    assert main([*base, "-o", str(head_on)]) == 0
    plain = read_showers(head_on)
    assert plain.angles is None
    np.testing.assert_array_equal(plain.energies, data.energies)  # the angles have a stream of their own
    with h5py.File(head_on) as f:
        assert "frame" not in f.attrs
        assert "angle_spec" not in f.attrs
    # inclined showers move towards +x: the energy-weighted x of the deep layers is positive
    x = data.geometry.x_centres
    deep = data.geometry.voxel_layer >= 12
    assert float((data.showers[:, deep] * x[deep]).sum()) > 0.0


def test_simulate_angle_list_phi_and_shower_frame(tmp_path: Path) -> None:
    out = tmp_path / "mesh.h5"
    args = ["simulate", "-n", "12", "--seed", "1", "--no-progress", "--angle", "0,20,40", "--phi", "90",
            "--frame", "shower", "-o", str(out)]
    assert main(args) == 0
    data = read_showers(out)
    assert data.angles is not None
    assert set(np.degrees(data.angles).round(3).tolist()) <= {0.0, 20.0, 40.0}
    assert data.attrs["frame"] == "shower"
    assert data.attrs["phi_spec"] == "90"
    again = tmp_path / "again.h5"
    assert main([*args[:-1], str(again)]) == 0
    np.testing.assert_array_equal(read_showers(again).showers, data.showers)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--angle", "95"], "--angle '95'"),
        (["--angle", "a:b"], "not a number"),
        (["--phi", "10"], "--phi needs --angle"),
        (["--frame", "shower"], "--frame needs --angle"),
        (["--angle", "10", "--phi", "x"], "--phi 'x'"),
    ],
)
def test_simulate_bad_angle_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    out = tmp_path / "x.h5"
    assert main(["simulate", "-n", "3", "--no-progress", "-o", str(out), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_simulate_angles_survive_sharding(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    sharded, local = tmp_path / "sharded.h5", tmp_path / "local.h5"
    base = ["simulate", "-n", "20", "--seed", "5", "--no-progress", "--angle", "10:50", "--phi", "0:360"]
    assert main([*base, "--workers", "1", "--shard-size", "8", "-o", str(sharded)]) == 0
    assert main([*base, "-o", str(local)]) == 0
    a, b = read_showers(sharded), read_showers(local)
    assert a.angles is not None
    assert b.angles is not None
    assert np.radians(10.0) <= a.angles.min() <= a.angles.max() <= np.radians(50.0)
    assert a.attrs["phi_spec"] == "0:360"
    np.testing.assert_array_equal(a.angles, b.angles)  # the angle stream does not depend on sharding

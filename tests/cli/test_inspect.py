from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

from caloforge.cli.main import main
from caloforge.data.io import GEOMETRY_ATTR
from caloforge.geometry import Geometry

from ..conftest import make_showers


def test_inspect_prints_summary(shower_file: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    path = shower_file(n=10)
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "tiny (60 voxels)" in out
    assert "showers       10" in out
    assert main(["inspect", "--json", str(path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_events"] == 10
    assert 0 < summary["sparsity"] <= 1


def test_inspect_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.h5"
    bad.write_text("not hdf5")
    assert main(["inspect", str(bad)]) == 2
    assert "bad.h5" in capsys.readouterr().err


def test_inspect_counts_invalid_values(tmp_path: Path, tiny_geometry: Geometry,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    data = make_showers(tiny_geometry, 50)
    data.showers[3, :2] = np.nan
    data.showers[10, 5] = np.inf
    data.showers[40, 7] = -1.0
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as f:  # a foreign writer: caloforge itself refuses to write such values
        f["incident_energies"] = data.energies[:, None]
        f["showers"] = data.showers
        f.attrs[GEOMETRY_ATTR] = json.dumps(tiny_geometry.to_dict())
    assert main(["inspect", str(path)]) == 2
    captured = capsys.readouterr()
    out = captured.out
    assert "3 of 50 showers hold invalid voxel values (2 NaN, 1 inf, 1 negative; first in event 3)" in captured.err
    assert "invalid       2 NaN, 1 inf, 1 negative voxel values in 3 showers (first: event 3)" in out
    assert "showers       50" in out
    assert main(["inspect", "--json", str(path)]) == 2
    summary = json.loads(capsys.readouterr().out)
    assert (summary["n_nan"], summary["n_inf"], summary["n_negative"], summary["n_bad_showers"]) == (2, 1, 1, 3)
    assert np.isfinite(summary["response_mean"])


def test_inspect_help_has_a_description(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit, match="0"):
        main(["inspect", "--help"])
    assert "counted over the whole file" in capsys.readouterr().out

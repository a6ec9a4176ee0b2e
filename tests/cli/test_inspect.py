from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from caloforge.cli.main import main


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

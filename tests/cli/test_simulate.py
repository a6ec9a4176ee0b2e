from __future__ import annotations

from pathlib import Path

import pytest

from caloforge.cli.main import main
from caloforge.data import read_showers


def test_simulate_writes_file(tmp_path: Path) -> None:
    out = tmp_path / "sim.h5"
    args = ["simulate", "--particles", "12", "--energy", "log-uniform:1:100", "-o", str(out), "--seed", "4"]
    assert main([*args, "--no-progress"]) == 0
    data = read_showers(out)
    assert len(data) == 12
    assert data.geometry.name == "calochallenge-2"
    assert data.energies.min() >= 1e3
    assert data.energies.max() <= 1e5


def test_simulate_refuses_overwrite_and_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sim.h5"
    base = ["simulate", "-n", "3", "-o", str(out), "--no-progress", "--seed", "1"]
    assert main(base) == 0
    assert main(base) == 2
    assert "--force" in capsys.readouterr().err
    assert main([*base, "--force", "--geometry", "calochallenge-3", "--batch-size", "2"]) == 0
    assert read_showers(out).geometry.name == "calochallenge-3"
    assert main([*base, "--force", "--energy", "bogus"]) == 2
    assert main([*base, "--force", "--geometry", "calochallenge-1-photons"]) == 0  # carries its layer depths
    xml = tmp_path / "binning.xml"
    xml.write_text('<Bins><Bin pid="22" name="photon"><Layer id="0" r_edges="0,5,10" n_bin_alpha="1"/></Bin></Bins>')
    assert main([*base, "--force", "--geometry", str(xml)]) == 2
    assert "layer-thickness" in capsys.readouterr().err
    assert main([*base, "--force", "--geometry", str(xml), "--layer-thickness-mm", "20"]) == 0


def test_simulate_pions_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "pions.h5"
    args = ["simulate", "--particle", "pion", "--geometry", "ild-48x25x25", "-n", "6", "--energy", "fixed:20"]
    assert main([*args, "-o", str(out), "--seed", "3", "--no-progress"]) == 0
    data = read_showers(out)
    assert data.attrs["particle"] == "pion"
    assert "hadronic_config" in data.attrs
    assert data.showers.shape == (6, 30000)
    hits = data.showers[data.showers > 0]
    assert hits.min() >= 0.25  # the AHCAL half-MIP threshold, scintillator MeV
    assert 0 < data.showers.sum(axis=1).max() < 20_000

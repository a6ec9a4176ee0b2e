"""Tests of the Geant4 producer: data-set detection, detector building, parallel file writing.

Running Geant4 itself needs its physics data sets; that test skips when they are absent.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from caloforge.data import ShowerData, read_showers
from caloforge.geometry import Geometry, get_geometry
from caloforge.simulate.geant4 import (
    Geant4Config,
    Geant4DataError,
    Geant4Producer,
    find_geant4_data,
    layer_layout,
)
from caloforge.simulate.readout import Deposits, deposits_to_showers


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("G4") and k != "GEANT4_DATA_DIR"}
    env.update(HOME=str(home), CI="true", OMP_NUM_THREADS="1")  # CI=true would make geant4-pybind download
    return env


def test_missing_data_sets_are_listed(tmp_path: Path) -> None:
    with pytest.raises(Geant4DataError) as info:
        find_geant4_data("em-standard", tmp_path, environ={"HOME": str(tmp_path)})
    message = str(info.value)
    assert "G4ENSDFSTATE ($G4ENSDFSTATEDATA)" in message
    assert "G4EMLOW ($G4LEDATA)" in message
    assert "never downloads" in message


def test_data_sets_found_in_a_directory_or_variables(tmp_path: Path) -> None:
    (tmp_path / "G4EMLOW8.8").mkdir()
    (tmp_path / "G4ENSDFSTATE3.0").mkdir()
    found = find_geant4_data("em-standard", tmp_path, environ={})
    assert found == {"G4ENSDFSTATEDATA": str(tmp_path / "G4ENSDFSTATE3.0"), "G4LEDATA": str(tmp_path / "G4EMLOW8.8")}
    other = tmp_path / "elsewhere"
    other.mkdir()
    found = find_geant4_data("em-standard", environ={"GEANT4_DATA_DIR": str(tmp_path), "G4LEDATA": str(other)})
    assert found["G4LEDATA"] == str(other)
    with pytest.raises(Geant4DataError, match="G4PARTICLEXS"):
        find_geant4_data("FTFP_BERT", tmp_path, environ={})


_NO_DATA = """
import sys
from caloforge.simulate.geant4 import Geant4DataError, Geant4Producer
try:
    Geant4Producer("calochallenge-2", workers=1)
except Geant4DataError as err:
    assert "geant4_pybind" not in sys.modules, "geant4-pybind imported before the data check"
    print("refused:", err)
    sys.exit(3)
"""


def test_absent_data_fail_before_geant4_is_imported(tmp_path: Path) -> None:
    out = tmp_path / "g4.h5"
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_NO_DATA), str(out)],
        env=_clean_env(tmp_path), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "Geant4 physics data sets not found" in proc.stdout
    assert not out.exists()
    assert not (tmp_path / ".geant4_pybind").exists()


def test_config_validation_and_layout() -> None:
    with pytest.raises(ValueError, match="positive"):
        Geant4Config(absorber_mm=0.0)
    with pytest.raises(ValueError, match="physics"):
        Geant4Config(physics="QGSP")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="only 20"):
        Geant4Config(n_layers=40).check_readout(get_geometry("calochallenge-2"))
    lay = layer_layout(Geant4Config())
    assert np.allclose(np.diff(lay["active_z"]), 1.7)
    assert lay["active_z"][-1] + 0.15 == pytest.approx(90 * 1.7)


_BUILD = """
import json, sys
from caloforge.simulate.geant4 import Geant4Config
from caloforge.simulate.geant4_app import _State, build_classes, import_geant4
g4 = import_geant4({})
config = Geant4Config(n_layers=3, absorber="G4_Pb", absorber_mm=2.0, active_mm=0.5, radius_mm=50.0)
world = build_classes(g4)["Calorimeter"](config, _State()).Construct()
lv = world.GetLogicalVolume()
out = []
for i in range(lv.GetNoDaughters()):
    d = lv.GetDaughter(i)
    solid = d.GetLogicalVolume().GetSolid()
    out.append([d.GetName(), d.GetCopyNo(), d.GetTranslation().z, d.GetLogicalVolume().GetMaterial().GetName(),
                solid.GetZHalfLength(), solid.GetOuterRadius()])
print(json.dumps(out))
"""


def _skip_without_geant4() -> None:
    # never import geant4-pybind in the test process: without GEANT4_DATA_DIR it would prompt to download
    if importlib.util.find_spec("geant4_pybind") is None:
        pytest.skip("geant4-pybind not installed (extra caloforge[geant4])")


def test_detector_is_built_as_configured(tmp_path: Path) -> None:
    _skip_without_geant4()
    env = _clean_env(tmp_path)
    env["GEANT4_DATA_DIR"] = str(tmp_path)  # geometry building needs no data set
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_BUILD)],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    volumes = json.loads(proc.stdout.strip().splitlines()[-1])
    absorbers = [v for v in volumes if v[0] == "Absorber"]
    actives = [v for v in volumes if v[0] == "Active"]
    assert [v[1] for v in actives] == [0, 1, 2]
    assert {v[3] for v in absorbers} == {"G4_Pb"}
    assert {v[3] for v in actives} == {"G4_Si"}
    assert [v[2] for v in absorbers] == pytest.approx([1.0, 3.5, 6.0])
    assert [v[2] for v in actives] == pytest.approx([2.25, 4.75, 7.25])
    assert {v[4] for v in actives} == {0.25}
    assert {v[5] for v in volumes} == {50.0}


def fake_chunk(task: tuple[Any, ...]) -> ShowerData:
    """A stand-in for the Geant4 worker: random deposits of the chunk's events binned like real ones."""
    _, _, geometry_dict, energies, angles, seed = task
    geometry = Geometry.from_dict(geometry_dict)
    n = len(energies)
    rng = np.random.default_rng(seed)
    m = 50 * n
    deposits = Deposits(rng.integers(0, n, m), rng.integers(0, 2 * geometry.n_layers, m),
                        rng.normal(0, 5, m), rng.normal(0, 5, m), rng.exponential(1.0, m))
    showers = deposits_to_showers(deposits, geometry, n_events=n, pairs_per_readout=2)
    return ShowerData(energies, showers, geometry, angles)


class FakeGeant4(Geant4Producer):
    """The Geant4 producer with the fake worker and no data-set check."""

    runner = staticmethod(fake_chunk)

    def __init__(self, geometry: Geometry) -> None:
        self.config, self._geometry, self.datasets, self.workers, self.chunk_size = Geant4Config(), geometry, {}, 2, 3


def test_parallel_chunks_are_written_in_order(tiny_geometry: Geometry, tmp_path: Path) -> None:
    from caloforge.data import Conditions, ShowerProducer, produce_to_file

    producer = FakeGeant4(tiny_geometry)
    assert isinstance(producer, ShowerProducer)
    energies = np.arange(1, 11, dtype=np.float32) * 1e3
    run = produce_to_file(producer, Conditions(energies), tmp_path / "out.h5", seed=4)
    assert run.n == 10
    data = read_showers(tmp_path / "out.h5")
    assert data.energies.tolist() == energies.tolist()
    task = ({}, producer.config, tiny_geometry.to_dict(), energies[3:6], None, 4 + 1)
    assert np.array_equal(data.showers[3:6], fake_chunk(task).showers)
    assert data.attrs["generator"] == producer.label


@pytest.mark.slow
def test_geant4_end_to_end(tmp_path: Path) -> None:
    _skip_without_geant4()
    try:
        find_geant4_data("em-standard")
    except Geant4DataError as err:
        pytest.skip(str(err))
    from caloforge.data import Conditions, produce_to_file

    producer = Geant4Producer("calochallenge-2", workers=1)
    run = produce_to_file(producer, Conditions.from_spec("fixed:5", 4, 1), tmp_path / "g4.h5", seed=1)
    data = read_showers(run.path)
    ratio = data.showers.sum(axis=1) / data.energies
    assert data.showers.shape == (4, 6480)
    assert np.all((ratio > 0.7) & (ratio < 1.2))


def test_cli_reports_missing_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from caloforge.cli.main import main

    for var in ("GEANT4_DATA_DIR", "G4LEDATA", "G4ENSDFSTATEDATA"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    code = main(["geant4", "-n", "2", "--g4-data-dir", str(tmp_path), "-o", str(tmp_path / "g4.h5")])
    assert code == 2
    assert "Geant4 physics data sets not found" in capsys.readouterr().err
    assert "geant4_pybind" not in sys.modules
    assert not (tmp_path / "g4.h5").exists()

"""Conditions: validation, constructors (energy spec, CaloChallenge file), slicing and the model array."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from caloforge.data import Conditions, ShowerFileError, parse_energy_spec, write_showers
from caloforge.geometry import Geometry
from tests.conftest import make_showers


def test_validation_names_the_problem() -> None:
    with pytest.raises(ValueError, match="finite and positive"):
        Conditions(np.array([1e4, -1.0]))
    with pytest.raises(ValueError, match="finite and positive"):
        Conditions(np.array([1e4, np.nan]))
    with pytest.raises(ValueError, match="3 incident energies but 2 angles"):
        Conditions(np.ones(3) * 1e4, np.zeros(2))
    with pytest.raises(ValueError, match="NaN or inf"):
        Conditions(np.ones(2) * 1e4, np.array([0.0, np.inf]))
    with pytest.raises(ValueError, match=r"must be \(N,\)"):
        Conditions(np.ones((2, 2)))
    with pytest.raises(ValueError, match="at least one"):
        Conditions(np.zeros(0))


def test_array_slices_and_chunks() -> None:
    c = Conditions(np.arange(1, 8, dtype=np.float64) * 1e3, np.linspace(0, 0.3, 7))
    assert c.energies.dtype == np.float32
    assert c.angles is not None
    assert c.angles.dtype == np.float32
    assert c.as_array().shape == (7, 2)
    assert c.without_angles().as_array().shape == (7, 1)
    assert [len(p) for p in c.chunks(3)] == [3, 3, 1]
    np.testing.assert_array_equal(np.concatenate([p.energies for p in c.chunks(3)]), c.energies)
    assert c[2:4].energies.tolist() == [3e3, 4e3]
    with pytest.raises(ValueError, match="at least 1"):
        list(c.chunks(0))


def test_from_spec_is_seeded_and_equals_the_stream() -> None:
    a = Conditions.from_spec("log-uniform:1:100", 50, 3)
    b = Conditions.from_spec("log-uniform:1:100", 50, 3)
    np.testing.assert_array_equal(a.energies, b.energies)
    stream = np.concatenate(list(parse_energy_spec("log-uniform:1:100").stream(50, np.random.default_rng(3), 7)))
    np.testing.assert_array_equal(a.energies, stream)
    assert a.angles is None
    assert a.source == "log-uniform:1:100"
    ranged = Conditions.from_spec("fixed:10", 20, 1, angles=(0.1, 0.2))
    assert ranged.angles is not None
    assert 0.1 <= ranged.angles.min() <= ranged.angles.max() <= 0.2
    with pytest.raises(ValueError, match="at least 1"):
        Conditions.from_spec("fixed:10", 0)
    with pytest.raises(ValueError, match="LO <= HI"):
        Conditions.from_spec("fixed:10", 2, angles=(0.2, 0.1))


def test_from_file_reads_energies_angles_and_geometry(tmp_path: Path, tiny_geometry: Geometry) -> None:
    data = make_showers(tiny_geometry, 10, angles=True)
    path = tmp_path / "ref.h5"
    write_showers(path, data)
    c = Conditions.from_file(path, 4)
    np.testing.assert_array_equal(c.energies, data.energies[:4])
    assert c.angles is not None
    assert c.geometry is not None
    assert c.geometry.same_binning(tiny_geometry)
    assert c.source == str(path)
    assert len(Conditions.from_file(path, start=8)) == 2
    assert len(Conditions.from_file(path, 100)) == 10
    with pytest.raises(ValueError, match="no events"):
        Conditions.from_file(path, start=10)
    with pytest.raises(ShowerFileError, match="no such file"):
        Conditions.from_file(tmp_path / "missing.h5")

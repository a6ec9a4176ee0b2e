"""Par04 per-angle files (``<geo>_angle_<A>.h5``) merged into one sample with caloforge's angle convention."""

from __future__ import annotations

import math
from pathlib import Path

import h5py
import numpy as np
import pytest

from caloforge.data import ShowerFileError, read_par04_angles
from caloforge.data.par04 import is_par04_angle_source, par04_angle_files
from caloforge.training.config import DataConfig
from caloforge.training.data import load_training_data


def _file(path: Path, n: int, energy_gev: float = 10.0) -> Path:
    rng = np.random.default_rng(n)
    with h5py.File(path, "w") as f:
        f[f"{energy_gev:g}"] = (rng.gamma(0.3, 2.0, (n, 18, 50, 45)) * (rng.random((n, 18, 50, 45)) < 0.05)).astype(
            np.float32)
    return path


@pytest.fixture
def angle_dir(tmp_path: Path) -> Path:
    d = tmp_path / "par04"
    d.mkdir()
    _file(d / "SiW_angle_90.h5", 3)
    _file(d / "SiW_angle_50.h5", 2, 20.0)
    _file(d / "SiW_angle_70.5.h5", 1)
    return d


def test_directory_merges_files_with_theta_from_the_normal(angle_dir: Path) -> None:
    data = read_par04_angles(angle_dir)
    assert len(data) == 6
    assert data.geometry.name == "par04"
    # sorted by A: 50 (2 events), 70.5 (1), 90 (3); θ = 90° − A
    expected = np.radians([40.0, 40.0, 19.5, 0.0, 0.0, 0.0])
    assert data.angles is not None
    np.testing.assert_allclose(data.angles, expected, atol=1e-6)
    np.testing.assert_allclose(data.energies, [2e4, 2e4, 1e4, 1e4, 1e4, 1e4])
    assert data.attrs["par04_angles_deg"] == [50.0, 70.5, 90.0]


def test_glob_and_list_read_the_same(angle_dir: Path) -> None:
    a = read_par04_angles(str(angle_dir / "SiW_angle_*.h5"))
    b = read_par04_angles([angle_dir / "SiW_angle_90.h5", angle_dir / "SiW_angle_50.h5"])
    assert len(a) == 6
    assert len(b) == 5
    assert b.angles is not None
    assert math.isclose(float(b.angles[0]), math.radians(40.0), rel_tol=1e-6)


def test_mixed_geometries_are_refused(angle_dir: Path) -> None:
    _file(angle_dir / "PbSci_angle_60.h5", 1)
    with pytest.raises(ShowerFileError, match=r"mixed geometries 'PbSci' .*'SiW'"):
        read_par04_angles(angle_dir)


def test_unparsable_names_are_refused(angle_dir: Path) -> None:
    _file(angle_dir / "SiW_sixty.h5", 1)
    with pytest.raises(ShowerFileError, match=r"SiW_sixty.h5: not a Par04 per-angle file name"):
        read_par04_angles(angle_dir)


def test_empty_pattern_and_duplicate_angle(tmp_path: Path, angle_dir: Path) -> None:
    with pytest.raises(ShowerFileError, match="matches no Par04 per-angle files"):
        par04_angle_files(str(tmp_path / "none_*.h5"))
    with pytest.raises(ShowerFileError, match="angle 90 deg also in"):
        par04_angle_files([angle_dir / "SiW_angle_90.h5", angle_dir / "SiW_angle_90.h5"])


def test_training_config_accepts_a_directory_or_glob(angle_dir: Path) -> None:
    assert is_par04_angle_source(angle_dir)
    assert is_par04_angle_source(str(angle_dir / "*.h5"))
    assert not is_par04_angle_source(angle_dir / "plain.h5")
    data = load_training_data(DataConfig(path=str(angle_dir / "*.h5"), start=1, stop=4))
    assert len(data) == 3
    assert data.angles is not None
    no_angles = load_training_data(DataConfig(path=str(angle_dir), use_angles=False))
    assert no_angles.angles is None
    assert len(no_angles) == 6

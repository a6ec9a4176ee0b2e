"""Shared fixtures: a tiny geometry, a synthetic shower-file factory, seeding, and the slow marker."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from caloforge.data import ShowerData, write_showers
from caloforge.geometry import Geometry

SHARED = Path(__file__).resolve().parents[2] / "shared"
G4_FILE = SHARED / "g4data" / "geant4_electrons_siw_1-100GeV.h5"
BINNING_DIR = SHARED / "calochallenge"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow") or os.environ.get("RUN_SLOW"):
        return
    skip = pytest.mark.skip(reason="slow: use --runslow or RUN_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _seed() -> None:
    random.seed(0)
    np.random.seed(0)
    try:
        import torch
    except ImportError:  # pragma: no cover
        return
    torch.manual_seed(0)


@pytest.fixture
def tiny_geometry() -> Geometry:
    """3 layers × 4 angular × 5 radial bins."""
    return Geometry.regular("tiny", n_layers=3, n_alpha=4, r_edges=[0, 2, 4, 8, 16, 32], layer_thickness_mm=3.4)


def make_showers(geometry: Geometry, n: int = 64, seed: int = 0, *, angles: bool = False) -> ShowerData:
    """Synthetic showers: energy spread over layers and radii with noise; some voxels zero."""
    rng = np.random.default_rng(seed)
    energies = np.exp(rng.uniform(np.log(1e3), np.log(1e5), n)).astype(np.float32)
    depth = geometry.voxel_layer / max(geometry.n_layers - 1, 1)
    profile = np.exp(-geometry.r_centres / 8.0) * (1.0 + np.sin(np.pi * depth))
    profile = profile / profile.sum()
    showers = energies[:, None] * profile[None, :] * rng.gamma(4.0, 0.25, (n, geometry.n_voxels))
    showers[rng.random(showers.shape) < 0.3] = 0.0
    ang = rng.uniform(0.0, 0.3, n).astype(np.float32) if angles else None
    return ShowerData(energies, showers.astype(np.float32), geometry, ang)


@pytest.fixture
def shower_file(tmp_path: Path, tiny_geometry: Geometry) -> Callable[..., Path]:
    """Factory writing a synthetic CaloChallenge file of ``n`` events into ``tmp_path``."""

    def factory(name: str = "showers.h5", n: int = 64, seed: int = 0, *, angles: bool = False) -> Path:
        path = tmp_path / name
        write_showers(path, make_showers(tiny_geometry, n, seed, angles=angles))
        return path

    return factory


@pytest.fixture
def g4_file() -> Path:
    """The Geant4 reference file; skips when it is not beside the checkout."""
    if not G4_FILE.exists():
        pytest.skip("Geant4 reference data not available")
    return G4_FILE

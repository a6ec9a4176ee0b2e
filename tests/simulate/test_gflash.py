from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from caloforge.geometry import Geometry, get_geometry
from caloforge.simulate import GFlashConfig, GFlashSimulator


@pytest.fixture
def ds2() -> GFlashSimulator:
    return GFlashSimulator(get_geometry("calochallenge-2"))


def test_energy_conservation_before_fluctuations(ds2: GFlashSimulator) -> None:
    energies = np.geomspace(1e3, 1e5, 50)
    deposits, leaked = ds2.expected_deposits(energies, np.random.default_rng(1))
    params = ds2.sample_parameters(energies, np.random.default_rng(1))
    assert deposits.shape == (50, 6480)
    assert deposits.min() >= 0
    assert leaked.min() > -1e-3 * energies.min()
    np.testing.assert_allclose(deposits.sum(1, dtype=np.float64) + leaked, params.visible, rtol=1e-9)
    np.testing.assert_allclose(params.visible / energies, 0.99, atol=0.01)
    # leakage beyond 45 layers and 41.85 mm is a few per cent at most
    assert np.all(leaked / params.visible < 0.05)


def test_no_fluctuations_gives_expected_energies(ds2: GFlashSimulator) -> None:
    cfg = dataclasses.replace(ds2.config, sampling_fluctuations=False, threshold_mev=0.0)
    sim = GFlashSimulator(ds2.geometry, cfg)
    energies = np.array([2e3, 2e4])
    data = sim.simulate(energies, np.random.default_rng(3))
    expected, _ = sim.expected_deposits(energies, np.random.default_rng(3))
    np.testing.assert_array_equal(data.showers, expected)


def test_profile_peak_moves_deeper_with_energy(ds2: GFlashSimulator) -> None:
    rng = np.random.default_rng(2)
    layers = np.arange(45)
    cog, peak = [], []
    for e in (1e3, 1e4, 1e5):
        data = ds2.simulate(np.full(300, e), rng)
        per_layer = ds2.geometry.layer_energies(data.showers.astype(np.float64))
        cog.append((per_layer @ layers / per_layer.sum(1)).mean())
        peak.append(np.argmax(per_layer, axis=1).mean())
    assert cog[0] + 1.5 < cog[1]
    assert cog[1] + 1.5 < cog[2]
    assert peak[0] + 1.5 < peak[1]
    assert peak[1] + 1.5 < peak[2]


def test_determinism_with_seed(ds2: GFlashSimulator) -> None:
    energies = np.array([1e3, 1e4, 1e5])
    a = ds2.simulate(energies, np.random.default_rng(42)).showers
    b = ds2.simulate(energies, np.random.default_rng(42)).showers
    c = ds2.simulate(energies, np.random.default_rng(43)).showers
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_batches_and_threshold(tiny_geometry: Geometry) -> None:
    sim = GFlashSimulator(tiny_geometry, batch_size=7)
    data = sim.simulate(np.full(20, 5e3), np.random.default_rng(0))
    assert data.showers.shape == (20, tiny_geometry.n_voxels)
    positive = data.showers[data.showers > 0]
    assert positive.min() >= sim.config.threshold_mev
    assert data.showers.dtype == np.float32
    assert np.all(np.isfinite(data.showers))


def test_resolution_follows_stochastic_term(ds2: GFlashSimulator) -> None:
    data = ds2.simulate(np.full(400, 1e4), np.random.default_rng(5))
    resolution = (data.showers.sum(1) / data.energies).std()
    assert 0.025 < resolution < 0.045  # Geant4: 0.034 at 10-20 GeV


def test_cartesian_and_irregular_geometries() -> None:
    cart = Geometry.cartesian("grid", n_layers=6, nx=12, ny=10, cell_mm=5.0, layer_thickness_mm=5.25)
    sim = GFlashSimulator(cart, GFlashConfig(sampling_fluctuations=False, threshold_mev=0.0))
    deposits, leaked = sim.expected_deposits(np.array([1e4]), np.random.default_rng(0))
    grid = deposits.reshape(6, 12, 10)
    np.testing.assert_allclose(grid, grid[:, ::-1, ::-1], rtol=1e-4, atol=1e-6)  # centred on the axis
    assert deposits.sum() + leaked[0] == pytest.approx(1e4 * 0.99, rel=0.02)
    ds1 = dataclasses.replace(get_geometry("calochallenge-1-photons"), layer_thickness_mm=20.0)
    data = GFlashSimulator(ds1).simulate(np.array([5e4, 1e5]), np.random.default_rng(0))
    assert data.showers.shape == (2, ds1.n_voxels)
    assert 0.8 < data.showers.sum() / data.energies.sum() < 1.05


def test_bad_inputs(ds2: GFlashSimulator) -> None:
    with pytest.raises(ValueError, match="layer_thickness_mm"):
        GFlashSimulator(get_geometry("calochallenge-1-photons"))
    with pytest.raises(ValueError, match="positive"):
        ds2.simulate(np.array([1e3, -1.0]), np.random.default_rng(0))
    with pytest.raises(ValueError, match="spot_shape"):
        GFlashConfig(spot_shape=0.0)

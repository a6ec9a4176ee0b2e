"""Pion, photon and layered-material showers of the built-in simulator (tiny samples, fixed seeds)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from caloforge.data import Conditions, produce
from caloforge.geometry import Geometry, get_geometry
from caloforge.simulate import GFlashProducer
from caloforge.simulate.hadronic import HadronicConfig, h1_fractions, sample_pion_showers
from caloforge.simulate.materials import STRUCTURES, layer_stack
from caloforge.simulate.particles import ParticleSimulator

AHCAL = "ild-48x25x25"


def test_start_depth_is_exponential_in_interaction_lengths() -> None:
    start = sample_pion_showers(HadronicConfig(), np.full(20_000, 1e4), np.random.default_rng(0)).start_lambda
    counts, edges = np.histogram(start, bins=10, range=(0.0, 3.0))
    slope = np.polyfit(0.5 * (edges[1:] + edges[:-1]), np.log(counts), 1)[0]
    assert slope == pytest.approx(-1.0, rel=0.04)


def test_h1_fractions_grow_with_energy() -> None:
    f_dep, f_pi0 = h1_fractions(np.array([2.0, 10.0, 80.0]))
    assert np.all(np.diff(f_dep) > 0)
    assert np.all(np.diff(f_pi0) > 0)
    assert f_dep[1] == pytest.approx(0.7675, abs=1e-4)


def test_mean_response_grows_with_energy_and_stays_below_incident() -> None:
    sim = ParticleSimulator(get_geometry("calochallenge-1-pions"), "pion")
    means = []
    for energy in (5e3, 2e4, 8e4):
        fields, track = sim.components(np.full(300, energy), np.random.default_rng(1))
        shower = sum(f.energy.sum(axis=1) for f in fields)
        assert np.all(shower <= energy)  # EM-scale MeV before sampling noise: at most the incident energy
        assert np.all(track.sum(axis=1) <= 10 * sim.stack.mip_mean.sum())  # one track at most, Landau tail capped
        sums = sim.simulate(np.full(300, energy), np.random.default_rng(1)).showers.sum(axis=1)
        assert np.all(sums <= 1.5 * energy)
        means.append(sums.mean() / energy)
    assert means[0] < means[1] < means[2]


def test_ahcal_mip_peak_in_late_showers() -> None:
    geometry = get_geometry(AHCAL)
    sim = ParticleSimulator(geometry, "pion", hadronic=HadronicConfig(threshold_mev=0.0))
    data = sim.simulate(np.full(600, 1e4), np.random.default_rng(2))
    layers = geometry.reshape(data.showers)  # (N, 48, 25, 25)
    first = layers[:, 0, 12, 12]
    late = layers[:, 1:4].sum(axis=(1, 2, 3)) == layers[:, 1:4, 12, 12].sum(axis=1)  # only the track there
    hist, edges = np.histogram(first[late & (first > 0)], bins=20, range=(0.0, 2.0))
    mids, top = 0.5 * (edges[1:] + edges[:-1]), int(hist.argmax())
    c2, c1, _ = np.polyfit(mids[top - 1 : top + 2], hist[top - 1 : top + 2], 2)  # parabola through the peak
    peak = -c1 / (2 * c2)
    assert late.sum() > 200
    assert peak == pytest.approx(geometry.mip_mev, abs=0.05)
    assert STRUCTURES["ahcal-fe-sci"].mip_mpv_mev == pytest.approx(0.49, abs=0.005)


def test_e_over_pi_above_one_for_iron() -> None:
    geometry = get_geometry(AHCAL)
    energies = np.full(300, 3e4)
    e = ParticleSimulator(geometry, "electron").simulate(energies, np.random.default_rng(3)).showers.sum(1)
    pi = ParticleSimulator(geometry, "pion").simulate(energies, np.random.default_rng(3)).showers.sum(1)
    assert 1.05 < np.median(e) / np.median(pi) < 1.5


def test_reproducible_per_seed_and_default_threshold() -> None:
    geometry = get_geometry(AHCAL)
    sim = ParticleSimulator(geometry, "pion", batch_size=16)
    a = sim.simulate(np.full(20, 2e4), np.random.default_rng(7)).showers
    b = sim.simulate(np.full(20, 2e4), np.random.default_rng(7)).showers
    c = sim.simulate(np.full(20, 2e4), np.random.default_rng(8)).showers
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a[a > 0].min() >= geometry.cell_threshold_mev == 0.25


@pytest.mark.parametrize("name", ["calochallenge-1-pions", "calochallenge-1-photons", AHCAL])
@pytest.mark.parametrize("particle", ["pion", "photon", "electron"])
def test_every_particle_in_every_layered_geometry(name: str, particle: str) -> None:
    producer = GFlashProducer(name, particle=particle, batch_size=8)
    data = produce(producer, Conditions(np.full(10, 1e4)), 5)
    assert data.showers.shape == (10, get_geometry(name).n_voxels)
    assert np.isfinite(data.showers).all()
    assert data.showers.min() >= 0
    assert data.showers.sum() > 0
    assert producer.attrs()["particle"] == particle


def test_photons_convert_later_than_electrons() -> None:
    geometry = get_geometry("calochallenge-1-photons")
    energies = np.full(400, 2e4)
    depth = {}
    for particle in ("electron", "photon"):
        layers = geometry.layer_energies(ParticleSimulator(geometry, particle).simulate(energies, np.random.default_rng(4)).showers)
        depth[particle] = (layers * np.arange(geometry.n_layers)).sum() / layers.sum()
    assert depth["photon"] > depth["electron"]


def test_layer_stack_materials_and_errors() -> None:
    stack = layer_stack(get_geometry("calochallenge-2"))
    assert stack.x0_mm[0] == pytest.approx(4.216, abs=0.01)  # the Si-W default of the EM simulator
    ds1 = layer_stack(get_geometry("calochallenge-1-pions"))
    assert ds1.depth_lambda[4:].sum() == pytest.approx(7.4, abs=0.05)  # Tile A + BC + D
    bare = Geometry.regular("bare", n_layers=2, n_alpha=1, r_edges=[0, 10])
    with pytest.raises(ValueError, match="'bare' has no layer depth"):
        layer_stack(bare)
    odd = dataclasses.replace(bare, layers=tuple(dataclasses.replace(lay, depth_mm=5.0, material="cheese") for lay in bare.layers))
    with pytest.raises(ValueError, match="unknown material 'cheese'"):
        layer_stack(odd)


def test_geometry_round_trip_keeps_physical_fields() -> None:
    geometry = get_geometry(AHCAL)
    back = Geometry.from_dict(geometry.to_dict())
    assert back.layers[3].material == "ahcal-fe-sci"
    assert back.layers[3].depth_mm == 26.5
    assert (back.energy_scale, back.mip_mev, back.cell_threshold_mev) == ("visible", 0.49, 0.25)
    assert "mip_mev" not in get_geometry("calochallenge-2").to_dict()
    assert back.same_binning(Geometry.cartesian("plain", n_layers=48, nx=25, ny=25, cell_mm=30.0))


def test_siw_electrons_keep_the_calibrated_simulator() -> None:
    from caloforge.simulate import GFlashSimulator

    producer = GFlashProducer("calochallenge-2")
    assert isinstance(producer._simulator(), GFlashSimulator)
    assert isinstance(GFlashProducer(AHCAL)._simulator(), ParticleSimulator)
    with pytest.raises(ValueError, match="unknown particle 'kaon'"):
        GFlashProducer(AHCAL, particle="kaon")

"""Inclined EM showers: axis slope and elongation (detector frame), front-face cut (shower frame), θ = 0 vs the
analytic path, seeding, the producer's angles and bad arguments."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from caloforge.data import Conditions
from caloforge.geometry import Geometry
from caloforge.simulate import GFlashConfig, GFlashProducer, GFlashSimulator
from caloforge.simulate.angle_spec import parse_angle_spec
from caloforge.simulate.inclined import simulate_inclined

#: A narrow, short shower (R_M = 1 mm, X0 = 2 mm): its layer slices barely mix depths, so the layer centres
#: follow the axis itself (a wide shower's tilted slices lean back by (σ_T/σ_L)² of the slope).
NARROW = GFlashConfig(x0_mm=2.0, moliere_mm=1.0)


def _layer_moments(g: Geometry, showers: NDArray[np.float32]) -> tuple[NDArray[np.float64], ...]:
    """Energy fraction, mean x, mean y, variance in x and in y of each layer (all showers pooled)."""
    s = showers.reshape(len(showers), g.n_layers, -1).astype(np.float64)
    xc, yc = g.x_centres.reshape(g.n_layers, -1), g.y_centres.reshape(g.n_layers, -1)
    energy = s.sum(axis=(0, 2))
    mx, my = (s * xc).sum(axis=(0, 2)) / energy, (s * yc).sum(axis=(0, 2)) / energy
    vx = (s * (xc - mx[:, None]) ** 2).sum(axis=(0, 2)) / energy
    vy = (s * (yc - my[:, None]) ** 2).sum(axis=(0, 2)) / energy
    return energy / energy.sum(), mx, my, vx, vy


def _slope(g: Geometry, showers: NDArray[np.float32], along: int = 1) -> float:
    frac, mx, my, _, _ = _layer_moments(g, showers)
    z = (np.arange(g.n_layers) + 0.5) * float(g.layer_thickness_mm or 0)
    sel = frac > 0.02
    return float(np.polyfit(z[sel], (mx, my)[along - 1][sel], 1, w=np.sqrt(frac[sel]))[0])


@pytest.mark.parametrize(
    "geometry",
    [
        Geometry.cartesian("grid", n_layers=24, nx=100, ny=100, cell_mm=1.5, layer_thickness_mm=2.0),
        Geometry.regular("rings", n_layers=24, n_alpha=72, r_edges=np.arange(0.0, 80.0, 1.0).tolist(), layer_thickness_mm=2.0),
    ],
    ids=["cartesian", "cylindrical"],
)
@pytest.mark.parametrize("degrees", [30.0, 50.0])
def test_detector_frame_centre_moves_by_tan_theta_per_depth(geometry: Geometry, degrees: float) -> None:
    sim = GFlashSimulator(geometry, NARROW)
    theta = np.full(60, np.radians(degrees))
    showers = sim.simulate(np.full(60, 1e4), np.random.default_rng(1), angles=theta).showers
    assert _slope(geometry, showers) == pytest.approx(np.tan(np.radians(degrees)), rel=0.04)
    frac, _, my, _, _ = _layer_moments(geometry, showers)
    assert np.abs(my[frac > 0.02]).max() < 0.2  # nothing moves across the plane of inclination
    assert showers.sum() / 6e5 > 0.95  # contained: the shower is not cut by the readout


def test_phi_turns_the_inclination() -> None:
    g = Geometry.cartesian("grid", n_layers=24, nx=100, ny=100, cell_mm=1.5, layer_thickness_mm=2.0)
    theta = np.full(40, np.radians(40.0))
    showers = GFlashSimulator(g, NARROW).simulate(
        np.full(40, 1e4), np.random.default_rng(2), angles=theta, phi=np.radians(90.0)
    ).showers
    assert _slope(g, showers, along=2) == pytest.approx(np.tan(np.radians(40.0)), rel=0.04)
    assert abs(_slope(g, showers, along=1)) < 0.02


def test_detector_frame_profile_is_elongated_along_the_inclination() -> None:
    g = Geometry.cartesian("grid", n_layers=30, nx=120, ny=120, cell_mm=2.5, layer_thickness_mm=4.0)
    sim = GFlashSimulator(g)
    ratios = []
    for degrees in (0.0, 40.0):
        showers = sim.simulate(np.full(60, 2e4), np.random.default_rng(3), angles=np.full(60, np.radians(degrees)))
        frac, mx, _, vx, vy = _layer_moments(g, showers.showers)
        sel = frac > 0.02
        ratios.append(np.sqrt((frac * vx)[sel].sum() / (frac * vy)[sel].sum()))
        z = (np.arange(g.n_layers) + 0.5) * 4.0
        # the shower's own centre of energy lies on the axis, x = z tan θ (its tilted layer slices lean back)
        assert (frac * mx).sum() == pytest.approx(np.tan(np.radians(degrees)) * (frac * z).sum(), abs=0.3)
    assert ratios[0] == pytest.approx(1.0, abs=0.04)
    assert ratios[1] > 1.12  # 1/cos 40° = 1.31 for a thin slice


def test_shower_frame_front_face_cuts_one_side_near_the_entry() -> None:
    g = Geometry.cartesian("mesh", n_layers=20, nx=40, ny=40, cell_mm=2.0, layer_thickness_mm=2.0)
    sim = GFlashSimulator(g)
    e, theta = np.full(60, 2e4), np.full(60, np.radians(45.0))
    showers = sim.simulate(e, np.random.default_rng(4), angles=theta, frame="shower").showers
    cells = showers.reshape(60, g.n_layers, 40, 40)  # x index slower; x edges -40, -38, ..., 40 mm
    mirror = 0.0
    for k in range(5):  # the face t = x tan 45° lies in front of layer k for cells beyond x = (k + 1) · 2 mm
        first = 21 + k
        assert cells[:, k, first:].sum() == 0.0
        mirror += float(cells[:, k, : 40 - first].sum())
    assert mirror > 0.0
    assert cells[:, :5, 21:].sum() < 0.85 * cells[:, :5, :19].sum()  # beyond the central cells
    deep_plus, deep_minus = cells[:, 12:, 20:].sum(), cells[:, 12:, :20].sum()
    assert deep_plus == pytest.approx(deep_minus, rel=0.1)  # far behind the face the shower is whole
    assert abs(_slope(g, showers)) < 0.05  # the mesh follows the particle
    head_on = sim.simulate(e, np.random.default_rng(4), angles=np.zeros(60), frame="shower").showers
    assert showers.sum() < head_on.sum()  # the cut removes energy


def test_theta_zero_matches_the_analytic_path() -> None:
    g = Geometry.regular("rings", n_layers=30, n_alpha=8, r_edges=[0, 2, 4, 7, 11, 16, 24, 40, 80], layer_thickness_mm=3.4)
    sim = GFlashSimulator(g)
    n, e = 400, np.full(400, 1e4)
    analytic = sim.simulate(e, np.random.default_rng(5)).showers
    spots = sim.simulate(e, np.random.default_rng(6), angles=np.zeros(n)).showers
    for s in (analytic, spots):
        assert s.shape == (n, g.n_voxels)
    total_a, total_s = analytic.sum(1), spots.sum(1)
    assert total_s.mean() == pytest.approx(total_a.mean(), rel=0.005)
    assert total_s.std() == pytest.approx(total_a.std(), rel=0.15)
    layers_a, layers_s = g.layer_energies(analytic).mean(0), g.layer_energies(spots).mean(0)
    np.testing.assert_allclose(layers_s / total_s.mean(), layers_a / total_a.mean(), atol=0.004)
    rings_a = analytic.reshape(n, 30, 8, 8).sum(axis=(0, 1, 2)) / analytic.sum()
    rings_s = spots.reshape(n, 30, 8, 8).sum(axis=(0, 1, 2)) / spots.sum()
    np.testing.assert_allclose(rings_s, rings_a, atol=0.005)
    assert (spots > 0).sum(1).mean() == pytest.approx((analytic > 0).sum(1).mean(), rel=0.05)
    # at θ = 0 both frames are the head-on shower, spot for spot
    shower = sim.simulate(e[:20], np.random.default_rng(7), angles=np.zeros(20), frame="shower").showers
    detector = sim.simulate(e[:20], np.random.default_rng(7), angles=np.zeros(20), frame="detector").showers
    np.testing.assert_array_equal(shower, detector)


def test_inclined_showers_are_seeded() -> None:
    g = Geometry.cartesian("grid", n_layers=10, nx=20, ny=20, cell_mm=4.0, layer_thickness_mm=4.0)
    sim = GFlashSimulator(g, batch_size=7)
    e, theta = np.geomspace(1e3, 5e4, 20), np.linspace(0.0, 1.0, 20)
    a = sim.simulate(e, np.random.default_rng(8), angles=theta)
    b = sim.simulate(e, np.random.default_rng(8), angles=theta)
    c = sim.simulate(e, np.random.default_rng(9), angles=theta)
    np.testing.assert_array_equal(a.showers, b.showers)
    assert not np.array_equal(a.showers, c.showers)
    np.testing.assert_array_equal(a.angles, theta.astype(np.float32))


def test_producer_keeps_angles_only_with_a_frame(tiny_geometry: Geometry) -> None:
    conditions = Conditions(np.array([2e3, 5e4, 1e4], np.float32), np.array([0.1, 0.2, 0.3], np.float32))
    assert GFlashProducer(tiny_geometry).accept(conditions).angles is None
    producer = GFlashProducer(tiny_geometry, frame="detector", phi=parse_angle_spec("0:360", option="--phi", polar=False))
    accepted = producer.accept(conditions)
    assert accepted.angles is not None
    first = list(producer.batches(accepted, 1))
    again = list(producer.batches(accepted, 1))
    np.testing.assert_array_equal(np.concatenate([d.showers for d in first]), np.concatenate([d.showers for d in again]))
    np.testing.assert_array_equal(np.concatenate([d.angles for d in first if d.angles is not None]), conditions.angles)
    assert producer.attrs()["frame"] == "detector"
    assert producer.attrs()["phi_spec"] == "0:360"
    with pytest.raises(ValueError, match="unknown frame"):
        GFlashProducer(tiny_geometry, frame="mesh")  # type: ignore[arg-type]


def test_bad_inclined_arguments(tiny_geometry: Geometry) -> None:
    sim = GFlashSimulator(tiny_geometry)
    e, rng = np.full(3, 1e4), np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"\[0, pi/2\)"):
        sim.simulate(e, rng, angles=np.full(3, np.pi / 2))
    with pytest.raises(ValueError, match="3 incident energies but 2 angles"):
        sim.simulate(e, rng, angles=np.zeros(2))
    with pytest.raises(ValueError, match="azimuths"):
        sim.simulate(e, rng, angles=np.zeros(3), phi=np.zeros(2))
    with pytest.raises(ValueError, match="unknown frame"):
        simulate_inclined(sim, e, np.zeros(3), np.zeros(3), rng, frame="mesh")  # type: ignore[arg-type]
    quiet = GFlashSimulator(tiny_geometry, GFlashConfig(sampling_fluctuations=False))
    with pytest.raises(ValueError, match="sampling_fluctuations"):
        quiet.simulate(e, rng, angles=np.zeros(3))


def test_axis_is_the_geant4_gun_direction() -> None:
    from caloforge.simulate.inclined import SpotCloud, rotate_spots

    theta, t = np.array([0.3, 0.7]), np.array([10.0, 20.0])
    on_axis = SpotCloud(np.array([0, 1]), t, np.zeros(2), np.zeros(2), np.ones(2))
    z, x, y, behind = rotate_spots(on_axis, theta, np.zeros(2), "detector")
    # the gun shoots along (sin θ, 0, cos θ) through the origin of the front face (geant4_app.Gun)
    np.testing.assert_allclose(np.stack([x, y, z], 1), t[:, None] * np.stack([np.sin(theta), 0 * theta, np.cos(theta)], 1))
    assert behind.all()
    # a spot displaced along e1 = ∂n/∂θ towards the front face is in front of it early in the shower
    ahead = SpotCloud(np.array([0]), np.array([1.0]), np.array([5.0]), np.zeros(1), np.ones(1))
    z_shower, x_mesh, _, behind = rotate_spots(ahead, np.array([0.7]), np.zeros(1), "shower")
    assert (float(z_shower[0]), float(x_mesh[0]), bool(behind[0])) == (1.0, 5.0, False)

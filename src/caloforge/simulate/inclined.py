"""Inclined electromagnetic showers: energy spots drawn along the shower's own axis, rotated into a readout frame.

Convention (the Geant4 producer's): θ is the polar angle from the layer normal (0 = head-on), φ the azimuth
of the inclination in the detector's x–y plane (0 = towards +x). The particle enters the front face
(z = 0) at the origin with direction ``n = (sin θ cos φ, sin θ sin φ, cos θ)``.

Each shower's visible energy, longitudinal Gamma profile, layer fluctuations and core + tail transverse
profile are drawn by :class:`~caloforge.simulate.gflash.GFlashSimulator` exactly as for a head-on shower.
Here they generate energy spots in the shower's own coordinates: the depth ``t`` along the axis is Gamma
distributed (X0); the layer fluctuation of the axis bin of ``t`` (bins of one layer pitch along the axis)
thins the spots; the lateral offset has the core or tail radius of that bin (``r = R √(u / (1 − u))``, the
CDF of ``2 r R² / (r² + R²)²``) and a uniform azimuth; spot energies are Gamma(k, ē/k) as in
:mod:`caloforge.simulate.deposit`. With ``(u, v)`` the lateral offset along ``e1 = ∂n/∂θ`` and
``e2 = ẑ × n / |ẑ × n|``, a spot sits at ``P = t n + u e1 + v e2``. Spots in front of the front face
(``P_z < 0``) are absent. The spots are then binned by :func:`caloforge.simulate.readout.deposits_to_showers`:

- ``frame="detector"`` (readout layers = detector layers, as in CaloChallenge): layer ``⌊P_z / d⌋``,
  transverse ``(P_x, P_y)`` from the entry point, so each layer's centre of energy moves by ``tan θ`` per unit
  depth in the direction of φ and its profile is elongated by ``1 / cos θ`` along the inclination;
- ``frame="shower"`` (Par04's mesh: z along the particle, the entry point at the origin, mesh axes the
  detector's x and y rotated with the particle, ``R = Rz(φ) Ry(θ) Rz(−φ)``): layer ``⌊t / d⌋``,
  transverse ``Rz(φ) (u, v)``; the inclined front face cuts away the side towards φ near z = 0, where a mesh
  cell at transverse offset u along the inclination lies behind ``t − u tan θ`` of material.

At θ = 0 both frames give the head-on shower (statistically the analytic path of ``GFlashSimulator``).

Example:
    >>> import numpy as np
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.simulate.gflash import GFlashSimulator
    >>> g = Geometry.cartesian("grid", n_layers=20, nx=40, ny=40, cell_mm=4.0, layer_thickness_mm=4.0)
    >>> sim = GFlashSimulator(g)
    >>> theta, phi = np.full(2, np.radians(30.0)), np.zeros(2)
    >>> showers = simulate_inclined(sim, np.array([1e4, 2e4]), theta, phi, np.random.default_rng(0))
    >>> showers.shape, bool(0.8 < showers.sum() / 3e4 < 1.05)
    ((2, 32000), True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import NDArray

from caloforge.simulate.readout import Deposits, deposits_to_showers
from caloforge.simulate.special import gammainc

if TYPE_CHECKING:
    from caloforge.simulate.gflash import GFlashSimulator, ShowerParameters

__all__ = ["FRAMES", "Frame", "SpotCloud", "draw_spots", "rotate_spots", "simulate_inclined"]

Array = NDArray[np.float64]
Frame = Literal["detector", "shower"]
#: The readout frames of inclined showers.
FRAMES: tuple[Frame, ...] = ("detector", "shower")
#: Spots per readout chunk (bounds the working memory to a few hundred MB).
_CHUNK_SPOTS = 1 << 20
#: Axis bins tabulated per shower, in units of the readout depth (covers the detector up to θ ≈ 75°).
_AXIS_REACH = 4


class SpotCloud:
    """Energy spots of a batch of showers in their own coordinates.

    Attributes:
        event: Shower index of each spot, (M,).
        t_mm: Depth along the shower axis, (M,), mm.
        u_mm: Lateral offset along ``e1`` (in the plane of inclination), (M,), mm.
        v_mm: Lateral offset along ``e2``, (M,), mm.
        energy: Spot energy, (M,), MeV.
    """

    def __init__(self, event: NDArray[np.int64], t_mm: Array, u_mm: Array, v_mm: Array, energy: Array) -> None:
        self.event, self.t_mm, self.u_mm, self.v_mm, self.energy = event, t_mm, u_mm, v_mm, energy


def _axis_weights(simulator: GFlashSimulator, params: ShowerParameters) -> Array:
    """Per shower and axis bin (one layer pitch), the layer-fluctuation factor ``w`` of the analytic path."""
    beta = params.alpha / params.mean_depth
    cdf = gammainc(params.alpha[:, None], beta[:, None] * simulator._edges_x0[None, :])
    smooth = np.diff(cdf, axis=1)
    factor = np.exp(params.layer_noise)
    norm = smooth.sum(1) / np.maximum((smooth * factor).sum(1), 1e-300)
    weights: Array = factor * norm[:, None]
    return weights


def draw_spots(simulator: GFlashSimulator, energies: Array, rng: np.random.Generator) -> SpotCloud:
    """Draws the showers' profiles and their energy spots in shower coordinates.

    The transverse shape and layer fluctuation are tabulated per shower on axis bins of one layer pitch,
    out to ``_AXIS_REACH`` times the readout depth (the few spots deeper take the last bin's shape).

    Arguments:
        simulator: The simulator (its config, geometry pitch and profile draws).
        energies: Incident energies, (N,), MeV.
        rng: Random generator.

    Returns:
        The spots of all ``N`` showers (before any readout cut), ordered by shower.
    """
    from caloforge.simulate.gflash import transverse_profile

    c = simulator.config
    n = len(energies)
    params = simulator.sample_parameters(energies, rng)
    n_bins = _AXIS_REACH * simulator.geometry.n_layers
    pitch = float(simulator._edges_x0[1])
    weights = np.ones((n, n_bins))
    weights[:, : simulator.geometry.n_layers] = _axis_weights(simulator, params)
    w_max = weights.max(axis=1)
    core, tail, core_weight = transverse_profile(c, (np.arange(n_bins) + 0.5) * pitch / params.mean_depth[:, None])
    counts = rng.poisson(params.visible * w_max / c.spot_energy_mev)
    t = rng.standard_gamma(np.repeat(params.alpha, counts)) * np.repeat(params.mean_depth / params.alpha, counts)
    event = np.repeat(np.arange(n, dtype=np.int64), counts)
    cell = event * n_bins + np.minimum((t / pitch).astype(np.int64), n_bins - 1)
    keep = rng.random(len(t)) * np.repeat(w_max, counts) < weights.reshape(-1)[cell]
    event, t, cell = event[keep], t[keep], cell[keep]
    m = len(t)
    radius = np.where(rng.random(m) < core_weight.reshape(-1)[cell], core.reshape(-1)[cell], tail.reshape(-1)[cell])
    u = rng.random(m)
    r = radius * np.sqrt(u / np.maximum(1.0 - u, 1e-12))
    psi = rng.uniform(0.0, 2.0 * np.pi, m)
    energy = rng.standard_gamma(c.spot_shape, m) * (c.spot_energy_mev / c.spot_shape)
    return SpotCloud(event, t * c.x0_mm, r * np.cos(psi), r * np.sin(psi), energy)


def rotate_spots(
    spots: SpotCloud, theta: Array, phi: Array, frame: Frame
) -> tuple[Array, Array, Array, NDArray[np.bool_]]:
    """Readout coordinates of spots: ``(depth, x, y, in_material)``.

    Arguments:
        spots: Spots in shower coordinates.
        theta: Polar angle of each shower, (N,), rad.
        phi: Azimuth of each shower's inclination, (N,), rad.
        frame: ``"detector"`` or ``"shower"`` (see the module docstring).

    Returns:
        Depth along the readout's z (mm), transverse x and y (mm), each (M,), and a boolean mask of the
        spots behind the front face.

    Raises:
        ValueError: An unknown frame.
    """
    if frame not in FRAMES:
        msg = f"unknown frame {frame!r}; choose from {', '.join(FRAMES)}"
        raise ValueError(msg)
    th, ph = np.asarray(theta, np.float64), np.asarray(phi, np.float64)
    st, ct = np.sin(th)[spots.event], np.cos(th)[spots.event]
    sp, cp = np.sin(ph)[spots.event], np.cos(ph)[spots.event]
    t, u, v = spots.t_mm, spots.u_mm, spots.v_mm
    z_detector = t * ct - u * st
    if frame == "detector":
        along = t * st + u * ct  # in the plane of inclination, towards φ
        return z_detector, along * cp - v * sp, along * sp + v * cp, z_detector >= 0.0
    return t, u * cp - v * sp, u * sp + v * cp, z_detector >= 0.0


def simulate_inclined(
    simulator: GFlashSimulator,
    energies: Array,
    theta: Array,
    phi: Array,
    rng: np.random.Generator,
    *,
    frame: Frame = "detector",
) -> NDArray[np.float32]:
    """Voxel energies of inclined showers (one batch).

    Arguments:
        simulator: The simulator (geometry, physics parameters, profile draws).
        energies: Incident energies, (N,), MeV.
        theta: Polar angles from the layer normal, (N,), rad, in [0, π/2).
        phi: Azimuths of the inclination, (N,), rad.
        rng: Random generator.
        frame: ``"detector"`` (readout = detector layers) or ``"shower"`` (Par04 mesh along the particle).

    Returns:
        Showers, (N, n_voxels), MeV, float32, in the geometry's voxel order.

    Raises:
        ValueError: Angles of the wrong shape or outside [0, π/2), an unknown frame, or a config without
            sampling fluctuations (inclined showers are made of spots).
    """
    e = np.asarray(energies, np.float64).reshape(-1)
    th = np.asarray(theta, np.float64).reshape(-1)
    ph = np.asarray(phi, np.float64).reshape(-1)
    if th.shape != e.shape or ph.shape != e.shape:
        msg = f"{len(e)} energies but {len(th)} polar angles and {len(ph)} azimuths"
        raise ValueError(msg)
    if not (np.all(np.isfinite(th)) and np.all(np.isfinite(ph))) or np.any(th < 0) or np.any(th >= np.pi / 2):
        msg = "polar angles must be finite and in [0, pi/2) rad (measured from the layer normal)"
        raise ValueError(msg)
    if frame not in FRAMES:
        msg = f"unknown frame {frame!r}; choose from {', '.join(FRAMES)}"
        raise ValueError(msg)
    if not simulator.config.sampling_fluctuations:
        msg = "inclined showers are drawn as energy spots; they need GFlashConfig.sampling_fluctuations=True"
        raise ValueError(msg)
    geometry = simulator.geometry
    out = np.zeros((len(e), geometry.n_voxels), dtype=np.float32)
    # showers in chunks of about _CHUNK_SPOTS expected spots (the chunks depend on the energies only)
    expected = np.cumsum(e / simulator.config.spot_energy_mev)
    start = 0
    while start < len(e):
        base = expected[start - 1] if start else 0.0
        stop = max(int(np.searchsorted(expected, base + _CHUNK_SPOTS, side="right")), start + 1)
        out[start:stop] = _bin_spots(simulator, e[start:stop], th[start:stop], ph[start:stop], rng, frame)
        start = stop
    return out


def _bin_spots(
    simulator: GFlashSimulator, e: Array, th: Array, ph: Array, rng: np.random.Generator, frame: Frame
) -> NDArray[np.float32]:
    """One chunk: spots drawn, rotated into ``frame``, cut at the front face and binned."""
    geometry = simulator.geometry
    spots = draw_spots(simulator, e, rng)
    depth, x, y, behind = rotate_spots(spots, th, ph, frame)
    thickness = float(geometry.layer_thickness_mm or 0.0)
    layer = np.where(behind, np.floor(depth / thickness), -1).astype(np.int64)
    keep = behind & (layer < geometry.n_layers)
    deposits = Deposits(spots.event[keep], layer[keep], x[keep], y[keep], spots.energy[keep])
    return deposits_to_showers(deposits, geometry, n_events=len(e), threshold_mev=simulator.config.threshold_mev)

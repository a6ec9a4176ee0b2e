"""GFlash-style parameterised electromagnetic shower simulator for any :class:`Geometry`.

Each shower draws its own longitudinal Gamma profile, ``dE/dt ∝ t^(α−1) e^(−β t)`` (t in radiation
lengths), with correlated log-normal fluctuations of its mean depth ``α/β`` and shape ``α``; each layer
gets a core + tail transverse profile whose radii and core weight follow the depth relative to the
shower's mean depth; sampling fluctuations come from energy spots (see :mod:`caloforge.simulate.deposit`).
Material enters only through the radiation length, Molière radius and critical energy in mm / MeV, and
the readout only through the geometry's ``layer_thickness_mm`` and bin edges, so any cylindrical or
Cartesian geometry works.

References:
    G. Grindhammer, M. Rudowicz, S. Peters, "The fast simulation of electromagnetic and hadronic showers",
    NIM A 290 (1990) 469; G. Grindhammer, S. Peters, "The parameterized simulation of electromagnetic
    showers in homogeneous and sampling calorimeters", arXiv:hep-ex/0001020.

Example:
    >>> import numpy as np
    >>> from caloforge.geometry import get_geometry
    >>> sim = GFlashSimulator(get_geometry("calochallenge-2"))
    >>> data = sim.simulate(np.array([1e4, 5e4]), np.random.default_rng(0))
    >>> data.showers.shape
    (2, 6480)
    >>> bool(0.9 < data.showers.sum() / data.energies.sum() < 1.05)
    True
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from tqdm.auto import tqdm

from caloforge.data import ShowerData
from caloforge.geometry import Geometry, Layer
from caloforge.simulate.deposit import RectangleTable, ring_fractions, sample_deposits, sample_ring_deposits
from caloforge.simulate.inclined import Frame, simulate_inclined
from caloforge.simulate.special import ar1_filter, gammainc

__all__ = ["GFlashConfig", "GFlashSimulator", "ShowerParameters", "transverse_profile"]

logger = logging.getLogger(__name__)

Array = NDArray[np.float64]
_GEV = 1e3
#: Elements per batch of the (showers × voxels) working arrays.
_BATCH_ELEMENTS = 1 << 23


@dataclass(frozen=True)
class GFlashConfig:
    """Physics parameters of :class:`GFlashSimulator`, calibrated on Geant4 Si-W electron showers.

    ``ln y = ln(E / critical_mev)``. Longitudinal: per shower ``(ln m, ln α)`` is bivariate normal with
    means ``ln(c0 + c1 ln y)``, widths ``1 / (c0 + c1 ln y)`` and correlation ``c0 + c1 ln y``, where
    m = α/β is the mean depth in X0. Transverse, with ``τ = t / m`` at the layer centre: core radius
    ``R_C / R_M = z0 + z1 τ``; tail radius ``R_T / R_M = k0 (exp(k2 (τ − k1)) + exp(k3 (τ − k1)))``;
    core weight ``p = p0 exp((p1 − τ)/p2 − exp((p1 − τ)/p2))``.

    The defaults were fitted with ``benchmarks/calibrate_simulator.py`` to 11,500 Geant4 11.4 electron
    showers (1–100 GeV, log-uniform) in a 90 × (1.4 mm W + 0.3 mm Si) calorimeter read out in the
    CaloChallenge dataset-2 geometry, deposits scaled by 1/0.033: the transverse constants by a
    least-squares fit of the radial energy fractions in bins of τ; the longitudinal constants by matching
    per-shower profile moments (mean and width of ln mean-depth and ln α, their correlation) in ten energy
    bins, iterated with the simulator in the loop to remove estimator bias and sampling noise;
    ``spot_shape`` / ``spot_energy_mev`` to the number of non-zero voxels and the resolution (a grid over
    k, each point rescaling ē to the Geant4 σ/E); ``layer_fluctuation`` by a grid search matching the
    spread of the per-shower layer-energy fractions; ``response`` to the mean E_dep/E_inc per energy bin.
    The material constants are computed for the Si-W stack (X0: 1.4/3.504 + 0.3/93.7 per 1.7 mm; R_M from
    mass-weighted inverse Molière radii; E_c = 21.2 MeV · X0 / R_M). Outside 1–100 GeV, or for other
    materials, the parameterisation is an extrapolation. ``docs/simulator.md`` shows the comparison.

    Attributes:
        x0_mm: Effective radiation length, mm (Si-W: 1.4 mm W + 0.3 mm Si → 4.216 mm).
        moliere_mm: Effective Molière radius, mm.
        critical_mev: Effective critical energy, MeV.
        mean_depth: (c0, c1) of the median mean depth, X0.
        alpha: (c0, c1) of the median shape α.
        sigma_depth: (c0, c1) of the inverse width of ln(mean depth).
        sigma_alpha: (c0, c1) of the inverse width of ln α.
        correlation: (c0, c1) of the correlation of ln(mean depth) and ln α.
        core_radius: (z0, z1) of R_C / R_M.
        tail_radius: (k0, k1, k2, k3) of R_T / R_M.
        core_fraction: (p0, p1, p2) of the core weight.
        layer_fluctuation: (s, q, ρ): extra log-normal fluctuation of each layer's energy, width
            ``s (E / GeV)^(−q)``, correlation ρ between neighbouring layers (AR(1)); the shower's total
            is kept (this models sub-shower clustering beyond the smooth Gamma profile).
        response: (r0, r1): deposited / incident energy before losses is ``r0 + r1 ln(E / GeV)``.
        spot_energy_mev: Mean energy of one spot, MeV (deposit units).
        spot_shape: Gamma shape k of the spot-energy distribution.
        threshold_mev: Voxels below this energy are zeroed, MeV.
        sampling_fluctuations: Draw spots; if false, voxels hold their expected energies.
    """

    x0_mm: float = 4.216
    moliere_mm: float = 10.88
    critical_mev: float = 8.21
    mean_depth: tuple[float, float] = (1.064, 1.006)
    alpha: tuple[float, float] = (-0.5506, 0.6098)
    sigma_depth: tuple[float, float] = (3.196, 0.863)
    sigma_alpha: tuple[float, float] = (1.729, 0.7713)
    correlation: tuple[float, float] = (-0.05411, 0.08407)
    core_radius: tuple[float, float] = (0.08231, 0.1219)
    tail_radius: tuple[float, float, float, float] = (0.4954, 0.4797, -3.056, 0.5586)
    core_fraction: tuple[float, float, float] = (2.581, 0.503, 0.8895)
    layer_fluctuation: tuple[float, float, float] = (0.45, 0.25, 0.6)
    response: tuple[float, float] = (0.9918, -0.001149)
    spot_energy_mev: float = 8.988
    spot_shape: float = 1.2
    threshold_mev: float = 0.01515
    sampling_fluctuations: bool = True

    def __post_init__(self) -> None:
        for name in ("x0_mm", "moliere_mm", "critical_mev", "spot_energy_mev", "spot_shape"):
            if not getattr(self, name) > 0:
                msg = f"GFlashConfig.{name} must be positive, got {getattr(self, name)}"
                raise ValueError(msg)
        if self.threshold_mev < 0:
            msg = f"GFlashConfig.threshold_mev must be non-negative, got {self.threshold_mev}"
            raise ValueError(msg)


@dataclass(frozen=True)
class ShowerParameters:
    """Per-shower profile parameters drawn by :meth:`GFlashSimulator.sample_parameters`.

    Attributes:
        visible: Energy the shower deposits before leakage and fluctuations, (N,), MeV.
        mean_depth: Mean depth m = α/β of the longitudinal profile, (N,), X0.
        alpha: Shape α of the longitudinal Gamma profile, (N,).
        layer_noise: Log of the multiplicative layer-energy fluctuation, (N, n_layers).
    """

    visible: Array
    mean_depth: Array
    alpha: Array
    layer_noise: Array


def transverse_profile(config: GFlashConfig, tau: Array) -> tuple[Array, Array, Array]:
    """Core radius R_C (mm), tail radius R_T (mm) and core weight p at relative depth τ = t / mean depth.

    Arguments:
        config: Physics parameters.
        tau: Relative depth, any shape.

    Returns:
        Three arrays shaped like ``tau``.
    """
    c = config
    core = c.moliere_mm * np.maximum(_linear(c.core_radius, tau), 1e-3)
    k0, k1, k2, k3 = c.tail_radius
    tail = c.moliere_mm * np.maximum(k0 * (np.exp(k2 * (tau - k1)) + np.exp(k3 * (tau - k1))), 1e-3)
    u = (c.core_fraction[1] - tau) / c.core_fraction[2]
    weight = np.clip(c.core_fraction[0] * np.exp(u - np.exp(u)), 0.0, 1.0)
    return core, tail, weight


def _linear(coeffs: tuple[float, ...], x: Array) -> Array:
    return coeffs[0] + coeffs[1] * x


class GFlashSimulator:
    """Parameterised EM shower simulator depositing into any geometry with ``layer_thickness_mm``.

    Arguments:
        geometry: Readout geometry (cylindrical or Cartesian layers).
        config: Physics parameters.
        batch_size: Showers per vectorised batch (default: about 8M voxel values per batch).

    Raises:
        ValueError: If the geometry has no ``layer_thickness_mm``.
    """

    def __init__(self, geometry: Geometry, config: GFlashConfig | None = None, *, batch_size: int | None = None):
        if geometry.layer_thickness_mm is None or geometry.layer_thickness_mm <= 0:
            msg = f"geometry {geometry.name!r} has no layer_thickness_mm; the simulator needs the layer depth"
            raise ValueError(msg)
        self.geometry = geometry
        self.config = config or GFlashConfig()
        self.batch_size = batch_size or max(1, _BATCH_ELEMENTS // geometry.n_voxels)
        pitch = geometry.layer_thickness_mm / self.config.x0_mm
        self._edges_x0 = np.arange(geometry.n_layers + 1) * pitch
        self._centres_x0 = (np.arange(geometry.n_layers) + 0.5) * pitch
        self._groups = _group_layers(geometry.layers)
        self._tables = {
            id(tmpl): RectangleTable(tmpl.x_edges, tmpl.y_edges)
            for _, tmpl in self._groups
            if tmpl.x_edges is not None and tmpl.y_edges is not None
        }

    def sample_parameters(self, energies: Array, rng: np.random.Generator) -> ShowerParameters:
        """Draws each shower's visible energy and longitudinal profile.

        Arguments:
            energies: Incident energies, (N,), MeV.
            rng: Random generator.
        """
        c = self.config
        e = np.asarray(energies, dtype=np.float64)
        log_y = np.log(e / c.critical_mev)
        median_m = np.maximum(_linear(c.mean_depth, log_y), 0.3)
        median_a = np.maximum(_linear(c.alpha, log_y), 0.3)
        sd_m = 1.0 / np.maximum(_linear(c.sigma_depth, log_y), 1.0)
        sd_a = 1.0 / np.maximum(_linear(c.sigma_alpha, log_y), 1.0)
        rho = np.clip(_linear(c.correlation, log_y), -0.99, 0.99)
        z1, z2 = rng.standard_normal((2, len(e)))
        mean_depth = median_m * np.exp(sd_m * z1)
        alpha = median_a * np.exp(sd_a * (rho * z1 + np.sqrt(1.0 - rho**2) * z2))
        visible = e * _linear(c.response, np.log(e / _GEV))
        return ShowerParameters(visible, mean_depth, alpha, self._layer_noise(e, rng))

    def _layer_noise(self, energies: Array, rng: np.random.Generator) -> Array:
        """AR(1) Gaussian noise along the layers, scaled by the energy-dependent width."""
        scale, power, rho = self.config.layer_fluctuation
        sigma = scale * (energies / _GEV) ** (-power)
        eps = rng.standard_normal((len(energies), self.geometry.n_layers))
        eps[:, 1:] *= np.sqrt(1.0 - rho**2)
        noise = ar1_filter(eps, rho)
        return np.asarray(sigma[:, None] * noise)

    def longitudinal_fractions(self, params: ShowerParameters) -> Array:
        """Energy fraction of each shower in each layer, (N, n_layers); the rest leaks out the back."""
        beta = params.alpha / params.mean_depth
        cdf = gammainc(params.alpha[:, None], beta[:, None] * self._edges_x0[None, :])
        smooth = np.diff(cdf, axis=1)
        noisy = smooth * np.exp(params.layer_noise)
        profile: NDArray[np.float64] = noisy * (smooth.sum(1) / np.maximum(noisy.sum(1), 1e-300))[:, None]
        return profile

    def transverse_shape(self, params: ShowerParameters) -> tuple[Array, Array, Array]:
        """Core radius (mm), tail radius (mm) and core weight per shower and layer, each (N, n_layers)."""
        return transverse_profile(self.config, self._centres_x0[None, :] / params.mean_depth[:, None])

    def expected_deposits(self, energies: Array, rng: np.random.Generator) -> tuple[NDArray[np.float32], Array]:
        """Expected voxel energies of freshly drawn showers, before sampling fluctuations.

        Arguments:
            energies: Incident energies, (N,), MeV.
            rng: Random generator.

        Returns:
            ``(deposits, leaked)``: deposits (N, n_voxels), MeV, float32; leaked energy beyond the
            readout (longitudinal and transverse), (N,), MeV. Their sum is the visible energy.
        """
        blocks = self._compact_expected(energies, rng)
        out = np.empty((len(energies), self.geometry.n_voxels), dtype=np.float32)
        for layers, template, compact in blocks:
            self._scatter(out, layers, _expand(template, compact))
        return out, self._visible - out.sum(axis=1, dtype=np.float64)

    def _compact_expected(
        self, energies: Array, rng: np.random.Generator
    ) -> list[tuple[NDArray[np.int64], Layer, Array]]:
        """Per group of equally binned layers: expected energy per ring (N, L, n_r) or cell (N, L, n_x n_y)."""
        params = self.sample_parameters(energies, rng)
        self._visible = params.visible
        layer_energy = params.visible[:, None] * self.longitudinal_fractions(params)
        core, tail, weight = self.transverse_shape(params)
        blocks = []
        for layers, tmpl in self._groups:
            e, rc, rt, w = layer_energy[:, layers], core[:, layers], tail[:, layers], weight[:, layers]
            if id(tmpl) in self._tables:
                blocks.append((layers, tmpl, e[..., None] * self._tables[id(tmpl)].fractions(rc, rt, w)))
            else:
                blocks.append((layers, tmpl, e[..., None] * ring_fractions(np.asarray(tmpl.r_edges), rc, rt, w)))
        return blocks

    def _scatter(self, out: NDArray[np.float32], layers: NDArray[np.int64], block: NDArray[np.float32]) -> None:
        if len(layers) == self.geometry.n_layers:
            out[:] = block.reshape(len(out), -1)
            return
        for j, layer in enumerate(layers):
            out[:, self.geometry.layer_slice(int(layer))] = block[:, j]

    def simulate(
        self,
        energies: NDArray[np.floating],
        rng: np.random.Generator,
        *,
        progress: bool = False,
        angles: NDArray[np.floating] | None = None,
        phi: NDArray[np.floating] | float = 0.0,
        frame: Frame = "detector",
    ) -> ShowerData:
        """Simulates one shower per incident energy, head-on or inclined.

        Without ``angles`` the showers enter along the layer normal and are computed by the analytic path
        (expected voxel energies, then spot fluctuations). With ``angles`` they are drawn as energy spots
        along the inclined axis and read out in ``frame`` (:mod:`caloforge.simulate.inclined`).

        Arguments:
            energies: Incident energies, (N,), MeV.
            rng: Random generator (the only source of randomness).
            progress: Show a progress bar.
            angles: Polar angles θ from the layer normal, (N,), rad, in [0, π/2); ``None``: head-on.
            phi: Azimuth φ of the inclination (0 = towards +x), (N,) or one value, rad.
            frame: ``"detector"`` (readout layers = detector layers) or ``"shower"`` (Par04 mesh along
                the particle); used with ``angles`` only.

        Returns:
            Showers, (N, n_voxels), MeV, in the geometry's voxel order (with ``angles``: their θ too).
        """
        e = np.asarray(energies, dtype=np.float64).reshape(-1)
        if e.size and (not np.all(np.isfinite(e)) or e.min() <= 0):
            msg = "incident energies must be finite and positive (MeV)"
            raise ValueError(msg)
        theta = None if angles is None else np.asarray(angles, dtype=np.float64).reshape(-1)
        if theta is not None and theta.shape != e.shape:
            msg = f"{len(e)} incident energies but {len(theta)} angles"
            raise ValueError(msg)
        azimuth = np.asarray(phi, dtype=np.float64).reshape(-1)
        if azimuth.size not in (1, len(e)):
            msg = f"{len(e)} incident energies but {azimuth.size} azimuths"
            raise ValueError(msg)
        azimuth = np.broadcast_to(azimuth, e.shape)
        parts = []
        for i in tqdm(range(0, len(e), self.batch_size), disable=not progress, desc="simulate", unit="batch"):
            part = slice(i, i + self.batch_size)
            if theta is None:
                parts.append(self._simulate_batch(e[part], rng))
            else:
                parts.append(simulate_inclined(self, e[part], theta[part], azimuth[part], rng, frame=frame))
        showers = np.concatenate(parts) if parts else np.zeros((0, self.geometry.n_voxels), np.float32)
        stored = None if theta is None else theta.astype(np.float32)
        return ShowerData(e.astype(np.float32), showers, self.geometry, stored, attrs={"generator": "caloforge GFlash"})

    def _simulate_batch(self, energies: Array, rng: np.random.Generator) -> NDArray[np.float32]:
        c = self.config
        if not c.sampling_fluctuations:
            deposits, _ = self.expected_deposits(energies, rng)
            deposits[deposits < c.threshold_mev] = 0.0
            return deposits
        out = np.empty((len(energies), self.geometry.n_voxels), dtype=np.float32)
        spots = (c.spot_energy_mev, c.spot_shape, c.threshold_mev)
        for layers, tmpl, compact in self._compact_expected(energies, rng):
            if tmpl.kind == "cartesian":
                block = sample_deposits(compact.astype(np.float32), *spots, rng)
            else:
                block = sample_ring_deposits(compact, tmpl.n_alpha, *spots, rng)
            self._scatter(out, layers, block.reshape(len(energies), len(layers), -1))
        return out


def _group_layers(layers: tuple[Layer, ...]) -> list[tuple[NDArray[np.int64], Layer]]:
    """Indices of layers sharing one binning, with a representative layer, in first-seen order."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, lay in enumerate(layers):
        groups.setdefault((lay.r_edges, lay.n_alpha, lay.x_edges, lay.y_edges), []).append(i)
    return [(np.asarray(idx, dtype=np.int64), layers[idx[0]]) for idx in groups.values()]


def _expand(layer: Layer, compact: Array) -> NDArray[np.float32]:
    """Expected energy per voxel, (N, L, n_cells) float32, from per-ring or per-cell energies."""
    if layer.kind == "cartesian":
        return compact.astype(np.float32)
    n, n_layers, n_r = compact.shape
    per_bin = (compact / layer.n_alpha).astype(np.float32)[:, :, None, :]
    return np.broadcast_to(per_bin, (n, n_layers, layer.n_alpha, n_r)).reshape(n, n_layers, -1)

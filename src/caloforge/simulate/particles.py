"""Electrons, photons and charged pions in a layered geometry of any materials: :class:`ParticleSimulator`.

Every layer has its own physical depth and sampling structure (:func:`caloforge.simulate.materials.layer_stack`),
so depths are cumulative over layers in X0 (EM profiles) and λ_I (hadronic profiles). The EM model is the
GFlash one of :class:`~caloforge.simulate.gflash.GFlashConfig` (longitudinal Gamma with correlated
log-normal mean depth and shape, core + tail transverse profile) with the layer's X0, R_M and E_c; a photon
first converts at a depth drawn from ``exp(−7t/9)`` (t in X0). A pion follows
:mod:`caloforge.simulate.hadronic`: a MIP track (Landau-like Moyal fluctuations around the layer's
dE/dx) up to its first interaction, then π⁰ and hadronic parts, the hadronic one weighted by the
layer's 1/(e/h). Energies are converted to the geometry's voxel unit (active-medium MeV for
``energy_scale="visible"``, EM-scale MeV otherwise). Cell fractions and the compound Poisson–Gamma
energy spots come from :mod:`caloforge.simulate.deposit`, the track's cell from
:func:`caloforge.simulate.readout.layer_voxel_index`; the spot energy of each layer gives its EM
sampling term, the hadronic spots are ``spot_factor`` times larger.

This is a parameterisation, not Geant4: see ``docs/simulator.md`` ("Pion showers") for what it was tuned to.

Example:
    >>> import numpy as np
    >>> from caloforge.geometry import get_geometry
    >>> sim = ParticleSimulator(get_geometry("ild-48x25x25"), "pion", batch_size=8)
    >>> data = sim.simulate(np.full(4, 2e4), np.random.default_rng(1))
    >>> data.showers.shape, data.attrs["particle"]
    ((4, 30000), 'pion')
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from tqdm.auto import tqdm

from caloforge.data import ShowerData
from caloforge.geometry import Geometry, Layer
from caloforge.simulate.deposit import RectangleTable, ring_fractions, sample_deposits, sample_ring_deposits
from caloforge.simulate.gflash import GFlashConfig, transverse_profile
from caloforge.simulate.hadronic import HadronicConfig, gamma_layer_fractions, sample_pion_showers
from caloforge.simulate.materials import layer_stack
from caloforge.simulate.readout import layer_voxel_index

__all__ = ["PARTICLES", "ParticleSimulator", "SpotField"]

Array = NDArray[np.float64]
#: Particles the simulator knows.
PARTICLES = ("electron", "photon", "pion")
_GEV = 1e3
_BATCH_ELEMENTS = 1 << 23
#: Mean of the standard Moyal distribution (Euler's γ + ln 2).
_MOYAL_MEAN = 0.5772156649 + np.log(2.0)


@dataclass(frozen=True)
class SpotField:
    """Expected energy of one shower component per layer, with its transverse shape and spot energy.

    Attributes:
        energy: Expected energy per layer in the voxel unit, (N, L).
        core_mm: Core radius, (N, L), mm.
        tail_mm: Tail radius, (N, L), mm.
        core_weight: Core weight, (N, L).
        spot: Mean spot energy per layer in the voxel unit, (L,).
    """

    energy: Array
    core_mm: Array
    tail_mm: Array
    core_weight: Array
    spot: Array


class ParticleSimulator:
    """Parameterised electron, photon and π± showers in a geometry with per-layer depths and materials.

    Arguments:
        geometry: Readout geometry; layers without ``material`` / ``depth_mm`` are Si-W of
            ``layer_thickness_mm``.
        particle: ``"electron"``, ``"photon"`` or ``"pion"``.
        em_config: EM shower parameters (material constants are replaced by each layer's).
        hadronic: Hadronic parameters.
        batch_size: Showers per vectorised batch (default: about 8M voxel values per batch).

    Raises:
        ValueError: On an unknown particle, or a geometry without layer depths or with an unknown material.
    """

    def __init__(
        self,
        geometry: Geometry,
        particle: str = "pion",
        *,
        em_config: GFlashConfig | None = None,
        hadronic: HadronicConfig | None = None,
        batch_size: int | None = None,
    ) -> None:
        if particle not in PARTICLES:
            msg = f"unknown particle {particle!r}; choose one of {', '.join(PARTICLES)}"
            raise ValueError(msg)
        self.geometry = geometry
        self.particle = particle
        self.em_config = em_config or GFlashConfig()
        self.hadronic = hadronic or HadronicConfig()
        self.stack = layer_stack(geometry)
        self.batch_size = batch_size or max(1, _BATCH_ELEMENTS // geometry.n_voxels)
        s = self.stack
        self._x0_edges = np.concatenate([[0.0], np.cumsum(s.depth_x0)])
        self._lambda_edges = np.concatenate([[0.0], np.cumsum(s.depth_lambda)])
        self._em_unit = dataclasses.replace(self.em_config, moliere_mm=1.0)
        k = self.em_config.spot_shape
        self._em_spot = s.em_stochastic**2 * _GEV * s.em_scale / (1.0 + 1.0 / k)
        threshold = self.hadronic.threshold_mev
        self.threshold_mev = float(threshold if threshold is not None else geometry.cell_threshold_mev or 0.0)
        self._groups = _group_layers(geometry.layers)
        self._tables = {
            id(t): RectangleTable(t.x_edges, t.y_edges) for _, t in self._groups if t.x_edges is not None and t.y_edges is not None
        }
        self._track_voxel = np.array(
            [int(layer_voxel_index(lay, np.zeros(1), np.zeros(1))[0]) for lay in geometry.layers], np.int64
        )

    # ------------------------------------------------------------------ depth conversions
    def _lambda_to_x0(self, depth_lambda: Array) -> Array:
        """Depth in λ_I → X0 (piecewise linear over the layers)."""
        return np.asarray(np.interp(depth_lambda, self._lambda_edges, self._x0_edges))

    # ------------------------------------------------------------------ components
    def _em_field(self, energy_mev: Array, start_x0: Array, depth_energy: Array, rng: np.random.Generator) -> SpotField:
        """EM component of ``energy_mev`` (deposited, MeV) starting at ``start_x0``; ``depth_energy`` sets its depth."""
        c, s = self.em_config, self.stack
        layer = np.clip(np.searchsorted(self._x0_edges, start_x0, side="right") - 1, 0, len(s.depth_mm) - 1)
        critical = 21.2 * s.x0_mm[layer] / s.moliere_mm[layer]
        log_y = np.log(np.maximum(depth_energy / critical, 1.5))
        median_m = np.maximum(c.mean_depth[0] + c.mean_depth[1] * log_y, 0.3)
        median_a = np.maximum(c.alpha[0] + c.alpha[1] * log_y, 0.3)
        sd_m = 1.0 / np.maximum(c.sigma_depth[0] + c.sigma_depth[1] * log_y, 1.0)
        sd_a = 1.0 / np.maximum(c.sigma_alpha[0] + c.sigma_alpha[1] * log_y, 1.0)
        rho = np.clip(c.correlation[0] + c.correlation[1] * log_y, -0.99, 0.99)
        z1, z2 = rng.standard_normal((2, len(energy_mev)))
        mean_depth = median_m * np.exp(sd_m * z1)
        alpha = median_a * np.exp(sd_a * (rho * z1 + np.sqrt(1.0 - rho**2) * z2))
        fractions = gamma_layer_fractions(alpha, alpha / mean_depth, self._x0_edges, start_x0)
        centres = 0.5 * (self._x0_edges[1:] + self._x0_edges[:-1])
        tau = np.maximum(centres[None, :] - start_x0[:, None], 0.0) / mean_depth[:, None]
        core, tail, weight = transverse_profile(self._em_unit, tau)
        energy = energy_mev[:, None] * fractions * s.em_scale[None, :]
        return SpotField(energy, core * s.moliere_mm, tail * s.moliere_mm, weight, self._em_spot)

    def _hadronic_field(self, energy_mev: Array, start: Array, mean_depth: Array, alpha: Array) -> SpotField:
        """Non-EM component (deposited MeV) starting at ``start`` λ_I, weighted by 1/(e/h)."""
        s, h = self.stack, self.hadronic
        fractions = gamma_layer_fractions(alpha, alpha / mean_depth, self._lambda_edges, start)
        centres = 0.5 * (self._lambda_edges[1:] + self._lambda_edges[:-1])
        behind = np.maximum(centres[None, :] - start[:, None], 0.0)
        r50 = s.lambda_mm[None, :] * (h.radius[0] + h.radius[1] * behind)
        energy = energy_mev[:, None] * fractions * (s.em_scale / s.e_over_h)[None, :]
        return SpotField(energy, r50, r50, np.ones_like(r50), h.spot_factor * self._em_spot)

    def _track(self, start: Array, rng: np.random.Generator) -> tuple[Array, Array]:
        """MIP track up to ``start`` (λ_I): (energy lost, MeV (N,); signal per layer in the voxel unit (N, L))."""
        s = self.stack
        crossed = np.clip((start[:, None] - self._lambda_edges[None, :-1]) / s.depth_lambda[None, :], 0.0, 1.0)
        loss = crossed @ s.mip_loss_mev
        xi = (s.mip_mean - s.mip_mpv) / _MOYAL_MEAN
        normal = rng.standard_normal(crossed.shape)
        moyal = -np.log(np.maximum(normal**2, 1e-300))
        signal = np.minimum(s.mip_mpv[None, :] + xi[None, :] * moyal, self.hadronic.mip_tail * s.mip_mean[None, :])
        return loss, np.where(crossed > 0, crossed * np.maximum(signal, 0.0), 0.0)

    # ------------------------------------------------------------------ one batch
    def components(self, energies: Array, rng: np.random.Generator) -> tuple[list[SpotField], Array]:
        """Shower components of one batch and the MIP-track signal per layer (zero for e/γ).

        Arguments:
            energies: Incident energies, (N,), MeV.
            rng: Random generator.

        Returns:
            ``(fields, track)``: the EM (and for pions hadronic) :class:`SpotField` list; track signal (N, L).
        """
        e = np.asarray(energies, np.float64)
        n_layers = self.geometry.n_layers
        if self.particle != "pion":
            start = np.zeros(len(e))
            if self.particle == "photon":
                start = rng.standard_exponential(len(e)) * 9.0 / 7.0
            response = self.em_config.response
            visible = e * (response[0] + response[1] * np.log(e / _GEV))
            return [self._em_field(visible, start, e, rng)], np.zeros((len(e), n_layers))
        p = sample_pion_showers(self.hadronic, e, rng)
        loss, track = self._track(p.start_lambda, rng)
        e_shower = np.maximum(e - loss, 0.0) * (p.start_lambda < self._lambda_edges[-1])
        deposited = e_shower * p.f_dep
        em = self._em_field(deposited * p.f_pi0, self._lambda_to_x0(p.start_lambda), deposited * p.f_pi0 /
                            self.hadronic.em_split, rng)
        had = self._hadronic_field(deposited * (1.0 - p.f_pi0), p.start_lambda, p.mean_depth, p.alpha)
        return [em, had], track

    def _simulate_batch(self, energies: Array, rng: np.random.Generator) -> NDArray[np.float32]:
        fields, track = self.components(energies, rng)
        n = len(energies)
        out = np.zeros((n, self.geometry.n_voxels), np.float32)
        k = self.hadronic.spot_shape
        for layers, tmpl in self._groups:
            total = None
            for f in fields:
                spot = f.spot[layers].astype(np.float32)
                args = (f.core_mm[:, layers], f.tail_mm[:, layers], f.core_weight[:, layers])
                if id(tmpl) in self._tables:
                    cells = f.energy[:, layers, None].astype(np.float32) * self._tables[id(tmpl)].fractions(*args)
                    block = sample_deposits(cells / spot[None, :, None], 1.0, k, 0.0, rng)
                    block = block.reshape(n, len(layers), -1) * spot[None, :, None]
                else:
                    rings = f.energy[:, layers, None] * ring_fractions(np.asarray(tmpl.r_edges), *args)
                    block = sample_ring_deposits(rings / spot[None, :, None], tmpl.n_alpha, 1.0, k, 0.0, rng)
                    block = block.reshape(n, len(layers), -1) * spot[None, :, None]
                total = block if total is None else total + block
            assert total is not None
            flat_track = self._track_voxel[layers]
            total[:, np.arange(len(layers)), flat_track] += track[:, layers].astype(np.float32)
            total[total < self.threshold_mev] = 0.0
            if len(layers) == self.geometry.n_layers:
                out[:] = total.reshape(n, -1)
            else:
                for j, layer in enumerate(layers):
                    out[:, self.geometry.layer_slice(int(layer))] = total[:, j]
        return out

    def simulate(
        self, energies: NDArray[np.floating], rng: np.random.Generator, *, progress: bool = False
    ) -> ShowerData:
        """Simulates one shower per incident energy (MeV); returns showers in the geometry's voxel unit.

        Raises:
            ValueError: If an energy is not finite and positive.
        """
        e = np.asarray(energies, dtype=np.float64).reshape(-1)
        if e.size and (not np.all(np.isfinite(e)) or e.min() <= 0):
            msg = "incident energies must be finite and positive (MeV)"
            raise ValueError(msg)
        parts = [
            self._simulate_batch(e[i : i + self.batch_size], rng)
            for i in tqdm(range(0, len(e), self.batch_size), disable=not progress, desc="simulate", unit="batch")
        ]
        showers = np.concatenate(parts) if parts else np.zeros((0, self.geometry.n_voxels), np.float32)
        attrs = {"generator": "caloforge GFlash", "particle": self.particle}
        return ShowerData(e.astype(np.float32), showers, self.geometry, attrs=attrs)


def _group_layers(layers: tuple[Layer, ...]) -> list[tuple[NDArray[np.int64], Layer]]:
    """Indices of layers sharing one binning, with a representative layer, in first-seen order."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, lay in enumerate(layers):
        groups.setdefault((lay.r_edges, lay.n_alpha, lay.x_edges, lay.y_edges), []).append(i)
    return [(np.asarray(idx, dtype=np.int64), layers[idx[0]]) for idx in groups.values()]

"""GFLASH-style hadronic (π±) shower parameterisation: start depth, energy fractions, profiles.

Following the GFLASH hadronic model (G. Grindhammer, M. Rudowicz, S. Peters, NIM A 290 (1990) 469), a
charged pion travels as a minimum-ionising track until its first inelastic interaction at a depth drawn
from ``exp(−d/λ_I)``; from there the shower energy ``E_s = E − (track loss)`` splits into a deposited
fraction ``f_dep`` (the rest is invisible: nuclear binding, neutrinos, escaping slow neutrons) and, of the
deposited energy, an electromagnetic (π⁰) fraction ``f_π0``. Their means are the H1 fits (E in GeV)

    ⟨f_dep⟩ = 0.6851 + 0.1605 tanh(1.0557 (ln E − 1.7654)),
    ⟨f_π0⟩ = 0.5229 − 0.4219 tanh(−0.786 (ln E − 1.379)),

around which each shower fluctuates (Gaussian, clipped to [0, 1]; f_dep with a width ∝ 1/√E, the
intrinsic hadronic fluctuation). The longitudinal profile from the start point is the sum of a Gamma
function in X0 for the π⁰ part and a Gamma function in λ_I for the rest; the hadronic Gamma's mean depth
and shape are drawn per shower, log-normal and correlated. Laterally the hadronic part follows
``f(r) ∝ r R50² / (r² + R50²)²`` with R50 growing linearly with the depth behind the start point. A
shower that starts behind the calorimeter is a punch-through (only the track is seen); the tail of a
late one leaks out the back. This module draws the per-shower quantities; :mod:`caloforge.simulate.particles`
turns them into voxels.

Example:
    >>> import numpy as np
    >>> f_dep, f_pi0 = h1_fractions(np.array([10.0]))
    >>> round(float(f_dep[0]), 4), round(float(f_pi0[0]), 4)
    (0.7675, 0.7847)
    >>> showers = sample_pion_showers(HadronicConfig(), np.full(4, 1e4), np.random.default_rng(0))
    >>> showers.start_lambda.shape, bool(np.all(showers.f_pi0 <= 1))
    ((4,), True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from caloforge.simulate.special import gammainc

__all__ = ["HadronicConfig", "PionShowers", "gamma_layer_fractions", "h1_fractions", "sample_pion_showers"]

Array = NDArray[np.float64]
_GEV = 1e3


@dataclass(frozen=True)
class HadronicConfig:
    """Parameters of the hadronic part of :class:`~caloforge.simulate.particles.ParticleSimulator`.

    The H1 fits are the GFLASH ones; the widths, profile and spot constants were tuned with
    ``benchmarks/calibrate_pions.py`` to the CALICE Fe-AHCAL pion resolution (58 %/√E) and e/π.

    Attributes:
        deposited: (a, b, c, d) of ⟨f_dep⟩ = a + b tanh(c (ln E − d)).
        pi0: (a, b, c, d) of ⟨f_π0⟩ = a + b tanh(c (ln E − d)).
        deposited_sigma: Width of f_dep times √(E / GeV).
        pi0_sigma: Width of f_π0.
        interaction_factor: Pion interaction length / λ_I of the material.
        em_split: The π⁰ energy is treated, for its depth, as this many photon showers.
        depth: (h0, h1) of the median mean depth of the hadronic Gamma, ``h0 + h1 ln(E / GeV)``, λ_I.
        shape: (a0, a1) of the median shape α of the hadronic Gamma, ``a0 + a1 ln(E / GeV)``.
        depth_sigma: Log-normal width of the hadronic mean depth.
        shape_sigma: Log-normal width of the hadronic shape.
        correlation: Correlation of ln(mean depth) and ln α.
        radius: (r0, r1) of the hadronic R50 = λ_I (r0 + r1 · depth behind the start in λ_I).
        spot_factor: Hadronic spot energy / EM spot energy (larger sampling fluctuations).
        spot_shape: Gamma shape k of the spot energies.
        mip_tail: MIP signals are capped at this many times their mean (tames the Landau-like tail).
        threshold_mev: Cell threshold in the voxel unit; ``None``: the geometry's ``cell_threshold_mev``
            (else 0).
    """

    deposited: tuple[float, float, float, float] = (0.6851, 0.1605, 1.0557, 1.7654)
    pi0: tuple[float, float, float, float] = (0.5229, -0.4219, -0.786, 1.379)
    deposited_sigma: float = 0.53
    pi0_sigma: float = 0.10
    interaction_factor: float = 1.0
    em_split: float = 4.0
    depth: tuple[float, float] = (0.55, 0.20)
    shape: tuple[float, float] = (1.4, 0.15)
    depth_sigma: float = 0.25
    shape_sigma: float = 0.25
    correlation: float = 0.5
    radius: tuple[float, float] = (0.12, 0.06)
    spot_factor: float = 5.0
    spot_shape: float = 1.0
    mip_tail: float = 10.0
    threshold_mev: float | None = None

    def __post_init__(self) -> None:
        for name in ("interaction_factor", "em_split", "spot_factor", "spot_shape", "mip_tail"):
            if not getattr(self, name) > 0:
                msg = f"HadronicConfig.{name} must be positive, got {getattr(self, name)}"
                raise ValueError(msg)
        if not -1 < self.correlation < 1:
            msg = f"HadronicConfig.correlation must lie in (-1, 1), got {self.correlation}"
            raise ValueError(msg)


@dataclass(frozen=True)
class PionShowers:
    """Per-shower quantities drawn by :func:`sample_pion_showers` (arrays of shape (N,)).

    Attributes:
        start_lambda: Depth of the first inelastic interaction, in λ_I of the traversed layers.
        f_dep: Deposited fraction of the shower energy.
        f_pi0: EM (π⁰) fraction of the deposited energy.
        mean_depth: Mean depth of the hadronic Gamma behind the start, λ_I.
        alpha: Shape of the hadronic Gamma.
    """

    start_lambda: Array
    f_dep: Array
    f_pi0: Array
    mean_depth: Array
    alpha: Array


def _tanh_fit(coeffs: tuple[float, float, float, float], log_e: Array) -> Array:
    a, b, c, d = coeffs
    return np.asarray(a + b * np.tanh(c * (log_e - d)))


def h1_fractions(
    energies_gev: Array, config: HadronicConfig | None = None
) -> tuple[Array, Array]:
    """Mean deposited and π⁰ fractions ⟨f_dep⟩, ⟨f_π0⟩ at energies in GeV (the H1 fits)."""
    c = config or HadronicConfig()
    log_e = np.log(np.maximum(np.asarray(energies_gev, np.float64), 1e-3))
    return _tanh_fit(c.deposited, log_e), _tanh_fit(c.pi0, log_e)


def sample_pion_showers(config: HadronicConfig, energies: Array, rng: np.random.Generator) -> PionShowers:
    """Draws start depths, energy fractions and hadronic profile parameters.

    Arguments:
        config: Hadronic parameters.
        energies: Incident energies, (N,), MeV (the fractions use them; the track loss is small).
        rng: Random generator.
    """
    e_gev = np.asarray(energies, np.float64) / _GEV
    n = len(e_gev)
    start = rng.standard_exponential(n) * config.interaction_factor
    mean_dep, mean_pi0 = h1_fractions(e_gev, config)
    z = rng.standard_normal((4, n))
    f_dep = np.clip(mean_dep + config.deposited_sigma / np.sqrt(e_gev) * z[0], 0.0, 1.0)
    f_pi0 = np.clip(mean_pi0 + config.pi0_sigma * z[1], 0.0, 1.0)
    log_e = np.log(np.maximum(e_gev, 1e-3))
    median_m = np.maximum(config.depth[0] + config.depth[1] * log_e, 0.1)
    median_a = np.maximum(config.shape[0] + config.shape[1] * log_e, 1.0)
    rho = config.correlation
    mean_depth = median_m * np.exp(config.depth_sigma * z[2])
    alpha = median_a * np.exp(config.shape_sigma * (rho * z[2] + np.sqrt(1.0 - rho**2) * z[3]))
    return PionShowers(start, f_dep, f_pi0, mean_depth, alpha)


def gamma_layer_fractions(alpha: Array, beta: Array, edges: Array, start: Array) -> Array:
    """Fraction of a Gamma(α, β) profile starting at ``start`` in each layer between ``edges``.

    Arguments:
        alpha: Shape, (N,).
        beta: Rate, (N,), per unit of ``edges``.
        edges: Layer edges, (L + 1,), in the profile's depth unit (X0 or λ_I).
        start: Start depth of each profile, (N,), same unit.

    Returns:
        (N, L) fractions; their sum is the part contained in front of the last edge.
    """
    behind = np.maximum(edges[None, :] - start[:, None], 0.0)
    cdf = gammainc(np.broadcast_to(alpha[:, None], behind.shape), beta[:, None] * behind)
    return np.asarray(np.diff(cdf, axis=1))

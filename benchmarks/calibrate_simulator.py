"""Calibrate the built-in GFlash simulator against the Geant4 reference showers and document the agreement.

Usage (from the repository root)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/calibrate_simulator.py --fit   # fit and print constants
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/calibrate_simulator.py         # compare defaults, write docs

``--fit`` starts from the current :class:`~caloforge.simulate.GFlashConfig` defaults and

1. fits the transverse constants (core/tail radii and core weight vs relative depth τ = t / mean depth) by least
   squares to the Geant4 radial energy fractions in bins of τ;
2. matches per-shower longitudinal moments (mean and width of ln mean-depth and ln α estimated from the layer
   profile, and their correlation) in ten energy bins, iterating with the simulator in the loop so that the
   estimator bias and the sampling noise are corrected;
3. tunes the spot shape k and mean spot energy to the resolution and the number of non-zero voxels, and the
   response (r0, r1) to the mean E_dep / E_inc per energy bin.

It prints a ``GFlashConfig(...)`` to paste into ``src/caloforge/simulate/gflash.py``. Without ``--fit`` it simulates
the Geant4 energies with the package defaults and writes ``docs/simulator.md`` and
``docs/img/simulator_vs_geant4.png`` (see ``simulator_report.py``). Only these scripts read ``../shared``.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import logging
import sys
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares
from simulator_report import bin_summary, write_report

from caloforge.data import ShowerData, read_showers
from caloforge.simulate import GFlashConfig, GFlashSimulator, ring_fractions, transverse_profile

__all__ = ["fit_all", "main"]

ROOT = Path(__file__).resolve().parents[1]
G4_FILE = ROOT.parent / "shared" / "g4data" / "geant4_electrons_siw_1-100GeV.h5"
Array = NDArray[np.float64]
E_BINS_GEV = np.geomspace(1.0, 100.0, 11)
TAU_BINS = np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.7, 2.0, 2.4, 2.9, 3.5, 4.5, 6.0])
logger = logging.getLogger("calibrate")


def simulate_like(g4: ShowerData, config: GFlashConfig, seed: int) -> ShowerData:
    """Simulates one shower per Geant4 incident energy."""
    return GFlashSimulator(g4.geometry, config).simulate(g4.energies, np.random.default_rng(seed))


def moments(data: ShowerData, config: GFlashConfig) -> tuple[Array, Array]:
    """Per-shower mean depth (X0) and Gamma shape α estimated from the layer profile."""
    geo = data.geometry
    layers = geo.layer_energies(data.showers.astype(np.float64))
    pitch = geo.layer_thickness_mm / config.x0_mm
    t = (np.arange(geo.n_layers) + 0.5) * pitch
    tot = np.maximum(layers.sum(1), 1e-9)
    m = (layers * t).sum(1) / tot
    var = (layers * (t - m[:, None]) ** 2).sum(1) / tot - pitch**2 / 12
    return np.maximum(m, 1e-3), m**2 / np.maximum(var, 1e-3)


def long_stats(data: ShowerData, config: GFlashConfig) -> Array:
    """Per energy bin: [mean ln y, mean ln m, sd ln m, mean ln α, sd ln α, corr], (n_bins, 6)."""
    m, a = moments(data, config)
    e = data.energies.astype(np.float64)
    rows = []
    for lo, hi in itertools.pairwise(E_BINS_GEV):
        sel = (e >= lo * 1e3) & (e < hi * 1e3)
        lm, la = np.log(m[sel]), np.log(a[sel])
        ly = np.log(e[sel] / config.critical_mev).mean()
        rows.append([ly, lm.mean(), lm.std(), la.mean(), la.std(), np.corrcoef(lm, la)[0, 1]])
    return np.array(rows)


def _forms(config: GFlashConfig, target: Array) -> GFlashConfig:
    """Fits the GFlash functional forms to per-bin targets (columns as in :func:`long_stats`)."""
    ly = target[:, 0]

    def line(y: Array) -> tuple[float, float]:
        slope, icpt = np.polyfit(ly, y, 1)
        return (float(icpt), float(slope))

    return dataclasses.replace(
        config,
        mean_depth=line(np.exp(target[:, 1])),
        sigma_depth=line(1.0 / target[:, 2]),
        alpha=line(np.exp(target[:, 3])),
        sigma_alpha=line(1.0 / target[:, 4]),
        correlation=line(target[:, 5]),
    )


def fit_longitudinal(g4: ShowerData, config: GFlashConfig, seed: int, iterations: int = 3) -> GFlashConfig:
    """Moment matching with the simulator in the loop."""
    ref = long_stats(g4, config)
    target = ref.copy()
    for it in range(iterations):
        config = _forms(config, target)
        sim = long_stats(simulate_like(g4, config, seed), config)
        for col in (1, 3, 5):
            target[:, col] += ref[:, col] - sim[:, col]
        for col in (2, 4):
            target[:, col] = np.sqrt(np.maximum(target[:, col] ** 2 + ref[:, col] ** 2 - sim[:, col] ** 2, 0.01**2))
        dev = np.abs(ref[:, 1:] - sim[:, 1:]).max(0)
        logger.info("longitudinal it %d: max |G4 - sim| per stat %s", it, np.round(dev, 3))
    return _forms(config, target)


def radial_by_tau(data: ShowerData, config: GFlashConfig) -> tuple[Array, Array]:
    """Radial fractions in bins of τ = t / mean depth: ((n_tau, n_r) normalised fractions, energy weights)."""
    geo = data.geometry
    n_l = geo.n_layers
    rad = geo.reshape(data.showers.astype(np.float64)).sum(2)
    m, _ = moments(data, config)
    tau = ((np.arange(n_l) + 0.5) * geo.layer_thickness_mm / config.x0_mm)[None, :] / m[:, None]
    idx = np.digitize(tau, TAU_BINS) - 1
    out = np.stack([rad[idx == k].sum(0) for k in range(len(TAU_BINS) - 1)])
    weight = out.sum(1)
    return out / np.maximum(weight[:, None], 1e-12), weight / weight.sum()


def _with_transverse(config: GFlashConfig, q: Array) -> GFlashConfig:
    v = [float(x) for x in q]
    return dataclasses.replace(
        config, core_radius=(v[0], v[1]), tail_radius=(v[2], v[3], v[4], v[5]), core_fraction=(v[6], v[7], v[8])
    )


def fit_transverse(g4: ShowerData, config: GFlashConfig) -> GFlashConfig:
    """Least-squares fit of the core/tail radii and core weight to the Geant4 radial fractions vs τ."""
    target, weight = radial_by_tau(g4, config)
    edges = np.asarray(g4.geometry.layers[0].r_edges)
    tau = 0.5 * (TAU_BINS[1:] + TAU_BINS[:-1])[None, :]

    def residual(q: Array) -> Array:
        core, tail, w = transverse_profile(_with_transverse(config, q), tau)
        frac = ring_fractions(edges, core, tail, w)[0]
        frac = frac / frac.sum(1, keepdims=True)
        return ((frac - target) * np.sqrt(weight[:, None] / (target + 1e-3))).ravel()

    q0 = np.array([*config.core_radius, *config.tail_radius, *config.core_fraction])
    res = least_squares(residual, q0, x_scale="jac")
    logger.info("transverse fit: cost %.3g -> %.3g", 0.5 * np.sum(residual(q0) ** 2), res.cost)
    return _with_transverse(config, res.x)


def fit_spots(g4: ShowerData, config: GFlashConfig, seed: int) -> GFlashConfig:
    """Chooses the spot shape k matching the non-zero voxel counts, the spot energy matching the resolution."""
    ref = bin_summary(g4)
    best: tuple[float, GFlashConfig] | None = None
    for k in (0.5, 0.8, 1.2, 1.8, 2.7, 4.0):
        cfg = dataclasses.replace(config, spot_shape=k, spot_energy_mev=16.0 / (1.0 + 1.0 / k))
        for _ in range(2):
            sim = bin_summary(simulate_like(g4, cfg, seed))
            scale = float(np.median(ref["resolution"] ** 2 / sim["resolution"] ** 2))
            cfg = dataclasses.replace(cfg, spot_energy_mev=cfg.spot_energy_mev * scale)
        sim = bin_summary(simulate_like(g4, cfg, seed))
        loss = float(np.mean((sim["nnz"] / ref["nnz"] - 1.0) ** 2))
        logger.info("spot shape %.2f energy %.2f MeV: nnz rms deviation %.3f", k, cfg.spot_energy_mev, loss**0.5)
        if best is None or loss < best[0]:
            best = (loss, cfg)
    assert best is not None
    return best[1]


def layer_spread(data: ShowerData) -> Array:
    """Std of the per-shower layer-energy fractions in three energy bins, (3, 30)."""
    rows = []
    for lo, hi in ((1e3, 3e3), (7e3, 2e4), (4e4, 1e5)):
        sel = (data.energies >= lo) & (data.energies < hi)
        layers = data.geometry.layer_energies(data.showers[sel].astype(np.float64))[:, :30]
        rows.append((layers / layers.sum(1, keepdims=True)).std(0))
    return np.array(rows)


def fit_layer_fluctuation(g4: ShowerData, config: GFlashConfig, seed: int) -> GFlashConfig:
    """Grid search of the extra layer fluctuation matching the spread of the Geant4 layer fractions."""
    ref = layer_spread(g4)
    best: tuple[float, GFlashConfig] | None = None
    for s in (0.35, 0.45, 0.6):
        for q in (0.25, 0.4):
            for rho in (0.0, 0.3, 0.6):
                cfg = fit_longitudinal(g4, dataclasses.replace(config, layer_fluctuation=(s, q, rho)), seed, 2)
                sim = simulate_like(g4, cfg, seed)
                loss = float(np.sum((layer_spread(sim) - ref) ** 2 / (ref + 1e-3)))
                peak = bin_summary(sim)["peak"] - bin_summary(g4)["peak"]
                logger.info("layer fluctuation %s: loss %.4f, peak sim - G4 %s", (s, q, rho), loss, np.round(peak, 2))
                if best is None or loss < best[0]:
                    best = (loss, cfg)
    assert best is not None
    return best[1]


def fit_response(g4: ShowerData, config: GFlashConfig, seed: int) -> GFlashConfig:
    """Rescales the response r0 + r1 ln(E/GeV) to the Geant4 mean E_dep / E_inc per energy bin."""
    ref, sim = bin_summary(g4), bin_summary(simulate_like(g4, config, seed))
    x = np.log(ref["energy"] / 1e3)
    target = (config.response[0] + config.response[1] * x) * ref["response"] / sim["response"]
    slope, icpt = np.polyfit(x, target, 1)
    return dataclasses.replace(config, response=(float(icpt), float(slope)))


def fit_all(g4: ShowerData, config: GFlashConfig, seed: int) -> GFlashConfig:
    """The full calibration sequence."""
    config = fit_transverse(g4, config)
    config = fit_longitudinal(g4, config, seed)
    config = fit_response(g4, fit_spots(g4, config, seed), seed)
    config = fit_layer_fluctuation(g4, config, seed)
    config = fit_longitudinal(g4, config, seed, iterations=2)
    return fit_response(g4, config, seed)


def _rounded(config: GFlashConfig) -> GFlashConfig:
    def r(v: object) -> object:
        if isinstance(v, tuple):
            return tuple(float(f"{x:.4g}") for x in v)
        return float(f"{v:.4g}") if isinstance(v, float) else v

    return dataclasses.replace(config, **{f.name: r(getattr(config, f.name)) for f in dataclasses.fields(config)})


def main(argv: list[str] | None = None) -> int:
    """Runs the calibration (``--fit``) or the comparison report."""
    parser = argparse.ArgumentParser(description="Calibrate the GFlash simulator against Geant4.")
    parser.add_argument("--fit", action="store_true", help="fit the constants and print them")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("caloforge.data.io").setLevel(logging.ERROR)
    g4 = read_showers(G4_FILE, "calochallenge-2")
    if args.fit:
        sys.stdout.write(f"{_rounded(fit_all(g4, GFlashConfig(), args.seed))}\n")
        return 0
    sim = simulate_like(g4, GFlashConfig(), args.seed)
    sim.attrs["seed"] = args.seed
    write_report(g4, sim, ROOT / "docs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Measure the pion parameterisation against its calibration targets (ILD Fe-scintillator AHCAL).

Usage (from the repository root)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/calibrate_pions.py [--showers 1000] [--plot docs/img/pions.png]

Simulates pions and electrons at 10–80 GeV in ``ild-48x25x25`` and prints, measured vs target:

- the pion resolution fit σ/E = a/√E ⊕ b (σ and mean from an iterative ±2σ Gaussian core, as in CALICE,
  JINST 7 P09017: 57.6 %/√E ⊕ 1.6 %);
- e/π, the ratio of the mean electron and pion signals at each energy (target ≈ 1.2 for Fe);
- the slope of the start-depth distribution in λ_I (target −1);
- the MIP peak in the first layer's central cell for showers that start late (target 0.49 MeV per 3 mm
  scintillator cell; the voxel unit is the scintillator deposit, not corrected for sampling);
- the throughput (pions per CPU-second).

It writes a 2 × 2 figure (resolution, e/π, start depth, MIP spectrum) with ``--plot``.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from numpy.typing import NDArray

from caloforge.geometry import get_geometry
from caloforge.simulate.hadronic import HadronicConfig, sample_pion_showers
from caloforge.simulate.particles import ParticleSimulator

__all__ = ["gaussian_core", "main"]

ENERGIES_GEV = (10.0, 15.0, 20.0, 30.0, 50.0, 80.0)
TARGET_A, TARGET_B, TARGET_E_PI, TARGET_MIP = 0.576, 0.016, 1.2, 0.49


def gaussian_core(x: NDArray[np.float64], width: float = 2.0) -> tuple[float, float]:
    """Mean and standard deviation of the ±``width``σ core, iterated to convergence."""
    mean, sd = float(np.median(x)), float(x.std())
    for _ in range(20):
        core = x[np.abs(x - mean) < width * sd]
        mean, sd = float(core.mean()), float(core.std())
    return mean, sd


def fit_resolution(e_gev: NDArray[np.float64], rel: NDArray[np.float64]) -> tuple[float, float]:
    """Least-squares a, b of (σ/E)² = a²/E + b² (non-negative)."""
    design = np.stack([1.0 / e_gev, np.ones_like(e_gev)], axis=1)
    coef, *_ = np.linalg.lstsq(design, rel**2, rcond=None)
    return float(np.sqrt(max(coef[0], 0.0))), float(np.sqrt(max(coef[1], 0.0)))


def main(argv: list[str] | None = None) -> int:
    """Runs the measurement; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--showers", type=int, default=1000, help="showers per energy and particle")
    parser.add_argument("--plot", help="write the figure to this PNG")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    geometry = get_geometry("ild-48x25x25")
    pions, electrons = ParticleSimulator(geometry, "pion"), ParticleSimulator(geometry, "electron")
    rng = np.random.default_rng(args.seed)
    rows, cpu = [], 0.0
    for e in ENERGIES_GEV:
        energies = np.full(args.showers, e * 1e3)
        start = time.process_time()
        pi = pions.simulate(energies, rng).showers.sum(axis=1, dtype=np.float64)
        cpu += time.process_time() - start
        el = electrons.simulate(energies, rng).showers.sum(axis=1, dtype=np.float64)
        (m_pi, s_pi), (m_el, _) = gaussian_core(pi), gaussian_core(el)
        rows.append((e, m_pi, s_pi / m_pi, m_el / m_pi))
    table = np.array(rows)
    a, b = fit_resolution(table[:, 0], table[:, 2])
    starts = sample_pion_showers(HadronicConfig(), np.full(50_000, 1e4), rng).start_lambda
    counts, edges = np.histogram(starts, bins=15, range=(0.0, 4.0))
    centres = 0.5 * (edges[1:] + edges[:-1])
    slope = float(np.polyfit(centres, np.log(np.maximum(counts, 1)), 1, w=np.sqrt(counts))[0])
    late = ParticleSimulator(geometry, "pion", hadronic=HadronicConfig(threshold_mev=0.0))
    cells = geometry.reshape(late.simulate(np.full(3000, 1e4), rng).showers)
    quiet = cells[:, 1:4].sum(axis=(1, 2, 3)) == cells[:, 1:4, 12, 12].sum(axis=1)
    mip = cells[quiet, 0, 12, 12]
    mip = mip[mip > 0]
    hist, mip_edges = np.histogram(mip, bins=60, range=(0.0, 2.0))
    top = int(np.clip(hist.argmax(), 2, len(hist) - 3))
    mids = 0.5 * (mip_edges[1:] + mip_edges[:-1])
    c2, c1, _ = np.polyfit(mids[top - 2 : top + 3], hist[top - 2 : top + 3], 2)  # parabola through the peak
    peak = float(-c1 / (2 * c2))
    out = sys.stdout
    out.write("E (GeV)  <E_vis> pi (MeV)  sigma/E pi  e/pi\n")
    for e, m, r, ratio in rows:
        out.write(f"{e:7.0f}  {m:16.1f}  {r:10.4f}  {ratio:5.3f}\n")
    out.write(f"resolution a/sqrt(E) + b: a = {a:.3f} (target {TARGET_A}), b = {b:.3f} (target {TARGET_B})\n")
    out.write(f"e/pi 10-80 GeV: {table[:, 3].min():.3f}-{table[:, 3].max():.3f}, mean {table[:, 3].mean():.3f} "
              f"(target ~{TARGET_E_PI})\n")
    out.write(f"start-depth slope: {slope:.3f} per lambda_I (target -1)\n")
    out.write(f"MIP peak (late showers, first layer, 3 mm scintillator): {peak:.3f} MeV (target {TARGET_MIP}); "
              f"{len(mip)} showers\n")
    out.write(f"pions: {len(ENERGIES_GEV) * args.showers / cpu:.0f} showers per CPU-second\n")
    if args.plot:
        _plot(args.plot, table, (a, b), (centres, counts, slope), (mip, peak))
    return 0


def _plot(path: str, table: NDArray[np.float64], ab: tuple[float, float], start: tuple, mip: tuple) -> None:  # type: ignore[type-arg]
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2, 2, figsize=(8, 6), dpi=80)
    e = np.linspace(8, 90, 100)
    ax[0, 0].plot(table[:, 0], table[:, 2], "o", label="caloforge")
    ax[0, 0].plot(e, np.hypot(ab[0] / np.sqrt(e), ab[1]), "-", label=f"fit {ab[0]:.2f}/√E ⊕ {ab[1]:.3f}")
    ax[0, 0].plot(e, np.hypot(TARGET_A / np.sqrt(e), TARGET_B), "--", label="CALICE 0.576/√E ⊕ 0.016")
    ax[0, 0].set(xlabel="E (GeV)", ylabel="σ/E (pions)")
    ax[0, 0].legend(fontsize=7)
    ax[0, 1].plot(table[:, 0], table[:, 3], "o-")
    ax[0, 1].axhline(TARGET_E_PI, ls="--", c="k")
    ax[0, 1].set(xlabel="E (GeV)", ylabel="e/π", ylim=(1.0, 1.5))
    centres, counts, slope = start
    ax[1, 0].semilogy(centres, counts, "o", label=f"slope {slope:.3f} / λ_I")
    ax[1, 0].semilogy(centres, counts[0] * np.exp(-(centres - centres[0])), "--", label="exp(−d/λ_I)")
    ax[1, 0].set(xlabel="start depth (λ_I)", ylabel="showers")
    ax[1, 0].legend(fontsize=7)
    values, _peak = mip
    ax[1, 1].hist(values, bins=60, range=(0, 2), histtype="step")
    ax[1, 1].axvline(TARGET_MIP, ls="--", c="k", label="0.49 MeV")
    ax[1, 1].axvline(0.25, ls=":", c="r", label="½-MIP threshold")
    ax[1, 1].set(xlabel="first-layer central cell (MeV, scintillator)", ylabel="showers")
    ax[1, 1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)


if __name__ == "__main__":
    raise SystemExit(main())

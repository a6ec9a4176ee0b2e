"""Inclined showers of the built-in simulator: the figure of ``docs/simulator.md`` and their speed vs head-on.

Usage (from the repository root)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/inclined_showers.py [--n 2000] [--figure docs/img/inclined_showers.png]

Draws the mean energy of 20 GeV electrons in the x–z plane (a Cartesian 2 mm grid, 4 mm layers) head-on, at
θ = 30° and 60° in the detector frame and at 45° in the shower frame, and prints showers per CPU-second of
log-uniform 1–100 GeV electrons in the CaloChallenge dataset-2 and dataset-3 geometries: the head-on analytic
path against the spot path at θ = 0 and θ = 30° (both frames). CPU time of this process does not depend on
how busy a shared machine is.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from caloforge.geometry import Geometry, get_geometry
from caloforge.simulate import GFlashSimulator

__all__ = ["main", "speed"]


def speed(name: str, n: int) -> dict[str, float]:
    """Showers per CPU-second: head-on analytic, then spots at θ = 0, 30° detector and 30° shower frame."""
    sim = GFlashSimulator(get_geometry(name))
    energies = np.exp(np.random.default_rng(0).uniform(np.log(1e3), np.log(1e5), n))
    runs: dict[str, dict[str, object]] = {
        "analytic": {},
        "spots θ=0": {"angles": np.zeros(n)},
        "θ=30° detector": {"angles": np.full(n, np.radians(30.0))},
        "θ=30° shower": {"angles": np.full(n, np.radians(30.0)), "frame": "shower"},
    }
    rates = {}
    for label, kwargs in runs.items():
        start = time.process_time()
        sim.simulate(energies, np.random.default_rng(1), **kwargs)  # type: ignore[arg-type]
        rates[label] = n / (time.process_time() - start)
    return rates


def figure(path: Path) -> None:
    """Mean energy per (layer, x column), log colour scale, for four angle / frame settings."""
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    g = Geometry.cartesian("grid", n_layers=30, nx=80, ny=40, cell_mm=2.0, layer_thickness_mm=4.0)
    sim = GFlashSimulator(g)
    n = 200
    settings = [(0.0, "detector"), (30.0, "detector"), (60.0, "detector"), (45.0, "shower")]
    fig, axes = plt.subplots(1, 4, figsize=(10, 2.8), sharey=True)
    for ax, (degrees, frame) in zip(axes, settings, strict=True):
        theta = np.full(n, np.radians(degrees))
        showers = sim.simulate(np.full(n, 2e4), np.random.default_rng(0), angles=theta, frame=frame).showers  # type: ignore[arg-type]
        columns = showers.reshape(n, 30, 80, 40).sum(axis=3).mean(axis=0)
        extent = (-80.0, 80.0, 120.0, 0.0)
        ax.imshow(np.log10(np.maximum(columns, 1e-2)), aspect="auto", extent=extent, vmin=-2, vmax=3.5, cmap="viridis")
        z = np.array([0.0, 120.0])
        if frame == "detector":
            ax.plot(z * np.tan(theta[0]), z, "w--", lw=0.8)
        else:
            ax.plot(z * np.tan(np.radians(90.0 - degrees)), z, "w:", lw=0.8)  # the inclined front face
        ax.set_xlim(-80, 80)
        ax.set_ylim(120, 0)
        ax.set_title(f"θ = {degrees:g}°, {frame} frame", fontsize=10)
        ax.set_xlabel("x (mm)")
    axes[0].set_ylabel("depth z (mm)")
    fig.suptitle("20 GeV electrons, mean energy per 2 mm column and 4 mm layer (log10 MeV)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=72)


def main(argv: list[str] | None = None) -> int:
    """Draws the figure and prints the speeds."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--figure", type=Path, default=Path("docs/img/inclined_showers.png"))
    args = parser.parse_args(argv)
    figure(args.figure)
    for name in ("calochallenge-2", "calochallenge-3"):
        rates = speed(name, args.n)
        cells = ", ".join(f"{label}: {rate:,.0f}/s" for label, rate in rates.items())
        print(f"{name}: {cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

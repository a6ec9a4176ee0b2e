"""Throughput of the built-in GFlash simulator (showers/s), in memory and streamed to an HDF5 file.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_simulate.py [--n 5000] [--repeats 5] [--geometry calochallenge-2 ...]

Prints the median over ``--repeats`` runs of log-uniform 1–100 GeV electrons; the thread count is whatever numpy
and the machine give (set ``OMP_NUM_THREADS`` to pin it).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from caloforge.geometry import get_geometry
from caloforge.simulate import GFlashSimulator, simulate_to_file

__all__ = ["bench", "main"]


def bench(name: str, n: int, repeats: int) -> tuple[float, float]:
    """Median showers/s of ``simulate`` (in memory) and of ``simulate_to_file``."""
    sim = GFlashSimulator(get_geometry(name))
    rng = np.random.default_rng(0)
    energies = np.exp(rng.uniform(np.log(1e3), np.log(1e5), n))
    sim.simulate(energies[:100], rng)  # warm-up
    mem, disk = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats):
            t0 = time.perf_counter()
            sim.simulate(energies, rng)
            mem.append(n / (time.perf_counter() - t0))
            run = simulate_to_file(Path(tmp) / f"{i}.h5", name, n, "log-uniform:1:100", seed=i)
            disk.append(run.showers_per_second)
            (Path(tmp) / f"{i}.h5").unlink()
    return float(np.median(mem)), float(np.median(disk))


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark and prints one line per geometry."""
    parser = argparse.ArgumentParser(description="GFlash simulator throughput")
    parser.add_argument("--geometry", nargs="+", default=["calochallenge-2", "calochallenge-3"])
    parser.add_argument("--n", type=int, default=5000, help="showers per run")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    sys.stdout.write(f"cpu cores: {os.cpu_count()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '-')}\n")
    for name in args.geometry:
        mem, disk = bench(name, args.n, args.repeats)
        sys.stdout.write(f"{name:18s} simulate: {mem:8.0f} showers/s   to file: {disk:8.0f} showers/s\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

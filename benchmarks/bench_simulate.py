"""Throughput of the built-in GFlash simulator (showers/s), in memory and streamed to an HDF5 file.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_simulate.py [--n 5000] [--repeats 5] [--geometry calochallenge-2 ...]

Prints the median over ``--repeats`` runs of log-uniform 1–100 GeV electrons: wall-clock showers/s and showers per
CPU-second of this process (the latter does not depend on how busy a shared machine is; the simulator is
single-threaded numpy, so an idle core gives about that rate).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from caloforge.data import Conditions, produce_to_file
from caloforge.geometry import get_geometry
from caloforge.simulate import GFlashProducer, GFlashSimulator

__all__ = ["bench", "main"]


def bench(name: str, n: int, repeats: int) -> tuple[float, float, float]:
    """Median showers/s of ``simulate`` (wall and per CPU-second of this process) and of ``produce_to_file``."""
    sim = GFlashSimulator(get_geometry(name))
    rng = np.random.default_rng(0)
    energies = np.exp(rng.uniform(np.log(1e3), np.log(1e5), n))
    sim.simulate(energies[:100], rng)  # warm-up
    mem, cpu, disk = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            sim.simulate(energies, rng)
            mem.append(n / (time.perf_counter() - t0))
            cpu.append(n / (time.process_time() - c0))
            run = produce_to_file(GFlashProducer(name), Conditions.from_spec("log-uniform:1:100", n, i), Path(tmp) / f"{i}.h5",
                                  seed=i)
            disk.append(run.showers_per_second)
            (Path(tmp) / f"{i}.h5").unlink()
    return float(np.median(mem)), float(np.median(cpu)), float(np.median(disk))


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark and prints one line per geometry."""
    parser = argparse.ArgumentParser(description="GFlash simulator throughput")
    parser.add_argument("--geometry", nargs="+", default=["calochallenge-2", "calochallenge-3"])
    parser.add_argument("--n", type=int, default=5000, help="showers per run")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    threads = os.environ.get("OMP_NUM_THREADS", "-")
    sys.stdout.write(f"cpu cores: {os.cpu_count()}, load average: {load:.1f}, OMP_NUM_THREADS={threads}\n")
    for name in args.geometry:
        mem, cpu, disk = bench(name, args.n, args.repeats)
        sys.stdout.write(
            f"{name:18s} simulate: {mem:7.0f} showers/s wall, {cpu:7.0f} per CPU-second;"
            f"  to file: {disk:7.0f} showers/s wall\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Training throughput (showers/s) of every registered model on CaloChallenge dataset 2, on CPU.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_train.py [--models vae wgan] [--steps 20] [--batch-size 128]
        [--data ../shared/g4data/geant4_electrons_siw_1-100GeV.h5]

Each model uses the ``model.config`` of ``configs/<name>-calochallenge-2.yaml`` when it exists (else
its defaults) and trains through the real :class:`caloforge.training.Trainer` for ``--steps`` steps
after ``--warmup`` steps; the reported rate is showers per second of the timed steps (forward,
backward, clipping and optimizer step). Without ``--data``, showers come from the built-in simulator.
Set ``OMP_NUM_THREADS`` to pin the threads.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from caloforge.config import load_config_file
from caloforge.data import ShowerData, read_showers
from caloforge.geometry import get_geometry
from caloforge.models import MODELS, build_model
from caloforge.simulate import GFlashSimulator
from caloforge.training import Callback, TrainConfig, Trainer

__all__ = ["bench_model", "main"]

GEOMETRY = "calochallenge-2"
CONFIGS = Path(__file__).resolve().parents[1] / "configs"


class _Clock(Callback):
    """Records the time at which each step ends."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def on_step_end(self, trainer: Trainer, group: str, metrics: dict[str, float]) -> None:  # noqa: ARG002
        self.times.append(time.perf_counter())


def _data(path: str | None, n: int) -> ShowerData:
    if path is not None:
        return read_showers(path, GEOMETRY, stop=n)
    rng = np.random.default_rng(0)
    energies = np.exp(rng.uniform(np.log(1e3), np.log(1e5), n))
    return GFlashSimulator(get_geometry(GEOMETRY)).simulate(energies, rng)


def bench_model(name: str, data: ShowerData, steps: int, warmup: int, batch_size: int) -> float:
    """Showers/s over ``steps`` timed training steps."""
    path = CONFIGS / f"{name}-{GEOMETRY}.yaml"
    config = load_config_file(path).get("model", {}).get("config") if path.exists() else None
    model = build_model(name, data.geometry, config)
    clock = _Clock()
    train = TrainConfig(
        max_steps=warmup + steps,
        batch_size=batch_size,
        val_fraction=0.0,
        progress=False,
        device="cpu",
        checkpoint_every=0,
    )
    Trainer(model, train, callbacks=[clock]).fit(data)
    elapsed = clock.times[-1] - clock.times[warmup - 1]
    return steps * batch_size / elapsed


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark and prints a table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="*", default=None, help="registered names (default: all)")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--data", help="CaloChallenge dataset-2 file (default: simulated showers)")
    args = p.parse_args(argv)
    data = _data(args.data, max(2048, args.batch_size * 4))
    print(f"# {GEOMETRY}, CPU, torch threads {torch.get_num_threads()}, batch {args.batch_size}")
    print(f"{'model':<14} {'showers/s':>10}")
    for name in args.models or MODELS.names():
        rate = bench_model(name, data, args.steps, args.warmup, args.batch_size)
        print(f"{name:<14} {rate:>10.0f}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

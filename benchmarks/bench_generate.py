"""Generation speed (ms/shower) of every registered model on CaloChallenge dataset 2, vs Geant4.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_generate.py [--models vae wgan] [--batch-sizes 1 100 10000]
        [--checkpoint vae=runs/vae-calochallenge-2/checkpoints/last.pt] [--geant4-ms 130] [--json out.json]

Each model is built with the ``model.config`` of ``configs/<name>-calochallenge-2.yaml`` when that file
exists (else the model's defaults), or loaded from ``--checkpoint NAME=PATH``; weights do not change
the cost. The time of :func:`caloforge.sampling.generate` for one batch (noise, network, inverse
preprocessing, copy to numpy) is measured after a warm-up; the median over repeats is reported, with
the speed-up relative to ``--geant4-ms`` per shower. A setting is skipped when one call of the
previous batch size extrapolates past ``--max-seconds``. Set ``OMP_NUM_THREADS`` to pin the threads.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from caloforge.config import load_config_file
from caloforge.geometry import get_geometry
from caloforge.models import MODELS, GenerativeModel, build_model, load_model
from caloforge.sampling import generate

__all__ = ["bench_model", "main"]

GEOMETRY = "calochallenge-2"
CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def _build(name: str, checkpoint: str | None) -> GenerativeModel:
    if checkpoint is not None:
        return load_model(checkpoint)
    geometry = get_geometry(GEOMETRY)
    path = CONFIGS / f"{name}-{GEOMETRY}.yaml"
    config = load_config_file(path).get("model", {}).get("config") if path.exists() else None
    model = build_model(name, geometry, config)
    rng = np.random.default_rng(0)
    energies = np.exp(rng.uniform(np.log(1e3), np.log(1e5), 256)).astype(np.float32)
    showers = energies[:, None] * rng.gamma(0.5, 1e-3, (256, geometry.n_voxels)).astype(np.float32)
    model.fit_preprocessing(torch.from_numpy(showers), torch.from_numpy(energies[:, None]))
    return model.eval()


def bench_model(model: GenerativeModel, batch_sizes: list[int], max_seconds: float) -> dict[int, float]:
    """Median ms/shower of one ``generate`` call per batch size (skipping ones that would take too long)."""
    out: dict[int, float] = {}
    per_shower_s = 0.0
    for b in batch_sizes:
        if per_shower_s * b > max_seconds:
            break
        energies = np.exp(np.random.default_rng(b).uniform(np.log(1e3), np.log(1e5), b)).astype(np.float32)
        generate(model, energies, batch_size=b, seed=0, device="cpu")  # warm-up
        repeats = 50 if b <= 10 else (10 if b <= 1000 else 3)
        times = []
        for r in range(repeats):
            t0 = time.perf_counter()
            generate(model, energies, batch_size=b, seed=r, device="cpu")
            times.append(time.perf_counter() - t0)
        out[b] = 1e3 * statistics.median(times) / b
        per_shower_s = out[b] / 1e3  # extrapolate from the largest batch measured so far
    return out


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark and prints a table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="*", default=None, help="registered names (default: all)")
    p.add_argument("--batch-sizes", nargs="*", type=int, default=[1, 100, 10_000])
    p.add_argument("--checkpoint", action="append", default=[], metavar="NAME=PATH")
    p.add_argument("--geant4-ms", type=float, default=130.0, help="Geant4 time per shower, ms")
    p.add_argument("--max-seconds", type=float, default=60.0, help="skip calls predicted to take longer")
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args(argv)
    checkpoints = dict(item.split("=", 1) for item in args.checkpoint)
    names = args.models or MODELS.names()
    torch.set_grad_enabled(False)
    print(f"# {GEOMETRY}, CPU, torch threads {torch.get_num_threads()}, Geant4 {args.geant4_ms} ms/shower")
    print(f"{'model':<14} {'batch':>6} {'ms/shower':>10} {'speed-up':>9}")
    results: dict[str, Any] = {}
    for name in names:
        model = _build(name, checkpoints.get(name))
        timings = bench_model(model, args.batch_sizes, args.max_seconds)
        results[name] = {str(b): ms for b, ms in timings.items()}
        for b, ms in timings.items():
            print(f"{name:<14} {b:>6} {ms:>10.4f} {args.geant4_ms / ms:>9.0f}")
        for b in args.batch_sizes:
            if b not in timings:
                print(f"{name:<14} {b:>6} {'skipped':>10}")
        sys.stdout.flush()
    if args.json:
        Path(args.json).write_text(json.dumps({"geant4_ms": args.geant4_ms, "ms_per_shower": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

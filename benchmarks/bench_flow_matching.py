"""Generation cost of the flow-matching model: ms/shower vs solver and number of steps, at two batch sizes.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_flow_matching.py [--checkpoint runs/.../last.pt]
        [--config configs/flow-matching-calochallenge-2.yaml] [--batch-sizes 100 10000]
        [--samplers euler:1 euler:2 euler:4 midpoint:8 midpoint:16 rk4:8] [--threads 1] [--repeats 3]

Without ``--checkpoint`` the model of ``--config`` is built untrained (the cost does not depend on the
weights) with preprocessing fitted on random showers. For every sampler ``SOLVER:STEPS`` it times
:meth:`FlowMatching.decode` (both stages, under ``torch.inference_mode``) and prints the median over
``--repeats`` runs of wall-clock ms/shower and CPU ms/shower of this process (the latter hardly depends
on how busy a shared machine is), with the number of network evaluations per stage.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch

from caloforge.config import load_config_file
from caloforge.geometry import get_geometry
from caloforge.models import build_model, load_model
from caloforge.models.diffusion import FlowMatching
from caloforge.solvers import SOLVERS, parse_sampler

__all__ = ["bench", "main"]


def _model(args: argparse.Namespace) -> FlowMatching:
    if args.checkpoint:
        model = load_model(args.checkpoint)
    else:
        run = load_config_file(args.config)
        geometry = get_geometry(run["data"]["geometry"])
        model = build_model("flow-matching", geometry, run["model"]["config"])
        showers = torch.rand(256, geometry.n_voxels) * (torch.rand(256, geometry.n_voxels) > 0.5)
        model.fit_preprocessing(showers * 100, torch.exp(torch.rand(256, 1) * 4.6) * 1e3)
    if not isinstance(model, FlowMatching):
        msg = f"expected a flow-matching model, got {type(model).__name__}"
        raise TypeError(msg)
    return model.eval()


def bench(model: FlowMatching, batch: int, solver: str, steps: int, repeats: int) -> tuple[float, float]:
    """Median (wall ms/shower, CPU ms/shower) of ``decode`` for one batch of ``batch`` showers."""
    conditions = torch.exp(torch.rand(batch, model.n_conditions) * 4.6) * 1e3
    noise = model.sample_noise(batch, generator=torch.Generator().manual_seed(0))
    walls, cpus = [], []
    with torch.inference_mode():
        model.decode(conditions[:8], noise[:8], solver=solver, n_steps=steps)  # type: ignore[arg-type]  # warm-up
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            model.decode(conditions, noise, solver=solver, n_steps=steps)  # type: ignore[arg-type]
            walls.append((time.perf_counter() - t0) * 1e3 / batch)
            cpus.append((time.process_time() - c0) * 1e3 / batch)
    return statistics.median(walls), statistics.median(cpus)


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark and prints one line per (batch size, sampler); ``--json`` also writes them."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint")
    p.add_argument("--config", default="configs/flow-matching-calochallenge-2.yaml")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[100, 10_000])
    p.add_argument("--samplers", nargs="+", default=["euler:1", "euler:2", "euler:4", "midpoint:8", "midpoint:16"])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", help="also write the results to this JSON file")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = _model(args)
    rows = []
    sys.stdout.write(f"{'batch':>6} {'sampler':>12} {'evals/stage':>11} {'wall ms/shower':>15} {'cpu ms/shower':>14}\n")
    for batch in args.batch_sizes:
        for sampler in args.samplers:
            solver, steps = parse_sampler(sampler)
            evals = steps * SOLVERS.get(solver).n_stages
            wall, cpu = bench(model, batch, solver, steps, args.repeats)
            rows.append(
                {
                    "batch": batch,
                    "solver": solver,
                    "steps": steps,
                    "evaluations": evals,
                    "wall_ms_per_shower": wall,
                    "cpu_ms_per_shower": cpu,
                    "threads": args.threads,
                }
            )
            sys.stdout.write(f"{batch:>6} {sampler:>12} {evals:>11} {wall:>15.3f} {cpu:>14.3f}\n")
            sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Sampling speed of the CaloFlow teacher (MAF, one pass per voxel) vs the distilled student (IAF).

Builds ``caloflow`` (or ``icaloflow``) from a run config's model section or the smoke config,
fits its preprocessing on built-in simulated showers, gives the student one distillation step (so
``decode`` really uses it) and times ``model.sample`` per batch size for teacher and student,
reporting ms/shower. Weights are untrained: sampling cost does not depend on the weights. A
teacher measurement whose linear estimate from the previous batch size (if that was >= 100)
exceeds ``--budget`` seconds is skipped and reported as an estimate.

    OMP_NUM_THREADS=1 python benchmarks/bench_flows.py --config configs/caloflow-calochallenge-1-photons.yaml
    OMP_NUM_THREADS=1 python benchmarks/bench_flows.py --model icaloflow --geometry calochallenge-2 --out b.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from typing import Any

import numpy as np
import torch

from caloforge.config import load_config_file
from caloforge.geometry import get_geometry
from caloforge.models import ShowerBatch, build_model
from caloforge.models.flows.base import TwoStageFlow


def _synthetic(n_voxels: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Sparse positive showers (preprocessing statistics only; sampling cost ignores the values)."""
    rng = np.random.default_rng(1)
    energies = np.exp(rng.uniform(np.log(1e3), np.log(1e5), n)).astype(np.float32)
    showers = rng.gamma(0.5, 1.0, (n, n_voxels)) * (rng.random((n, n_voxels)) > 0.5)
    showers = showers / showers.sum(1, keepdims=True) * energies[:, None]
    return torch.from_numpy(showers.astype(np.float32)), torch.from_numpy(energies[:, None])


def _build(args: argparse.Namespace) -> tuple[str, TwoStageFlow]:
    if args.config:
        spec = load_config_file(args.config)
        name, config, geometry = spec["model"]["name"], spec["model"]["config"], spec["data"]["geometry"]
    else:
        name, geometry = args.model, args.geometry
        config = build_model(name, get_geometry(geometry)).smoke_config()
    model = build_model(name, get_geometry(geometry), config)
    assert isinstance(model, TwoStageFlow)
    showers, conditions = _synthetic(get_geometry(geometry).n_voxels, 256)
    model.fit_preprocessing(showers, conditions)
    model.train()
    model.loss(ShowerBatch(showers[:8], conditions[:8]), "student").loss.backward()
    model.zero_grad(set_to_none=True)
    return name, model.eval()


def _time(model: TwoStageFlow, batch: int, repeats: int) -> float:
    conditions = torch.full((batch, 1), 10_000.0)
    model.sample(conditions[: min(batch, 2)])  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model.sample(conditions)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="run config whose model section is benchmarked")
    parser.add_argument("--model", default="caloflow", choices=["caloflow", "icaloflow"])
    parser.add_argument("--geometry", default="calochallenge-1-photons")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 100, 10_000])
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per point (best is kept)")
    parser.add_argument("--budget", type=float, default=120.0, help="skip teacher points estimated above this, s")
    parser.add_argument("--out", help="write the results as JSON")
    args = parser.parse_args()
    torch.manual_seed(0)
    name, model = _build(args)
    rows: list[dict[str, Any]] = []
    for flow in ("student", "teacher"):
        model.sample_with = flow  # type: ignore[assignment]
        previous: tuple[int, float] | None = None
        for batch in args.batches:
            # linear extrapolation only from batches large enough to be compute-bound
            estimate = previous[1] / previous[0] * batch if previous and previous[0] >= 100 else 0.0
            if estimate > args.budget:
                rows.append(
                    {
                        "flow": flow,
                        "batch": batch,
                        "ms_per_shower": None,
                        "estimated_ms_per_shower": 1e3 * estimate / batch,
                    }
                )
                continue
            seconds = _time(model, batch, args.repeats if estimate * args.repeats < args.budget else 1)
            previous = (batch, seconds)
            rows.append({"flow": flow, "batch": batch, "ms_per_shower": 1e3 * seconds / batch})
    print(
        f"{name} on {model.geometry.name} ({model.geometry.n_voxels} voxels), "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}"
    )
    print("| flow | batch | ms/shower |\n|---|---:|---:|")
    for r in rows:
        value = (
            f"{r['ms_per_shower']:.3f}"
            if r["ms_per_shower"] is not None
            else f"~{r['estimated_ms_per_shower']:.1f} (est.)"
        )
        print(f"| {r['flow']} | {r['batch']} | {value} |")
    for batch in args.batches:
        s = next(r for r in rows if r["flow"] == "student" and r["batch"] == batch)
        t = next(r for r in rows if r["flow"] == "teacher" and r["batch"] == batch)
        teacher = t["ms_per_shower"] or t.get("estimated_ms_per_shower")
        if s["ms_per_shower"] and teacher:
            print(f"batch {batch}: student {teacher / s['ms_per_shower']:.0f}x faster than teacher")
    if args.out:
        meta = {
            "threads": torch.get_num_threads(),
            "omp": os.environ.get("OMP_NUM_THREADS"),
            "torch": torch.__version__,
        }
        with open(args.out, "w") as f:
            json.dump({"meta": meta, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()

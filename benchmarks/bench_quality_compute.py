"""Quality per CPU-hour: classifier AUC and separation power of a training run's checkpoints against its CPU time.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_quality_compute.py --reference dev.h5 --out quality-compute \
        --run fm=runs/fm[:euler:1] --run vae=runs/vae [--every 2] [--repeats 3] [--threads 2]

For every ``--run LABEL=RUN_DIR`` it takes the step checkpoints kept in ``RUN_DIR/checkpoints``
(``step-*.pt`` and ``last.pt``; train with ``train.keep_checkpoints`` large enough to keep the curve),
reads the CPU seconds each one had used (``cpu_s``, kept by the trainer's metrics logger across
resumed sessions), generates showers for the incident energies of ``--reference`` with its EMA
weights (an optional ``:SOLVER:STEPS`` sampler for flow matching), and evaluates them all in one
``caloforge evaluate`` run (fast classifier on voxels and high-level features, repeated ``--repeats``
times; histogram separation powers). It prints one line per checkpoint and writes ``curve.json``
and ``curve.png`` (AUC and mean separation power against CPU-hours, one line per run) into ``--out``.

The reference must be showers that no run trained on; use a development split for choices and
keep the final test split for one last measurement.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import torch
from quality_runs import classifier_pair, generate_for

from caloforge.data import read_showers
from caloforge.evaluation import EvaluationConfig, evaluate
from caloforge.models import load_model
from caloforge.models.diffusion import FlowMatching, with_sampler
from caloforge.models.serialization import load_state
from caloforge.solvers import parse_sampler

__all__ = ["main"]


def _checkpoints(run_dir: Path, every: int) -> list[Path]:
    """Step checkpoints in step order (every ``every``-th), then ``last.pt`` if it is newer."""
    found = sorted(
        (run_dir / "checkpoints").glob("step-*.pt"), key=lambda p: int(re.sub(r"\D", "", p.stem) or 0)
    )
    chosen = found[every - 1 :: every] if every > 1 else found
    last = run_dir / "checkpoints" / "last.pt"
    if last.is_file() and (not found or _step_and_cpu(last)[0] > _step_and_cpu(found[-1])[0]):
        chosen.append(last)
    return chosen


def _step_and_cpu(path: Path, state: dict[str, Any] | None = None) -> tuple[int, float]:
    """Training step and CPU seconds recorded in a training checkpoint (``state``: it, already read)."""
    state = load_state(path) if state is None else state
    cpu = float(state.get("callbacks", {}).get("MetricLogger", {}).get("cpu_s", float("nan")))
    return int(state["counters"]["step"]), cpu


def _plot(rows: list[dict[str, object]], path: Path) -> None:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for label in dict.fromkeys(str(r["run"]) for r in rows):
        mine = [r for r in rows if r["run"] == label]
        hours = [float(r["cpu_hours"]) for r in mine]  # type: ignore[arg-type]
        axes[0].plot(hours, [r["voxel_auc"] for r in mine], "o-", label=f"{label} voxels")
        axes[0].plot(hours, [r["high_level_auc"] for r in mine], "s--", label=f"{label} high-level")
        axes[1].plot(hours, [r["separation_power_mean"] for r in mine], "o-", label=label)
    axes[0].set(xlabel="training CPU hours", ylabel="classifier AUC", ylim=(0.5, 1.0))
    axes[1].set(xlabel="training CPU hours", ylabel="mean separation power", yscale="log")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Generates from every checkpoint, evaluates, prints the table and writes the curve."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reference", required=True, help="held-out showers (never trained on)")
    p.add_argument("--out", required=True)
    p.add_argument("--run", action="append", required=True, metavar="LABEL=RUN_DIR[:SOLVER:STEPS]")
    p.add_argument("--every", type=int, default=1, help="use every k-th step checkpoint")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    conditions = torch.as_tensor(read_showers(args.reference).conditions())
    files: dict[str, Path] = {}
    meta: dict[str, dict[str, object]] = {}
    for item in args.run:
        label, _, rest = item.partition("=")
        run_dir, _, sampler = rest.partition(":")
        for ckpt in _checkpoints(Path(run_dir), args.every):
            state = load_state(ckpt)  # read once: step, CPU time and the model
            step, cpu = _step_and_cpu(ckpt, state)
            model = load_model(state)
            if sampler and isinstance(model, FlowMatching):
                model = with_sampler(model, *parse_sampler(sampler))
            key = f"{label}@{step}"
            files[key] = out / f"{label}-{step}.h5"
            generate_for(model, conditions, files[key], args.seed)
            meta[key] = {"run": label, "step": step, "cpu_hours": cpu / 3600, "checkpoint": str(ckpt)}
    config = EvaluationConfig(classifier_inputs=("low", "high"), classifier_repeats=args.repeats,
                              plots=False, baseline=False, distances="none")
    report = evaluate(args.reference, {k: str(v) for k, v in files.items()}, out / "evaluation", config, force=True)
    rows: list[dict[str, object]] = []
    sys.stdout.write(f"{'checkpoint':>24} {'CPU h':>6} {'voxel AUC':>15} {'high-level AUC':>15} {'mean SP':>7}\n")
    for key, g in report.generated.items():
        low, high = classifier_pair(key, g)
        row = {**meta[key], "voxel_auc": low.auc, "voxel_auc_std": low.auc_std, "high_level_auc": high.auc,
               "high_level_auc_std": high.auc_std, "separation_power_mean": g.summary.separation_power_mean}
        rows.append(row)
        sys.stdout.write(
            f"{key:>24} {float(meta[key]['cpu_hours']):6.2f} {low.auc:.3f} ± {low.auc_std:.3f}   "  # type: ignore[arg-type]
            f"{high.auc:.3f} ± {high.auc_std:.3f} {g.summary.separation_power_mean:7.3f}\n"
        )
    (out / "curve.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    _plot(rows, out / "curve.png")
    sys.stdout.write(f"curve: {out / 'curve.png'}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

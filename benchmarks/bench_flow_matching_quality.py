"""Quality and cost of flow-matching samplers vs number of steps, side by side with other models, in one report.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_flow_matching_quality.py --reference heldout.h5 --out fm-steps \
        --teacher runs/fm/checkpoints/last.pt --samplers midpoint:16 midpoint:4 euler:4 euler:2 euler:1 \
        [--student reflow=student.pt:euler:1,euler:2,euler:4] [--student distil1=distil1.pt] \
        [--generated vae=vae.h5 --generated wgan=wgan.h5] [--repeats 5] [--threads 2]

For the teacher with every ``--samplers`` entry, and for every ``--student NAME=PATH[:SAMPLER,...]`` (its own
sampler when none is listed), it generates showers for the incident energies of ``--reference`` and times
the generation (wall ms/shower, batch 1,000). Files given with ``--generated`` (other models) join them.
One ``caloforge evaluate`` run then compares everything with the reference — the voxel and high-level
classifier tests repeated ``--repeats`` times on re-drawn splits (mean ± std) and the histogram
separation powers — and the script prints one line per sample: network evaluations per shower,
ms/shower, voxel AUC, high-level AUC, mean separation power. ``--out`` gets the generated files and
the evaluation (metrics.json, report.html). Keep the reference out of the training data.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from quality_runs import classifier_pair, generate_for

from caloforge.data import read_showers
from caloforge.evaluation import EvaluationConfig, evaluate
from caloforge.models import load_model
from caloforge.models.diffusion import FlowMatching, with_sampler
from caloforge.solvers import build_solver, parse_sampler

__all__ = ["main"]


def _jobs(args: argparse.Namespace) -> list[tuple[str, Path, str | None]]:
    """(label, model file, sampler or None for the model's own) for every sample to generate."""
    jobs: list[tuple[str, Path, str | None]] = [
        (f"teacher_{s.replace(':', '')}", Path(args.teacher), s) for s in args.samplers
    ] if args.teacher else []
    for item in args.student:
        name, _, rest = item.partition("=")
        path, _, samplers = rest.partition(":")
        if not samplers:
            jobs.append((name, Path(path), None))
        for s in filter(None, samplers.split(",")):
            jobs.append((f"{name}_{s.replace(':', '')}", Path(path), s))
    return jobs


def main(argv: list[str] | None = None) -> int:
    """Generates, evaluates and prints the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reference", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--teacher", help="flow-matching checkpoint, sampled with every --samplers entry")
    p.add_argument("--samplers", nargs="*", default=["midpoint:16", "midpoint:4", "euler:4", "euler:2", "euler:1"])
    p.add_argument("--student", action="append", default=[], metavar="NAME=PATH[:SOLVER:STEPS,...]")
    p.add_argument("--generated", action="append", default=[], metavar="NAME=PATH", help="other models' files")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    reference = read_showers(args.reference)
    conditions = torch.as_tensor(reference.conditions())
    files: dict[str, Path] = {}
    cost: dict[str, tuple[int, float]] = {}
    for label, path, sampler in _jobs(args):
        model = load_model(path)
        if not isinstance(model, FlowMatching):
            msg = f"{path} holds a {type(model).__name__}, not a flow-matching model"
            raise SystemExit(msg)
        if sampler is not None:
            model = with_sampler(model, *parse_sampler(sampler))
        files[label] = out / f"{label}.h5"
        ms = generate_for(model.eval(), conditions, files[label], args.seed)
        evals = model.config.n_steps * build_solver(model.config.solver).n_stages
        cost[label] = (evals, ms)
        sys.stdout.write(f"generated {label}: {evals} evaluations/stage, {ms:.2f} ms/shower\n")
    for item in args.generated:
        name, _, path = item.partition("=")
        files[name] = Path(path)
    config = EvaluationConfig(classifier_inputs=("low", "high"), classifier_repeats=args.repeats, plots=True)
    report = evaluate(args.reference, {k: str(v) for k, v in files.items()}, out / "evaluation", config, force=True)
    sys.stdout.write(f"{'sample':>22} {'evals':>5} {'ms/shower':>9} {'voxel AUC':>15} {'high-level AUC':>15} {'mean SP':>7}\n")
    for label, g in report.generated.items():
        low, high = classifier_pair(label, g)
        sp = g.summary.separation_power_mean
        evals, ms = cost.get(label, (0, float("nan")))
        sys.stdout.write(
            f"{label:>22} {evals or '-':>5} {ms:9.2f} {low.auc:.3f} ± {low.auc_std:.3f}   "
            f"{high.auc:.3f} ± {high.auc_std:.3f} {sp:7.3f}\n"
        )
    sys.stdout.write(f"report: {out / 'evaluation' / 'report.html'}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

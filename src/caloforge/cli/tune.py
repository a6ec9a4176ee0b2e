"""``caloforge tune --config tune.yaml``: a hyper-parameter study on Optuna (the ``tune`` extra)."""

from __future__ import annotations

import argparse
import sys

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``tune`` subcommand."""
    p = subparsers.add_parser(
        "tune",
        help="hyper-parameter study of a run config (Optuna)",
        description="Search hyper-parameters of a run config with Optuna (TPE sampler, median or Hyperband pruning "
        "on one intermediate value per epoch). Writes one run directory per trial (OUT/trial-N/), OUT/best.yaml "
        "(the best trial's run config, for caloforge train --config), OUT/report.html and OUT/study.json. The study "
        "lives in SQLite (OUT/study.db by default): running the same command again continues it, and several "
        "processes may share it. See docs/tuning.md.",
    )
    p.add_argument("config_file", nargs="?", metavar="CONFIG", help="YAML tune config")
    p.add_argument("--config", dest="config_opt", metavar="FILE", help="YAML tune config (same as CONFIG)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a tune-config value, e.g. --set n_trials=5 (repeatable)")
    p.add_argument("--out", help="output directory (sets out)")
    p.add_argument("--n-trials", type=int, help="finished trials wanted in the study in total (sets n_trials)")
    p.add_argument("--storage", help="Optuna storage URL (default sqlite:///OUT/study.db)")
    p.add_argument("--baseline", action="store_true",
                   help="also train and score the base config itself, same budget (OUT/baseline/, OUT/baseline.json)")
    p.add_argument("--worker", type=int, default=0, metavar="K",
                   help="index of this process among several sharing the storage (shifts the sampler seed)")
    p.add_argument("--force", action="store_true",
                   help="start afresh over a study or outputs of another config, replacing them")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Runs the study; prints the best trial and the output files; returns 0."""
    from caloforge.tuning import load_tune_config, tune

    path = args.config_opt or args.config_file
    if path is None:
        msg = "give a tune config (CONFIG or --config FILE)"
        raise ValueError(msg)
    flags = {"out": args.out, "n_trials": args.n_trials, "storage": args.storage}
    overrides = [f"{k}={v}" for k, v in flags.items() if v is not None] + list(args.overrides)
    config = load_tune_config(path, overrides)
    result = tune(config, force=args.force, baseline=args.baseline, worker=args.worker)
    best = "-" if result.best_value is None else f"trial {result.best_number}: {result.best_value:.5g}"
    lines = [f"trials      {result.n_finished} finished", f"best        {best}"]
    lines += [f"  {key} = {value}" for key, value in result.best_params.items()]
    if result.baseline is not None:
        lines.append(f"baseline    {result.baseline.score:.5g} (base config, same budget)")
    if result.best_value is not None:
        lines.append(f"best.yaml   {result.out / 'best.yaml'}")
    lines.append(f"report      {result.out / 'report.html'}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0

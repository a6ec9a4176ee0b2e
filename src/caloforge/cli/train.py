"""``caloforge train CONFIG``: train a model from a YAML run config (with overrides)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from caloforge.training import RunConfig

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``train`` subcommand."""
    p = subparsers.add_parser(
        "train",
        help="train a model from a run config",
        description="Train a model. Every config value can be overridden with --set section.key=value; "
        "the resolved config is saved as config.yaml in the run directory. --resume RUN/checkpoints/last.pt "
        "continues in RUN (with RUN/config.yaml when no CONFIG is given); --dry-run writes to OUT/dry-run/ and "
        "simulates a few showers when the data file is missing. Multi-process: "
        "torchrun --nproc-per-node N -m caloforge train ...",
    )
    p.add_argument("config_file", nargs="?", metavar="CONFIG", help="YAML run config")
    p.add_argument("--config", dest="config_opt", metavar="FILE", help="YAML run config (same as CONFIG)")
    p.add_argument("--model", help="model name (when no config file gives one)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set train.max_steps=100 (repeatable)",
    )
    p.add_argument("--data", help="training file (sets data.path)")
    p.add_argument("--geometry", help="geometry name (sets data.geometry)")
    p.add_argument("--out", help="run directory (sets out)")
    p.add_argument("--resume", metavar="CKPT",
                   help="continue from a training checkpoint, in its run directory (RUN for RUN/checkpoints/last.pt)")
    p.add_argument("--force", action="store_true", help="replace a training run already in the run directory")
    p.add_argument("--dry-run", action="store_true", help="smoke run: the model's smoke config, 2 steps on 128 showers (simulated when the data file "
                   "is missing), written to OUT/dry-run/")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], help="sets train.device")
    p.add_argument("--seed", type=int, help="sets train.seed")
    p.add_argument("--seeds", type=int, nargs="+", metavar="S",
                   help="train an ensemble: one run per seed, each a normal run directory OUT/seed-S "
                   "(OUT/ensemble.json lists them); evaluate them with caloforge evaluate --ensemble")
    p.add_argument("--max-steps", type=int, help="sets train.max_steps")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (sets train.progress=false)")
    p.set_defaults(func=run)


def _explicit_out(args: argparse.Namespace) -> str | None:
    """The run directory given on the command line (``--out`` or ``--set out=...``), if any."""
    sets = [o.split("=", 1)[1] for o in args.overrides if o.split("=", 1)[0].strip() == "out" and "=" in o]
    return sets[-1] if sets else (None if args.out is None else str(args.out))


def _resume_defaults(args: argparse.Namespace, path: str | None) -> tuple[str | None, list[str]]:
    """``--resume RUN/checkpoints/X.pt``: the config (``RUN/config.yaml`` when none is given) and ``out=RUN``."""
    from caloforge.training import resume_run_directory

    run_dir = resume_run_directory(args.resume)
    if run_dir is None:
        return path, []
    if path is None and args.model is None and (run_dir / "config.yaml").is_file():
        path = str(run_dir / "config.yaml")
    return path, [] if _explicit_out(args) is not None else [f"out={run_dir}"]


def _overrides(args: argparse.Namespace) -> list[str]:
    flags = {
        "data.path": args.data,
        "data.geometry": args.geometry,
        "out": args.out,
        "train.device": args.device,
        "train.seed": args.seed,
        "train.max_steps": args.max_steps,
        "train.progress": False if args.no_progress else None,
    }
    out = [f"{key}={value}" for key, value in flags.items() if value is not None]
    if args.data is not None:
        out.append("data.simulate=null")
    return out + list(args.overrides)


def _run_ensemble(args: argparse.Namespace, config: RunConfig) -> int:
    """``--seeds``: trains one member per seed; prints one line per member."""
    from caloforge.training import train_ensemble

    if args.seed is not None or args.resume is not None:
        msg = "--seeds trains new runs, one per seed: it cannot be combined with --seed or --resume"
        raise ValueError(msg)
    results = train_ensemble(config, args.seeds, dry_run=args.dry_run, force=args.force)
    lines = []
    for seed, result in zip(args.seeds, results, strict=True):
        val = result.val_metrics.get("val/loss")
        loss = f"{val:.5g}" if val is not None else "-"
        lines.append(f"seed {seed}: {result.steps} steps, val loss {loss}, checkpoint {result.checkpoint}")
    lines.append(f"ensemble    {config.out}/ensemble.json ({len(results)} members)")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def run(args: argparse.Namespace) -> int:
    """Trains; prints the checkpoint path and throughput; returns 0."""
    from caloforge.training import load_run_config, train_run

    path = args.config_opt or args.config_file
    resumed: list[str] = []
    if args.resume is not None:
        path, resumed = _resume_defaults(args, path)
    if path is None and args.model is None:
        msg = "give a run config (CONFIG or --config FILE) or at least --model NAME"
        raise ValueError(msg)
    config = load_run_config(path, resumed + _overrides(args), model={"name": args.model} if args.model else None)
    if args.seeds is not None:
        return _run_ensemble(args, config)
    result = train_run(config, resume=args.resume, dry_run=args.dry_run, force=args.force)
    val = result.val_metrics.get("val/loss")
    lines = [
        f"steps       {result.steps} ({result.epochs} epochs)",
        f"throughput  {result.showers_per_second:.0f} showers/s",
        f"val loss    {val:.5g}" if val is not None else "val loss    -",
        f"checkpoint  {result.checkpoint}",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0

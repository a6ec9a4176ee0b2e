"""``caloforge reflow``: distil a flow-matching checkpoint into a few-step sampler (or change its sampler)."""

from __future__ import annotations

import argparse
import sys

from caloforge.cli.options import add_event_range

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``reflow`` subcommand."""
    p = subparsers.add_parser(
        "reflow",
        help="distil a flow-matching model into a few-step sampler",
        description="Fine-tune a copy of a flow-matching model on its own (noise, many-step sample) pairs "
        "(reflow, arXiv:2209.03003) so that it samples in 1-4 Euler steps, and save it as a model file "
        "that `caloforge generate` reads. With --train-steps 0 (and no --distill-steps) only the solver and step "
        "count change. The student trains in the same loop as `caloforge train` (checkpoints with --out, "
        "--resume, EMA, data parallelism under torchrun).",
    )
    p.add_argument("--checkpoint", required=True, help="teacher: training checkpoint or saved model (.pt)")
    p.add_argument("--data", required=True, help="CaloChallenge file whose energies (and angles) condition the pairs")
    add_event_range(p)
    p.add_argument("-o", "--output", required=True, help="student model file (.pt)")
    p.add_argument("--solver", default="euler", help="student solver, a name from caloforge.solvers (default euler)")
    p.add_argument("--steps", type=int, default=2, help="student steps (default 2)")
    p.add_argument("--teacher-solver", default="midpoint", help="teacher solver (default midpoint)")
    p.add_argument("--teacher-steps", type=int, default=16, help="teacher steps per pair (default 16)")
    p.add_argument("--pairs", type=int, default=4096, help="number of teacher pairs (default 4096)")
    p.add_argument("--train-steps", type=int, default=1000, help="student optimizer steps (0: sampler only)")
    p.add_argument(
        "--distill-steps",
        type=int,
        default=0,
        help="then train the student's own few-step solve onto the teacher's end points for this many steps (default 0)",
    )
    p.add_argument("--batch-size", type=int, default=128, help="pairs per optimizer step (default 128)")
    p.add_argument("--lr", type=float, default=2e-4, help="student learning rate (default 2e-4)")
    p.add_argument("--ema-decay", type=float, help="keep an EMA of the student's weights and save it (default: off)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--no-ema", action="store_true", help="start from the teacher's raw weights instead of its EMA weights"
    )
    p.add_argument(
        "--out",
        help="run directory for the trainer's checkpoints/ and metrics.jsonl (default: none, nothing but --output "
        "is written); checkpoints/last.pt loads as the student and resumes an interrupted run",
    )
    p.add_argument(
        "--resume",
        help="continue an interrupted run from this checkpoint in --out (same teacher, data and flags: "
        "the student comes out bit-identical to an uninterrupted run on the same device)",
    )
    p.add_argument(
        "--checkpoint-every", type=int, default=1000, help="with --out, write a checkpoint every N steps (default 1000)"
    )
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="device (default auto)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file and an earlier run in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Builds the reflow config, runs it and saves the student; returns 0."""
    from caloforge.training import ReflowConfig, reflow_checkpoint

    config = ReflowConfig(
        n_pairs=args.pairs,
        teacher_solver=args.teacher_solver,
        teacher_steps=args.teacher_steps,
        student_solver=args.solver,
        student_steps=args.steps,
        train_steps=args.train_steps,
        distill_steps=args.distill_steps,
        batch_size=args.batch_size,
        lr=args.lr,
        ema_decay=args.ema_decay,
        seed=args.seed,
        checkpoint_every=args.checkpoint_every,
        device=args.device,
        progress=not args.no_progress,
    )
    reflow_checkpoint(
        args.checkpoint,
        args.data,
        args.output,
        config,
        start=args.start,
        stop=args.stop,
        use_ema=not args.no_ema,
        overwrite=args.force,
        out_dir=args.out,
        resume=args.resume,
    )
    sys.stdout.write(f"wrote the {args.solver} {args.steps}-step student to {args.output}\n")
    return 0

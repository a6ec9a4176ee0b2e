"""``caloforge generate``: showers from a checkpoint into a CaloChallenge file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from caloforge.cli.options import add_compression_argument, add_energies_argument, compression
from caloforge.cli.zoo import add_pretrained_option, use_pretrained

if TYPE_CHECKING:
    from caloforge.data import Conditions

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``generate`` subcommand."""
    p = subparsers.add_parser(
        "generate",
        help="generate showers from a trained model",
        description="Generate showers for sampled energies (--energies SPEC --n N) or for the energies "
        "(and angles) of a reference file (--like REF.h5), written in the CaloChallenge format.",
    )
    model_source = p.add_mutually_exclusive_group(required=True)
    model_source.add_argument("--checkpoint", help="training checkpoint or saved model (.pt)")
    model_source.add_argument("--model", metavar="MODEL.onnx", help="exported model, run by ONNX Runtime (no torch)")
    add_pretrained_option(model_source)
    source = p.add_mutually_exclusive_group(required=True)
    add_energies_argument(source, help_text="incident energies in GeV, e.g. log-uniform:1:100")
    source.add_argument("--like", metavar="REF.h5", help="reproduce this file's incident energies (and angles)")
    p.add_argument("--n", type=int, help="number of showers (required with --energies; a subset with --like)")
    p.add_argument("--angle", metavar="SPEC", help="incidence angles of angle-conditioned models: θ from the layer "
                   "normal in degrees, [0, 90): fixed (30), uniform range (0:40) or equally likely values (0,20,40); "
                   "with --like it replaces the reference's angles (default: the reference's, if it has any)")
    p.add_argument("-o", "--output", required=True, help="output HDF5 file")
    p.add_argument("--batch-size", type=int, default=10_000, help="showers per forward pass (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="default: auto")
    p.add_argument("--threshold", type=float, default=0.0, help="zero voxels below this energy, MeV")
    p.add_argument("--no-ema", action="store_true", help="use the raw weights instead of the EMA weights")
    p.add_argument(
        "--sampler",
        metavar="SOLVER:STEPS",
        help="ODE solver and number of steps of a flow-matching model, e.g. euler:4 or midpoint:16 "
        "(default: the model's own, or a pretrained model's default sampler)",
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    add_compression_argument(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--workers",
        type=int,
        help="generate in shards on a local Dask cluster of N processes "
        "(the file depends on --seed and --shard-size only; needs caloforge[dask])",
    )
    p.add_argument(
        "--dask-scheduler",
        metavar="ADDRESS",
        help="generate in shards on a running Dask cluster "
        "(tcp://host:8786 or a scheduler file), e.g. SLURM/HTCondor via dask-jobqueue",
    )
    p.add_argument("--shard-size", type=int, default=10_000, help="showers per shard with --workers/--dask-scheduler")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generates; prints the count and speed; returns 0."""
    from caloforge.data import Conditions, produce_to_file

    if args.energies is not None and args.n is None:
        msg = "--energies needs --n (the number of showers)"
        raise ValueError(msg)
    in_shards = args.workers is not None or args.dask_scheduler is not None
    # built once, passed down unchanged
    if args.like is not None:
        conditions = Conditions.from_file(args.like, args.n)
    else:
        conditions = Conditions.from_spec(args.energies, args.n, args.seed)
    if args.angle is not None:
        conditions = _with_angle_spec(conditions, args.angle, args.seed)
    if args.model is not None:  # ONNX Runtime path: works on an install without PyTorch
        from caloforge.export.runtime import OnnxProducer

        onnx_run = produce_to_file(
            OnnxProducer(args.model, batch_size=args.batch_size), conditions, args.output, seed=args.seed,
            overwrite=args.force, progress=not args.no_progress, compression=compression(args),
        )
        sys.stdout.write(f"wrote {onnx_run.n} showers to {args.output} ({onnx_run.ms_per_shower:.4g} ms/shower)\n")
        return 0
    from caloforge.sampling import ModelProducer

    pretrained = use_pretrained(args)  # verified weights file → args.checkpoint
    if pretrained is not None and pretrained.sampler is not None and args.sampler is None and not in_shards:
        args.sampler = pretrained.sampler.spec  # sharded runs use the same sampler, stored in the weights
    if args.sampler is not None and in_shards:
        msg = "--sampler works in a single process; save a model with that sampler (caloforge reflow --train-steps 0) to shard it"
        raise ValueError(msg)
    attrs = {"checkpoint": str(args.checkpoint)}
    if pretrained is not None:
        attrs = {"pretrained": pretrained.name, "pretrained_sha256": pretrained.sha256}
    if args.sampler is not None:
        attrs["sampler"] = args.sampler
    producer = ModelProducer(
        args.checkpoint, batch_size=args.batch_size, device=args.device, threshold=args.threshold,
        use_ema=not args.no_ema, sampler=args.sampler, threads=1 if (args.workers or 0) > 1 or args.dask_scheduler else None,
    )
    if in_shards:
        from caloforge.distributed import cluster, produce_sharded

        if pretrained is None:
            attrs = {"checkpoint": Path(args.checkpoint).name}
        with cluster(args.workers or 1, args.dask_scheduler) as client:
            sharded = produce_sharded(
                producer, conditions, args.output, seed=args.seed, shard_size=args.shard_size, client=client,
                overwrite=args.force, progress=not args.no_progress, attrs=attrs, compression=compression(args),
            )
        sys.stdout.write(f"wrote {sharded.n} showers in {sharded.n_shards} shards to {args.output}\n")
        return 0
    result = produce_to_file(
        producer, conditions, args.output, seed=args.seed, overwrite=args.force, progress=not args.no_progress,
        attrs=attrs, compression=compression(args),
    )
    sys.stdout.write(f"wrote {result.n} showers to {args.output} ({result.ms_per_shower:.4g} ms/shower incl. writing)\n")
    return 0


def _with_angle_spec(conditions: Conditions, text: str, seed: int) -> Conditions:
    """The conditions with polar angles (rad) drawn from the ``--angle`` spec (degrees) on a stream of their own."""
    import dataclasses

    import numpy as np

    from caloforge.simulate.angle_spec import parse_angle_spec

    spec = parse_angle_spec(text)
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[2])  # the energies stay as without --angle
    return dataclasses.replace(conditions, angles=spec.sample(len(conditions), rng))

"""``caloforge calibrate``: fit the occupancy cuts of a flow-matching model on its training showers."""

from __future__ import annotations

import argparse
import sys

from caloforge.cli.options import add_event_range

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``calibrate`` subcommand."""
    p = subparsers.add_parser(
        "calibrate",
        help="fit per-voxel occupancy cuts of a flow-matching model on training showers",
        description="Generate showers for the energies of the training showers and, per incident-energy bin and "
        "voxel, fit the cut above which a generated voxel is populated as often as the training voxel is; save the "
        "model with the cuts as a model file that `caloforge generate`, `export` and `bench` read. Use the "
        "training showers (never the held-out ones) and the sampler the model will be used with.",
    )
    p.add_argument("--checkpoint", required=True, help="flow-matching training checkpoint or saved model (.pt)")
    p.add_argument("--data", required=True, help="the training showers (CaloChallenge or Par04 file)")
    add_event_range(p)
    p.add_argument("-o", "--output", required=True, help="calibrated model file (.pt)")
    p.add_argument("--bins", type=int, default=5, help="incident-energy bins, equal in log E (default 5)")
    p.add_argument("--repeats", type=int, default=1, help="generated showers per training shower (default 1)")
    p.add_argument("--sampler", metavar="SOLVER:STEPS", help="calibrate (and save) with this sampler")
    p.add_argument("--batch-size", type=int, default=1000, help="showers per forward pass (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Loads the model and the showers, calibrates, saves; returns 0 (2 for a model that is not flow matching)."""
    import torch

    from caloforge.atomic import prepare_target
    from caloforge.data import read_showers
    from caloforge.models import load_model, save_model
    from caloforge.models.diffusion import FlowMatching, calibrate_occupancy, with_sampler
    from caloforge.solvers import parse_sampler

    output = prepare_target(args.output, overwrite=args.force)  # refuses before the work, not after it
    model = load_model(args.checkpoint)
    if not isinstance(model, FlowMatching):
        sys.stderr.write(f"error: {args.checkpoint} holds a {type(model).__name__}; calibrate needs flow matching\n")
        return 2
    if args.sampler:
        model = with_sampler(model, *parse_sampler(args.sampler))
    data = read_showers(args.data, model.geometry, start=args.start, stop=args.stop)
    conditions = torch.as_tensor(data.conditions())[:, : model.n_conditions]
    calibrated = calibrate_occupancy(
        model, torch.as_tensor(data.showers), conditions, n_bins=args.bins, repeats=args.repeats,
        batch_size=args.batch_size, seed=args.seed,
    )
    save_model(calibrated, output)
    sys.stdout.write(
        f"calibrated occupancy cuts ({args.bins} energy bins, {len(data)} training showers) written to {output}\n"
    )
    return 0

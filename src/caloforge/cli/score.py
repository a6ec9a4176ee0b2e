"""``caloforge score --checkpoint CKPT FILE``: per-shower log-likelihoods under a flow model."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import cast

__all__ = ["register", "run"]

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``score`` subcommand."""
    p = subparsers.add_parser(
        "score",
        help="per-shower log-likelihoods of a shower file under a normalizing-flow checkpoint",
        description="Writes one log-likelihood (nats) per shower of FILE, for anomaly checks and reweighting.",
    )
    p.add_argument("file", help="CaloChallenge HDF5 shower file to score")
    p.add_argument("--checkpoint", required=True, help="model or training checkpoint (.pt) of a flow model")
    p.add_argument("-o", "--output", help="output .h5, .npy or .csv (default: FILE stem + '.loglik.h5')")
    p.add_argument("--batch-size", type=int, default=1000, help="showers per log_prob call (default 1000)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Scores the file; returns 0, or 2 if the checkpoint's model has no density."""
    from caloforge.models import load_model
    from caloforge.models.flows.score import DensityModel
    from caloforge.sampling.score import score_file

    output = Path(args.output) if args.output else Path(args.file).with_suffix(".loglik.h5")
    model = load_model(args.checkpoint)
    if not callable(getattr(model, "log_prob", None)):
        msg = f"{args.checkpoint}: model {type(model).__name__} has no log-likelihood (use a flow model)"
        raise ValueError(msg)  # noqa: TRY004  (exit code 2: bad input)
    density = cast("DensityModel", model)  # has log_prob, checked above
    score_file(density, args.file, output, batch_size=args.batch_size, force=args.force, progress=not args.no_progress)
    logger.info("wrote %s", output)
    return 0

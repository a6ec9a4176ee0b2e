"""``caloforge reweight``: classifier (DCTR) weights for generated showers, written into a copy of the file."""

from __future__ import annotations

import argparse
import sys

from caloforge.cli.options import add_compression_argument, add_event_range, compression

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``reweight`` subcommand."""
    p = subparsers.add_parser(
        "reweight",
        help="classifier reweighting: per-shower weights w = p/(1-p) that move generated showers onto the reference",
        description="Trains a classifier reference vs generated on the high-level features (with the incident "
        "energy and angle), calibrates it on a held-out part and writes a copy of the generated file (or of "
        "--apply) with a 'weights' dataset: w = p/(1-p), mean 1, clipped at --clip times the median. Rows "
        "--start:--stop of both files are used for the fit: keep the showers you evaluate on out of them.",
    )
    p.add_argument("--reference", required=True, help="reference (Geant4) HDF5 file")
    p.add_argument("--generated", required=True, help="generated HDF5 file made for the reference's conditions")
    p.add_argument("-o", "--output", required=True, help="the weighted copy to write")
    p.add_argument("--apply", metavar="FILE", help="weight and copy this file instead of --generated (e.g. "
                   "showers generated for held-out conditions)")
    add_event_range(p, "first row of both files used for the fit (default 0)",
                    "end of the rows used for the fit, exclusive (default: end of file)")
    p.add_argument("--clip", type=float, default=10.0,
                   help="largest weight in units of the median weight (default 10)")
    p.add_argument("--calibration", choices=("platt", "temperature", "isotonic"), default="platt",
                   help="calibration of the classifier on its held-out part (default platt)")
    p.add_argument("--epochs", type=int, default=30, help="training epochs at most (default 30, patience 5)")
    p.add_argument("--hidden", default="64,64", help="hidden layer widths (default 64,64)")
    p.add_argument("--batch-size", type=int, default=128, help="training batch size (default 128)")
    p.add_argument("--max-events", type=int, help="showers per file used for the fit at most (default all)")
    p.add_argument("--geometry", help="geometry name (default: stored in the files or guessed)")
    p.add_argument("--threshold", type=float, help="voxel threshold in MeV (default: the dataset's CaloChallenge value)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    add_compression_argument(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Fits the weights and writes the copy; prints a summary; returns 0."""
    from caloforge.evaluation.classifier import ClassifierConfig
    from caloforge.evaluation.reweight import ReweightConfig
    from caloforge.evaluation.reweight_files import reweight_file

    try:
        hidden = tuple(int(h) for h in args.hidden.split(",") if h.strip())
    except ValueError:
        msg = f"--hidden must be comma-separated integers, got {args.hidden!r}"
        raise ValueError(msg) from None
    if args.epochs < 1 or args.batch_size < 1 or not hidden or min(hidden) < 1:
        msg = "--epochs, --batch-size and the --hidden widths must be positive"
        raise ValueError(msg)
    if args.max_events is not None and args.max_events < 1:
        msg = f"--max-events must be positive, got {args.max_events}"
        raise ValueError(msg)
    classifier = ClassifierConfig(recipe="reweight", hidden=hidden, batch_size=args.batch_size, epochs=args.epochs,
                                  patience=5,
                                  max_events=args.max_events, seed=args.seed)
    config = ReweightConfig(classifier=classifier, calibration=args.calibration, clip=args.clip,
                            threshold=args.threshold, seed=args.seed)
    result = reweight_file(args.reference, args.generated, args.output, config, start=args.start, stop=args.stop,
                           apply=args.apply, geometry=args.geometry, overwrite=args.force,
                           progress=not args.no_progress, compression=compression(args))
    fit = result.fit
    lines = [
        (f"classifier: {fit.n_train} training, {fit.n_validation} validation, {fit.n_calibration} calibration showers; "
        f"best epoch {fit.best_epoch}"),
        f"validation AUC {fit.validation_auc:.4f} before, {fit.validation_auc_weighted:.4f} with the weights",
        (f"weights: {result.n_weighted} showers, ESS {result.ess:.0f} ({result.ess / result.n_weighted:.1%}), "
        f"min {result.weight_min:.3g}, max {result.weight_max:.3g}, {result.n_clipped} clipped at {args.clip:g} x median"),
    ]
    if result.training_rows_in_output:
        lines.append("warning: the output holds the showers the classifier was fitted on; evaluate on other showers")
    lines.append(f"written: {result.output}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0

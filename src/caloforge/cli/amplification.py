"""``caloforge amplification``: how many Geant4 showers a generated sample is worth (GANplification)."""

from __future__ import annotations

import argparse
import logging
import math
import sys
from typing import TYPE_CHECKING

from caloforge.cli.evaluate import parse_generated

if TYPE_CHECKING:
    from caloforge.evaluation.amplification import AmplificationResult
    from caloforge.evaluation.amplification_files import ShowerSource

__all__ = ["format_table", "parse_range", "register", "run"]

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``amplification`` subcommand."""
    p = subparsers.add_parser(
        "amplification",
        help="statistical amplification: the Geant4 sample size a generated sample is worth, per observable",
        description="Quantile-bins chosen observables on the truth reference, measures the MSE of the bin "
        "fractions of Geant4 samples of growing size (fit a/m + c) and of the generated samples, and prints "
        "the equivalent Geant4 size m* and the amplification m*/n with 68%% bootstrap intervals. Writes "
        "amplification.json and amplification.png into --out.",
    )
    p.add_argument("--truth", required=True, help="truth (Geant4) HDF5 file: the reference that defines the bins")
    p.add_argument("--truth-range", metavar="START:STOP", help="use only these truth showers (e.g. 8500:9500)")
    p.add_argument("--pool", help="truth showers for the Geant4 curve, independent of the reference "
                   "(default: split --pool-fraction of the truth off)")
    p.add_argument("--pool-range", metavar="START:STOP",
                   help="use only these pool showers (without --pool: these showers of the truth file)")
    p.add_argument("--pool-fraction", type=float, default=0.5, help="without --pool: truth fraction for the "
                   "Geant4 curve (default 0.5)")
    p.add_argument("--generated", required=True, action="append", metavar="[NAME=]PATH",
                   help="generated HDF5 file; repeat for several samples")
    p.add_argument("--train-size", required=True, type=int, metavar="N", help="Geant4 showers the model was trained on")
    p.add_argument("--observables", help="comma-separated observables, e.g. response,e_layer:8,ec_r:8,n_hits "
                   "(default: chosen around the shower maximum of the reference)")
    p.add_argument("--sizes", help="comma-separated sample sizes of the curves (default: log-spaced)")
    p.add_argument("--bins", type=int, default=10, help="quantile bins per observable (default 10)")
    p.add_argument("--repeats", type=int, default=20, help="random draws per sample size (default 20)")
    p.add_argument("--bootstrap", type=int, default=200, help="bootstrap replicas for the intervals (default 200)")
    p.add_argument("--geometry", help="geometry name (default: stored in the files or guessed)")
    p.add_argument("--threshold", type=float, help="voxel threshold in MeV (default: the dataset's CaloChallenge value)")
    p.add_argument("--chunk-size", type=int, default=5_000, help="showers read per chunk")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("-o", "--out", required=True, help="output folder")
    p.add_argument("--no-plot", action="store_true", help="write amplification.json only")
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.set_defaults(func=run)


def parse_range(text: str | None, what: str) -> tuple[int, int | None]:
    """``"8500:9500"`` → ``(8500, 9500)``; ``None`` or ``":"`` → ``(0, None)``.

    Raises:
        ValueError: On a malformed or empty range.
    """
    if text is None:
        return 0, None
    start_text, sep, stop_text = text.partition(":")
    try:
        start = int(start_text) if start_text.strip() else 0
        stop = int(stop_text) if stop_text.strip() else None
    except ValueError:
        start, stop, sep = 0, None, ""
    if not sep or start < 0 or (stop is not None and stop <= start):
        msg = f"{what} must be START:STOP with 0 <= START < STOP, got {text!r}"
        raise ValueError(msg)
    return start, stop


def _source(path: str, text: str | None, what: str) -> ShowerSource:
    from pathlib import Path

    from caloforge.evaluation.amplification_files import ShowerSource

    start, stop = parse_range(text, what)
    return ShowerSource(Path(path), start, stop)


def _number(x: float) -> str:
    return "inf" if not math.isfinite(x) else f"{x:.3g}"


def format_table(result: AmplificationResult) -> str:
    """The printed table: one row per generated sample and observable."""
    head = f"{'sample':<14} {'observable':<12} {'MSE gen':>9} {'MSE floor':>9} {'m* (68% interval)':>26} {'amplification':>24}"
    first = (f"truth {result.sources.get('truth', '')}: {result.n_reference} reference, {result.n_pool} pool "
             f"showers; n = {result.train_size}")
    lines = [first, head, "-" * len(head)]
    for label, sample in result.samples.items():
        for name, o in sample.observables.items():
            m = f"{_number(o.equivalent_size)} [{_number(o.equivalent_interval[0])}, {_number(o.equivalent_interval[1])}]"
            if o.resolved:
                amp = f"{_number(o.amplification)} [{_number(o.interval[0])}, {_number(o.interval[1])}]"
            else:
                amp = f"> {_number(o.interval[0])} (not resolved)"
            lines.append(f"{label:<14} {name:<12} {o.mse:9.3g} {result.geant4[name].floor:9.3g} {m:>26} {amp:>24}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Measures and writes the amplification; prints the table; returns 0."""
    from caloforge.evaluation.amplification import AmplificationConfig
    from caloforge.evaluation.amplification_files import amplification_from_files, check_outputs, write_amplification

    try:
        sizes = tuple(int(s) for s in args.sizes.split(",") if s.strip()) if args.sizes else None
    except ValueError:
        msg = f"--sizes must be comma-separated integers, got {args.sizes!r}"
        raise ValueError(msg) from None
    config = AmplificationConfig(n_bins=args.bins, sizes=sizes, repeats=args.repeats, bootstrap=args.bootstrap,
                                 seed=args.seed)
    observables = tuple(o.strip() for o in args.observables.split(",") if o.strip()) if args.observables else None
    check_outputs(args.out, plot=not args.no_plot, force=args.force)
    generated = {k: _source(v, None, "--generated") for k, v in parse_generated(args.generated).items()}
    result = amplification_from_files(
        _source(args.truth, args.truth_range, "--truth-range"), generated, args.train_size, config,
        pool=_source(args.pool or args.truth, args.pool_range, "--pool-range") if args.pool or args.pool_range else None,
        pool_fraction=args.pool_fraction, observables=observables, geometry=args.geometry,
        threshold=args.threshold, chunk_size=args.chunk_size, progress=not args.no_progress,
    )
    written = write_amplification(result, args.out, plot=not args.no_plot, force=args.force)
    sys.stdout.write(format_table(result) + "\nwritten: " + ", ".join(str(p) for p in written) + "\n")
    return 0

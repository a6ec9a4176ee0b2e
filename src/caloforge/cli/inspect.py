"""``caloforge inspect FILE``: summary of a shower file."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from caloforge.data.summary import FileSummary

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``inspect`` subcommand."""
    p = subparsers.add_parser(
        "inspect",
        help="summarise a shower file (CaloChallenge or Par04 HDF5)",
        description="Read a shower file once (CaloChallenge or either Par04 layout) and print its geometry, number "
        "of showers, incident-energy range, response E_dep/E_inc, sparsity, angles and file attributes. Invalid "
        "voxel values (NaN, inf, negative) are counted over the whole file rather than stopping at the first; "
        "they end in one error line and exit code 2 (after the summary), as an unreadable file does.",
    )
    p.add_argument("file", help="HDF5 shower file")
    p.add_argument("--geometry", help="geometry name (default: stored in the file or guessed)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Prints the summary; returns 0, or 2 (bad input) when the showers hold NaN, inf or negative values."""
    from caloforge.data.summary import summarize_file

    s = summarize_file(args.file, args.geometry)
    if args.json:
        sys.stdout.write(json.dumps(s.to_dict(), indent=2, default=str) + "\n")
        return _verdict(s)
    lines = [
        f"file          {s.path}",
        f"geometry      {s.geometry} ({s.n_voxels} voxels)",
        f"showers       {s.n_events}",
        f"E_inc         {s.energy_min_mev / 1e3:.3g} – {s.energy_max_mev / 1e3:.3g} GeV",
        f"E_dep/E_inc   {s.response_mean:.4f} ± {s.response_std:.4f} (mean ± std)",
        f"non-zero      {100 * s.sparsity:.2f} % of voxels",
        f"angles        {'yes' if s.has_angles else 'no'}",
    ]
    if not s.valid:
        lines.append(
            f"invalid       {s.n_nan} NaN, {s.n_inf} inf, {s.n_negative} negative voxel values in {s.n_bad_showers} "
            f"showers (first: event {s.first_bad_event}); left out of E_dep/E_inc and non-zero"
        )
    lines += [f"attr {k:<9} {v}" for k, v in sorted(s.attrs.items())]
    sys.stdout.write("\n".join(lines) + "\n")
    return _verdict(s)


def _verdict(s: FileSummary) -> int:
    """0 for valid showers; else the counts as the one error line (exit 2, after the summary)."""
    from caloforge.data import ShowerFileError

    if s.valid:
        return 0
    msg = (f"{s.path}: {s.n_bad_showers} of {s.n_events} showers hold invalid voxel values ({s.n_nan} NaN, "
           f"{s.n_inf} inf, {s.n_negative} negative; first in event {s.first_bad_event})")
    raise ShowerFileError(msg)

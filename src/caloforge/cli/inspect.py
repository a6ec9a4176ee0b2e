"""``caloforge inspect FILE``: summary of a shower file."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``inspect`` subcommand."""
    p = subparsers.add_parser("inspect", help="summarise a shower file (CaloChallenge or Par04 HDF5)")
    p.add_argument("file", help="HDF5 shower file")
    p.add_argument("--geometry", help="geometry name (default: stored in the file or guessed)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Prints the summary; returns 0."""
    from caloforge.data.summary import summarize_file

    s = summarize_file(args.file, args.geometry)
    if args.json:
        sys.stdout.write(json.dumps(s.to_dict(), indent=2, default=str) + "\n")
        return 0
    lines = [
        f"file          {s.path}",
        f"geometry      {s.geometry} ({s.n_voxels} voxels)",
        f"showers       {s.n_events}",
        f"E_inc         {s.energy_min_mev / 1e3:.3g} – {s.energy_max_mev / 1e3:.3g} GeV",
        f"E_dep/E_inc   {s.response_mean:.4f} ± {s.response_std:.4f} (mean ± std)",
        f"non-zero      {100 * s.sparsity:.2f} % of voxels",
        f"angles        {'yes' if s.has_angles else 'no'}",
    ]
    lines += [f"attr {k:<9} {v}" for k, v in sorted(s.attrs.items())]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0

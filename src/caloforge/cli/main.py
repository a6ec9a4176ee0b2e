"""``caloforge`` entry point: builds the parser, registers the subcommands, maps errors to exit codes.

Each subcommand module has ``register(subparsers)`` and ``run(args) -> int``; heavy imports happen
inside ``run`` so that ``caloforge --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from caloforge import __version__

__all__ = ["main"]

#: Subcommand modules under ``caloforge.cli``, in help order.
SUBCOMMANDS = ("simulate", "train", "generate", "inspect", "score", "evaluate", "run", "demo", "reflow", "export", "bench", "zoo", "geant4")

logger = logging.getLogger("caloforge")


def build_parser() -> argparse.ArgumentParser:
    """The full ``caloforge`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="caloforge", description="Machine-learning fast simulation of calorimeter showers."
    )
    parser.add_argument("--version", action="version", version=f"caloforge {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"caloforge.cli.{name}")
        module.register(sub)
    return parser


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("caloforge")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit code (0 success, 1 failure, 2 bad input or usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose, args.quiet)
    from caloforge.config import ConfigError
    from caloforge.data import ShowerFileError

    try:
        return int(args.func(args))
    except (ShowerFileError, ConfigError, FileExistsError, FileNotFoundError, KeyError, ValueError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        sys.stderr.write(f"caloforge {args.command}: error: {message}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write(f"caloforge {args.command}: interrupted\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

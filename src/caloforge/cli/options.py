"""Options several subcommands share, spelled the same everywhere: ``--energies``, ``--compression`` and the
``--start``/``--stop`` event range.

Only argument definitions live here (no logic): every command that draws incident energies takes
``--energies SPEC`` (``--energy`` is a hidden alias, the older spelling of ``simulate`` and ``geant4``), and
every command that writes shower files takes ``--compression none|gzip|lzf`` (the names and the default are
:data:`caloforge.data.writer.COMPRESSIONS` / ``DEFAULT_COMPRESSION``, imported only when the option is used,
so that ``--help`` stays fast).
"""

from __future__ import annotations

import argparse

__all__ = ["add_compression_argument", "add_energies_argument", "add_event_range", "compression"]


def add_energies_argument(
    parser: argparse.ArgumentParser | argparse._MutuallyExclusiveGroup, *, default: str | None = None,
    help_text: str = "incident energies in GeV: log-uniform:LO:HI, uniform:LO:HI, fixed:E or discrete:E1,E2",
) -> None:
    """Adds ``--energies SPEC`` (canonical) and ``--energy`` (hidden alias), both to ``args.energies``."""
    suffix = f" (default {default})" if default is not None else ""
    parser.add_argument("--energies", metavar="SPEC", default=default, help=help_text + suffix)
    parser.add_argument("--energy", dest="energies", metavar="SPEC", help=argparse.SUPPRESS)


def add_event_range(
    parser: argparse.ArgumentParser,
    start_help: str = "first event of --data used (default 0)",
    stop_help: str = "one past the last event used (keep held-out showers out)",
) -> None:
    """Adds ``--start N`` (default 0) and ``--stop N`` (default: the end of the file), events ``[start, stop)``."""
    parser.add_argument("--start", type=int, default=0, help=start_help)
    parser.add_argument("--stop", type=int, help=stop_help)


def _compression(value: str) -> str:
    from caloforge.data.writer import COMPRESSIONS

    if value not in COMPRESSIONS:
        msg = f"invalid choice: {value!r} (choose from {', '.join(COMPRESSIONS)})"
        raise argparse.ArgumentTypeError(msg)
    return value


def add_compression_argument(parser: argparse.ArgumentParser) -> None:
    """Adds ``--compression none|gzip|lzf`` (``args.compression``; ``None``: the writer's default, gzip)."""
    parser.add_argument(
        "--compression",
        type=_compression,
        metavar="none|gzip|lzf",
        help="compression of the shower file (default gzip, level 4: about 8x smaller for dataset-2 showers "
        "at 0.2 ms/shower; lzf; none: fastest to write)",
    )


def compression(args: argparse.Namespace) -> str:
    """The compression asked for with ``--compression``, else the writer's default."""
    from caloforge.data.writer import DEFAULT_COMPRESSION

    return str(args.compression or DEFAULT_COMPRESSION)

"""``caloforge`` entry point: builds the parser, registers the subcommands, maps errors to exit codes.

Each subcommand module has ``register(subparsers)`` and ``run(args) -> int``; heavy imports happen
inside ``run`` so that ``caloforge --help`` stays fast.

:func:`main` is the one error boundary: bad input (invalid files, configs, arguments) and operating-system
errors (a full disk, a read-only directory, a missing file) end with a one-line message and exit code 2,
and so does a missing optional extra (``caloforge train needs PyTorch: pip install 'caloforge[torch]'``,
see :mod:`caloforge.cli.extras`);
Ctrl-C and the termination signals of batch systems (SIGTERM, SIGHUP, SIGXCPU) unwind like an exception,
so that every writer deletes its temporary file (and a training run saves ``last.pt``), and end with
130 or 128 + the signal number.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from caloforge import __version__

__all__ = ["Terminated", "main"]

#: Subcommand modules under ``caloforge.cli``, in help order.
SUBCOMMANDS = (
    "simulate", "train", "generate", "inspect", "score", "evaluate", "run", "demo", "reflow", "calibrate", "export",
    "bench", "zoo", "geant4", "reweight",
    "amplification", "config", "datasets",
    "latent",
    "tune",
)

logger = logging.getLogger("caloforge")


def build_parser() -> argparse.ArgumentParser:
    """The full ``caloforge`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="caloforge", description="Machine-learning fast simulation of calorimeter showers."
    )
    parser.add_argument("--version", action="version", version=f"caloforge {__version__}")
    _add_verbosity(parser, default=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"caloforge.cli.{name}")
        module.register(sub)
    for subparser in sub.choices.values():  # -v / -q also after the subcommand
        _add_verbosity(subparser, default=False)
    return parser


def _add_verbosity(parser: argparse.ArgumentParser, *, default: bool) -> None:
    """``-v`` / ``-q``; on subcommands without defaults, so that they never undo the global ones."""
    unset = argparse.SUPPRESS
    parser.add_argument("-v", "--verbose", action="count", default=0 if default else unset,
                        help="more log output: -v debug messages of caloforge, -vv also of the libraries it uses")
    parser.add_argument("-q", "--quiet", action="store_true", default=False if default else unset,
                        help="only warnings and errors")


def _setup_logging(verbose: int, quiet: bool) -> None:
    """Default: caloforge's info messages; ``-q`` warnings; ``-v`` debug; ``-vv`` debug of every library too."""
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 0 else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("caloforge")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    if verbose > 1 and not quiet:
        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")


class Terminated(KeyboardInterrupt):
    """A termination signal reached the command line; it unwinds like Ctrl-C (writers clean up, training saves)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: Signals that batch systems and terminals send before killing a job.
_TERMINATING = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGXCPU") if hasattr(signal, name))


@contextmanager
def _unwind_on_signals() -> Iterator[None]:
    """Turns the terminating signals into :class:`Terminated` while the command runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:  # noqa: ARG001
        raise Terminated(signum)

    previous = {sig: signal.signal(sig, handler) for sig in _TERMINATING}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _one_line(message: object) -> str:
    return " ".join(str(message).split("\n")).strip()


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit code (0 success, 1 failure, 2 bad input, usage or I/O error)."""
    parser = build_parser()
    if not (sys.argv[1:] if argv is None else list(argv)):  # bare ``caloforge``: the help, as pip does
        parser.print_help(sys.stdout)
        return 0
    args = parser.parse_args(argv)
    _setup_logging(args.verbose, args.quiet)
    from caloforge.cli.extras import missing_extra_message
    from caloforge.config import ConfigError
    from caloforge.data import ShowerFileError
    from caloforge.oserrors import describe_os_error

    try:
        with _unwind_on_signals():
            return int(args.func(args))
    except (ShowerFileError, ConfigError, KeyError, ValueError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        sys.stderr.write(f"caloforge {args.command}: error: {_one_line(message)}\n")
        return 2
    except ModuleNotFoundError as err:  # an optional extra that is not installed → one line naming it
        line = missing_extra_message(args.command, err)
        if line is None:
            raise
        sys.stderr.write(line + "\n")
        return 2
    except OSError as err:  # full disk, permissions, read-only or missing paths, existing outputs
        sys.stderr.write(f"caloforge {args.command}: error: {_one_line(describe_os_error(err, action=''))}\n")
        return 2
    except Terminated as err:
        name = signal.Signals(err.signum).name
        sys.stderr.write(f"caloforge {args.command}: terminated by {name}; partial outputs were removed\n")
        return 128 + err.signum
    except KeyboardInterrupt:
        sys.stderr.write(f"caloforge {args.command}: interrupted\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

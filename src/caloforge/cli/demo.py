"""``caloforge demo``: the built-in pipeline (simulated dataset-2 showers, a few minutes on a CPU) end to end."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

__all__ = ["register", "run"]

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``demo`` subcommand."""
    p = subparsers.add_parser(
        "demo",
        help="run the built-in demo pipeline (target: under 10 minutes on an idle 2-core CPU)",
        description="Simulate CaloChallenge dataset-2 electron showers with the built-in simulator, train a model, "
        "generate, evaluate against held-out showers, export to ONNX and benchmark; writes OUT/index.html. "
        "The configuration is configs/pipeline-demo.yaml (use it with 'caloforge run' to change it).",
    )
    p.add_argument("--out", "-o", type=Path, default=Path("demo-run"), help="run directory (default: demo-run)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a demo setting, e.g. --set data.n_train=5000 (repeatable)")
    p.add_argument("--force", action="store_true", help="re-run every stage even when up to date")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Runs the demo; returns 0."""
    from caloforge.cli.run import report_result
    from caloforge.config import apply_overrides
    from caloforge.pipeline import demo_config, pipeline_from_dict, run_pipeline

    config = demo_config()
    if args.overrides:
        logger.info("demo overrides: %s", ", ".join(args.overrides))
        config = pipeline_from_dict(apply_overrides(config.to_dict(), args.overrides))
    result = run_pipeline(config, args.out, force=args.force, progress=not args.no_progress)
    report_result(result)
    return 0

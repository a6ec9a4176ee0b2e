"""``caloforge run``: the whole pipeline (simulate/read → train → generate → evaluate → export → bench) from a YAML."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from caloforge.pipeline import PipelineResult

__all__ = ["register", "report_result", "run"]

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``run`` subcommand."""
    p = subparsers.add_parser(
        "run",
        help="run a pipeline config end to end into one run directory",
        description="Simulate (or read) data, train the configured models, generate, evaluate, export to ONNX and "
        "benchmark, each stage into OUT/<stage>/; stages whose inputs did not change are skipped. Ends with "
        "OUT/index.html (model comparison and links to every output).",
    )
    p.add_argument("--config", "-c", required=True, type=Path, help="pipeline YAML (see configs/pipeline-demo.yaml)")
    p.add_argument("--out", "-o", type=Path, default=None, help="run directory (default: runs/<config file stem>)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set data.n_train=5000 (repeatable)")
    p.add_argument("--force", action="store_true", help="re-run every stage even when up to date")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p.set_defaults(func=run)


def report_result(result: PipelineResult) -> None:
    """Logs where the report is (shared with ``caloforge demo``)."""
    logger.info("done in %.0f s; open the report: %s", result.seconds, result.report.resolve().as_uri())
    from caloforge.pipeline.report import summary_line

    for row in result.rows:
        logger.info("%s", summary_line(row))


def run(args: argparse.Namespace) -> int:
    """Runs the pipeline; returns 0."""
    from caloforge.config import apply_overrides, load_config_file
    from caloforge.pipeline import pipeline_from_dict, run_pipeline

    data = load_config_file(args.config)
    if args.overrides:
        logger.info("config overrides: %s", ", ".join(args.overrides))
        data = apply_overrides(data, args.overrides)
    config = pipeline_from_dict(data, base_dir=args.config.resolve().parent)
    out = args.out if args.out is not None else Path("runs") / args.config.stem
    result = run_pipeline(config, out, force=args.force, progress=not args.no_progress)
    report_result(result)
    return 0

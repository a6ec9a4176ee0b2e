"""Runs the whole pipeline into one run directory and writes the final report.

Layout of a run directory::

    config.yaml               the resolved pipeline configuration
    data/                     train.h5, reference.h5 (simulated) + stamp.json
    train/<label>/            model.pt, checkpoints/, metrics.jsonl
    generate/<label>/         showers.h5 (one shower per reference energy)
    evaluate/                 report.html, metrics.json, plots/
    export/<label>/           model.onnx
    bench/<label>/            bench.json
    summary.json, index.html  the model comparison and links to everything

Every stage directory holds a ``stamp.json``; a re-run skips the stages whose inputs did not change.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caloforge.atomic import atomic_write_text
from caloforge.pipeline.bench_stage import bench_stage
from caloforge.pipeline.config import PipelineConfig
from caloforge.pipeline.report import comparison_rows, write_index
from caloforge.pipeline.runner import PipelineContext, StageResult
from caloforge.pipeline.stages import data_stage, evaluate_stage, export_stage, generate_stage, train_stage

__all__ = ["PipelineResult", "run_pipeline"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineResult:
    """What :func:`run_pipeline` produced.

    Attributes:
        run_dir: The run directory.
        report: ``index.html``.
        stages: Stage results in run order.
        rows: The model comparison (one dict per model).
        seconds: Wall time of this invocation, s.
    """

    run_dir: Path
    report: Path
    stages: dict[str, StageResult]
    rows: list[dict[str, Any]]
    seconds: float


def _write_config(config: PipelineConfig, run_dir: Path) -> None:
    import yaml

    atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(config.to_dict(), sort_keys=False))


def run_pipeline(
    config: PipelineConfig, run_dir: str | Path, *, force: bool = False, progress: bool = True
) -> PipelineResult:
    """simulate/read → train → generate → evaluate → export → bench, then ``index.html``.

    Arguments:
        config: The pipeline configuration.
        run_dir: Run directory (created; stages already up to date in it are skipped).
        force: Re-run every stage.
        progress: Progress bars inside the stages.

    Returns:
        A :class:`PipelineResult`.

    Raises:
        caloforge.config.ConfigError: On invalid model or trainer settings.
        Exception: The first failing stage's error; finished stages keep their stamps, so a re-run resumes.
    """
    start = time.perf_counter()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    _write_config(config, run_dir)
    n_stages = 2 + len(config.models) * (2 + int(config.export.enabled) + int(config.bench.enabled))
    ctx = PipelineContext(config, run_dir, force=force, progress=progress, n_stages=n_stages)
    logger.info("pipeline %r: %d stages into %s", config.name, n_stages, run_dir)
    data_stage(ctx)
    for spec in config.models:
        train_stage(ctx, spec)
        generate_stage(ctx, spec)
    evaluate_stage(ctx)
    for spec in config.models:
        if config.export.enabled:
            export_stage(ctx, spec)
        if config.bench.enabled:
            bench_stage(ctx, spec)
    rows = comparison_rows(config, ctx.results)
    atomic_write_text(run_dir / "summary.json", json.dumps(rows, indent=2, default=str) + "\n")
    seconds = time.perf_counter() - start
    report = write_index(config, run_dir, ctx.results, seconds)
    logger.info("report: %s (%.0f s)", report.resolve(), seconds)
    return PipelineResult(run_dir, report, ctx.results, rows, seconds)

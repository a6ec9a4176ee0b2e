"""The main job end to end: simulate/read → train → generate → evaluate → export → bench → ``index.html``.

``caloforge run --config pipeline.yaml`` runs :func:`run_pipeline` on a YAML config;
``caloforge demo`` runs the built-in :func:`demo_config`.
"""

from __future__ import annotations

from caloforge.pipeline.config import (
    BenchStageConfig,
    DataConfig,
    EvaluateStageConfig,
    ExportStageConfig,
    GenerateStageConfig,
    PipelineConfig,
    PipelineModel,
    demo_config,
    load_pipeline_config,
    pipeline_from_dict,
)
from caloforge.pipeline.run import PipelineResult, run_pipeline
from caloforge.pipeline.runner import PipelineContext, StageResult

__all__ = [
    "BenchStageConfig",
    "DataConfig",
    "EvaluateStageConfig",
    "ExportStageConfig",
    "GenerateStageConfig",
    "PipelineConfig",
    "PipelineContext",
    "PipelineModel",
    "PipelineResult",
    "StageResult",
    "demo_config",
    "load_pipeline_config",
    "pipeline_from_dict",
    "run_pipeline",
]

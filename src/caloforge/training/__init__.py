"""Training: one loop for every model (:class:`Trainer`), callbacks, checkpoints, run configs, DDP, reflow."""

from __future__ import annotations

from caloforge.training.callbacks import EMA, Callback, CheckpointEvery, EarlyStopping, MetricLogger
from caloforge.training.checkpoint import load_checkpoint, save_checkpoint
from caloforge.training.config import (
    DataConfig,
    ModelSpec,
    RunConfig,
    SimulateConfig,
    TrainConfig,
    load_run_config,
    run_config_from_dict,
)
from caloforge.training.data import ShowerTensors, load_training_data, split_data
from caloforge.training.ensemble import ensemble_configs, member_directory, train_ensemble
from caloforge.training.pairs import ReflowPairs, make_reflow_pairs
from caloforge.training.reflow import ReflowConfig, reflow, reflow_checkpoint
from caloforge.training.run import dry_run_config, dry_run_directory, resume_run_directory, train_run
from caloforge.training.trainer import FitResult, Trainer

__all__ = [
    "EMA",
    "Callback",
    "CheckpointEvery",
    "DataConfig",
    "EarlyStopping",
    "FitResult",
    "MetricLogger",
    "ModelSpec",
    "ReflowConfig",
    "ReflowPairs",
    "RunConfig",
    "ShowerTensors",
    "SimulateConfig",
    "TrainConfig",
    "Trainer",
    "dry_run_config",
    "dry_run_directory",
    "ensemble_configs",
    "load_checkpoint",
    "load_run_config",
    "load_training_data",
    "make_reflow_pairs",
    "member_directory",
    "reflow",
    "reflow_checkpoint",
    "resume_run_directory",
    "run_config_from_dict",
    "save_checkpoint",
    "split_data",
    "train_ensemble",
    "train_run",
]

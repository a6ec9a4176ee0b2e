"""A training run from a :class:`~caloforge.training.config.RunConfig`: data, model, trainer, outputs.

The run directory receives ``config.yaml`` (the resolved config, after overrides), ``metrics.jsonl``,
``checkpoints/last.pt`` (plus periodic ``step-*.pt``) and ``result.json`` (steps, throughput and
the last validation metrics).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path

import torch

from caloforge.atomic import atomic_write_text
from caloforge.config import save_config_file
from caloforge.data import ShowerData
from caloforge.models import build_model
from caloforge.training.checkpoint import load_checkpoint
from caloforge.training.config import ModelSpec, RunConfig, SimulateConfig
from caloforge.training.data import load_training_data, split_data
from caloforge.training.trainer import FitResult, Trainer

__all__ = ["DRY_RUN_SHOWERS", "claim_run_directory", "dry_run_config", "train_run"]

logger = logging.getLogger(__name__)

#: Showers used by a dry run.
DRY_RUN_SHOWERS = 128


def dry_run_config(config: RunConfig) -> RunConfig:
    """The same run shrunk to seconds: the model's ``smoke_config``, 2 steps, 128 showers, 1 val batch."""
    smoke = config.model.model_class.smoke_config()
    train = dataclasses.replace(
        config.train,
        max_steps=2,
        max_epochs=1,
        batch_size=min(config.train.batch_size, 32),
        limit_val_batches=1,
        checkpoint_every=0,
        log_every=1,
        val_fraction=max(config.train.val_fraction, 0.25),
    )
    data = config.data
    if data.path is not None:
        data = dataclasses.replace(data, stop=data.start + DRY_RUN_SHOWERS)
    else:
        sim = data.simulate or SimulateConfig()
        data = dataclasses.replace(data, simulate=dataclasses.replace(sim, n=DRY_RUN_SHOWERS))
    return RunConfig(ModelSpec(config.model.name, smoke), data, train, config.out)


def _run_files(out: Path) -> list[Path]:
    """The files of an earlier training run in ``out``."""
    names = [out / "config.yaml", out / "metrics.jsonl", out / "result.json", out / "checkpoints" / "last.pt"]
    return [p for p in names if p.exists()] + sorted((out / "checkpoints").glob("step-*.pt"))


def claim_run_directory(out: Path, *, resume: str | Path | None, force: bool) -> None:
    """Refuses a directory that holds another run unless resuming; with ``force`` deletes that run's files.

    Raises:
        FileExistsError: ``out`` holds a run and neither ``resume`` nor ``force`` is given.
    """
    existing = _run_files(out)
    if not existing or resume is not None:
        return
    if not force:
        found = ", ".join(str(p.relative_to(out)) for p in existing[:3]) + (", ..." if len(existing) > 3 else "")
        msg = (
            f"{out} already holds a training run ({found}); pass --resume {out / 'checkpoints' / 'last.pt'} "
            "to continue it or --force to replace it (resume= / force=True in Python)"
        )
        raise FileExistsError(msg)
    logger.warning("replacing the training run in %s (force): deleting %d files of the earlier run", out, len(existing))
    for path in existing:
        path.unlink(missing_ok=True)


def train_run(
    config: RunConfig,
    *,
    resume: str | Path | None = None,
    dry_run: bool = False,
    data: ShowerData | None = None,
    force: bool = False,
) -> FitResult:
    """Loads the data, builds the model, trains it and writes the run directory.

    Arguments:
        config: The resolved run config.
        resume: Training checkpoint to continue from (same config); its run's metrics log is continued.
        dry_run: Shrink the run to seconds with :func:`dry_run_config`.
        data: Showers to use instead of ``config.data`` (tests, notebooks).
        force: Replace a training run already in ``config.out`` (its checkpoints, ``config.yaml``,
            ``metrics.jsonl`` and ``result.json`` are deleted first).

    Returns:
        The trainer's :class:`~caloforge.training.trainer.FitResult`.

    Raises:
        FileExistsError: ``config.out`` holds another run and neither ``resume`` nor ``force`` is given
            (checked before anything is loaded or written).
        caloforge.data.ShowerFileError: Unreadable training file.
        caloforge.models.CheckpointError: Unreadable, corrupted or incompatible ``resume`` checkpoint.
    """
    is_main = int(os.environ.get("RANK", "0")) == 0
    if is_main:  # other ranks start later and would see rank 0's files; torchrun stops them if rank 0 fails
        claim_run_directory(Path(config.out), resume=resume, force=force)
        if resume is not None:
            load_checkpoint(resume)  # a damaged or foreign checkpoint is refused before anything is written
    if dry_run:
        config = dry_run_config(config)
        if data is not None:
            data = data.subset(slice(0, DRY_RUN_SHOWERS))
    showers = data if data is not None else load_training_data(config.data)
    if not config.data.use_angles and showers.angles is not None:
        showers = ShowerData(showers.energies, showers.showers, showers.geometry, None, showers.attrs)
    train, val = split_data(showers, config.train.val_fraction, seed=config.train.seed)
    torch.manual_seed(config.train.seed)
    n_conditions = showers.conditions().shape[1]
    model = build_model(config.model.name, showers.geometry, config.model.config, n_conditions=n_conditions)
    out = Path(config.out)
    if is_main:
        out.mkdir(parents=True, exist_ok=True)
        save_config_file(config, out / "config.yaml")
    logger.info(
        "training %s on %d showers (%s), %d for validation, run directory %s",
        config.model.name,
        len(train),
        showers.geometry.name,
        0 if val is None else len(val),
        out,
    )
    trainer = Trainer(model, config.train, out_dir=out, run_config=config.to_dict())
    result = trainer.fit(train, val, resume=resume)
    if is_main:
        summary = {
            "steps": result.steps,
            "epochs": result.epochs,
            "seconds": result.seconds,
            "showers_per_second": result.showers_per_second,
            "val_metrics": result.val_metrics,
            "checkpoint": None if result.checkpoint is None else str(result.checkpoint),
            "n_train": len(train),
            "device": str(trainer.device),
            "world_size": trainer.dist.world_size,
        }
        atomic_write_text(out / "result.json", json.dumps(summary, indent=2) + "\n")
    return result

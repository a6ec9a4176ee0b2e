"""A training run from a :class:`~caloforge.training.config.RunConfig`: data, model, trainer, outputs.

The run directory receives ``config.yaml`` (the resolved config, after overrides), ``metrics.jsonl``,
``checkpoints/last.pt`` (plus periodic ``step-*.pt``) and ``result.json`` (steps, throughput and
the last validation metrics).

A resumed run continues in the run directory of its checkpoint (:func:`resume_run_directory`:
``RUN/checkpoints/last.pt`` → ``RUN``). A dry run never touches the real run: it writes to
``OUT/dry-run/`` (replaced by the next dry run) and, when the configured data file is missing (a fresh
clone), trains on a few showers of the config's geometry from the built-in simulator.

Example:
    >>> str(resume_run_directory("runs/vae/checkpoints/last.pt"))
    'runs/vae'
    >>> str(dry_run_directory("runs/vae"))
    'runs/vae/dry-run'
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import torch

from caloforge.atomic import atomic_write_text
from caloforge.config import save_config_file
from caloforge.data import ShowerData, is_par04_angle_source
from caloforge.models import build_model
from caloforge.training.callbacks import Callback
from caloforge.training.checkpoint import load_checkpoint
from caloforge.training.config import DataConfig, ModelSpec, RunConfig, SimulateConfig
from caloforge.training.data import load_training_data, split_data
from caloforge.training.trainer import FitResult, Trainer

__all__ = [
    "DRY_RUN_SHOWERS",
    "claim_run_directory",
    "dry_run_config",
    "dry_run_directory",
    "resume_run_directory",
    "train_run",
]

logger = logging.getLogger(__name__)

#: Showers used by a dry run.
DRY_RUN_SHOWERS = 128


def dry_run_directory(out: str | Path) -> Path:
    """Where a dry run of the run directory ``out`` writes: ``OUT/dry-run``, never ``out`` itself."""
    return Path(out) / "dry-run"


def resume_run_directory(checkpoint: str | Path) -> Path | None:
    """The run directory a training checkpoint belongs to: ``RUN`` for ``RUN/checkpoints/NAME.pt``.

    Returns:
        ``None`` when the checkpoint does not lie in a ``checkpoints/`` folder (a copied file).
    """
    path = Path(checkpoint)
    return path.parent.parent if path.parent.name == "checkpoints" else None


def dry_run_config(config: RunConfig) -> RunConfig:
    """The same run shrunk to seconds: the model's ``smoke_config``, 2 steps, 128 showers, 1 val batch.

    The run directory becomes :func:`dry_run_directory` ``(config.out)``. When ``data.path`` names a
    file that does not exist, the showers come from the built-in simulator in ``data.geometry`` instead
    (logged), so that a dry run works without any data.

    Raises:
        FileNotFoundError: The data file is missing and the config names no geometry to simulate.
    """
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
    if data.path is not None and not Path(data.path).exists() and not is_par04_angle_source(data.path):
        if data.geometry is None:
            msg = f"{data.path}: no such file, and the config names no data.geometry to simulate a dry run in"
            raise FileNotFoundError(msg)
        logger.info(
            "dry run: %s not found, using %d showers of the built-in simulator (%s geometry) instead",
            data.path, DRY_RUN_SHOWERS, data.geometry,
        )
        data = dataclasses.replace(data, path=None, simulate=data.simulate or SimulateConfig())
    if data.path is not None:
        data = dataclasses.replace(data, stop=data.start + DRY_RUN_SHOWERS)
    else:
        sim = data.simulate or SimulateConfig()
        data = dataclasses.replace(data, simulate=dataclasses.replace(sim, n=DRY_RUN_SHOWERS))
    return RunConfig(ModelSpec(config.model.name, smoke), data, train, str(dry_run_directory(config.out)))


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


#: Layer depth (mm) a dry run simulates in when the geometry names none (the Si-W layers of datasets 2 and 3).
_DRY_RUN_LAYER_MM = 3.4


def _dry_run_showers(config: DataConfig) -> ShowerData:
    """The simulated showers of a dry run, in any named geometry (a nominal layer depth where it has none)."""
    import numpy as np

    from caloforge.data import parse_energy_spec
    from caloforge.geometry import get_geometry
    from caloforge.simulate import GFlashSimulator

    if config.geometry is None or config.simulate is None:
        msg = "data: set path, or simulate together with geometry"
        raise ValueError(msg)
    geometry = get_geometry(config.geometry)
    depth = geometry.layer_thickness_mm or _DRY_RUN_LAYER_MM
    rng = np.random.default_rng(config.simulate.seed)
    energies = parse_energy_spec(config.simulate.energy).sample(config.simulate.n, rng)
    simulated = GFlashSimulator(dataclasses.replace(geometry, layer_thickness_mm=depth)).simulate(energies, rng)
    return ShowerData(simulated.energies, simulated.showers, geometry, simulated.angles, simulated.attrs)


def _check_resume_directory(out: Path, resume: str | Path) -> None:
    """Refuses to resume a checkpoint of one run directory into another."""
    run_dir = resume_run_directory(resume)
    if run_dir is not None and run_dir.resolve() != out.resolve():
        msg = (
            f"--resume {resume} continues the run in {run_dir}, but the run directory is {out}: drop --out "
            f"(or set out={run_dir}); to start a new run from those weights use --set train.init_from={resume}"
        )
        raise ValueError(msg)


def _clear_dry_run(out: Path) -> None:
    """Deletes the files of an earlier dry run in ``out`` (a dry-run directory)."""
    existing = _run_files(out)
    if existing:
        logger.info("dry run: replacing the earlier dry run in %s", out)
    for path in existing:
        path.unlink(missing_ok=True)


def train_run(
    config: RunConfig,
    *,
    resume: str | Path | None = None,
    dry_run: bool = False,
    data: ShowerData | None = None,
    force: bool = False,
    callbacks: Sequence[Callback] = (),
) -> FitResult:
    """Loads the data, builds the model, trains it and writes the run directory.

    Arguments:
        config: The resolved run config.
        resume: Training checkpoint to continue from (same config); its run's metrics log is continued.
            ``config.out`` must be the checkpoint's run directory (see :func:`resume_run_directory`).
        dry_run: Shrink the run to seconds with :func:`dry_run_config`; it writes to ``OUT/dry-run/``
            (replacing an earlier dry run there), never to ``config.out`` itself.
        data: Showers to use instead of ``config.data`` (tests, notebooks).
        force: Replace a training run already in ``config.out`` (its checkpoints, ``config.yaml``,
            ``metrics.jsonl`` and ``result.json`` are deleted first).
        callbacks: Extra trainer callbacks (e.g. a tuner's pruning callback), after the built-in ones.

    Returns:
        The trainer's :class:`~caloforge.training.trainer.FitResult`.

    Raises:
        FileExistsError: ``config.out`` holds another run and neither ``resume`` nor ``force`` is given
            (checked before anything is loaded or written).
        ValueError: ``resume`` lies in another run directory than ``config.out``.
        caloforge.data.ShowerFileError: Unreadable training file.
        caloforge.models.CheckpointError: Unreadable, corrupted or incompatible ``resume`` checkpoint.
    """
    is_main = int(os.environ.get("RANK", "0")) == 0
    if dry_run:
        config = dry_run_config(config)
        if data is not None:
            data = data.subset(slice(0, DRY_RUN_SHOWERS))
        elif config.data.path is None:
            data = _dry_run_showers(config.data)
    elif resume is not None:
        _check_resume_directory(Path(config.out), resume)
    if is_main:  # other ranks start later and would see rank 0's files; torchrun stops them if rank 0 fails
        if dry_run and resume is None:
            _clear_dry_run(Path(config.out))
        else:
            claim_run_directory(Path(config.out), resume=resume, force=force)
        if resume is not None:
            load_checkpoint(resume)  # a damaged or foreign checkpoint is refused before anything is written
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
    trainer = Trainer(model, config.train, out_dir=out, callbacks=callbacks, run_config=config.to_dict())
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

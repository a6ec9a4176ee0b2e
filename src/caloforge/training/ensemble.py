"""Ensembles of seeded trainings: K runs of one config that differ only in ``train.seed``.

The spread of the K models' metrics tells a real improvement from training noise. Each member is a
normal run directory, ``OUT/seed-<s>`` (``config.yaml``, checkpoints, ``result.json``), so every command
that takes a run or checkpoint works on it unchanged; ``OUT/ensemble.json`` lists the members. The
training data (file or simulation seed) is the same for all members; the seed sets the initialisation,
the shuffling, the train/validation split and the model's noise.

Example:
    >>> from caloforge.training.config import ModelSpec, RunConfig
    >>> configs = ensemble_configs(RunConfig(ModelSpec("vae"), out="runs/vae"), [0, 1])
    >>> [(c.train.seed, c.out) for c in configs]
    [(0, 'runs/vae/seed-0'), (1, 'runs/vae/seed-1')]
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from pathlib import Path

from caloforge.atomic import atomic_write_text
from caloforge.data import ShowerData
from caloforge.training.config import RunConfig
from caloforge.training.run import DRY_RUN_SHOWERS, claim_run_directory, dry_run_config, train_run
from caloforge.training.trainer import FitResult

__all__ = ["ensemble_configs", "member_directory", "train_ensemble"]


def member_directory(out: str | Path, seed: int) -> Path:
    """The run directory of the member with ``seed``: ``OUT/seed-<seed>``."""
    return Path(out) / f"seed-{seed}"


def ensemble_configs(config: RunConfig, seeds: Sequence[int]) -> list[RunConfig]:
    """One run config per seed: ``train.seed`` set, ``out`` the member directory under ``config.out``.

    Raises:
        ValueError: No seeds, or a seed given twice.
    """
    seeds = list(seeds)
    if not seeds:
        msg = "an ensemble needs at least one seed"
        raise ValueError(msg)
    if len(set(seeds)) != len(seeds):
        msg = f"ensemble seeds must differ, got {seeds}"
        raise ValueError(msg)
    return [
        dataclasses.replace(config, train=dataclasses.replace(config.train, seed=s), out=str(member_directory(config.out, s)))
        for s in seeds
    ]


def train_ensemble(
    config: RunConfig,
    seeds: Sequence[int],
    *,
    dry_run: bool = False,
    data: ShowerData | None = None,
    force: bool = False,
) -> list[FitResult]:
    """Trains one member per seed, one after the other, and writes ``OUT/ensemble.json``.

    Arguments:
        config: The resolved run config; ``config.out`` becomes the ensemble directory.
        seeds: One training seed per member.
        dry_run: Shrink every member to a smoke run, written under ``OUT/dry-run/`` (replacing an
            earlier dry run there), never into the real member directories.
        data: Showers to use instead of ``config.data``.
        force: Replace training runs already in the member directories.

    Returns:
        The members' fit results, in seed order.

    Raises:
        FileExistsError: A member directory holds a run and ``force`` is not given (checked for every
            member before the first one trains).
        ValueError: No seeds, or a seed given twice.
    """
    if dry_run:
        config, force = dry_run_config(config), True
        data = None if data is None else data.subset(slice(0, DRY_RUN_SHOWERS))
    configs = ensemble_configs(config, seeds)
    is_main = int(os.environ.get("RANK", "0")) == 0  # under torchrun, rank 0 owns the files
    for member in configs if is_main else ():
        claim_run_directory(Path(member.out), resume=None, force=force)
    results = []
    for member in configs:
        results.append(train_run(member, data=data, force=force))
    summary = {
        "seeds": list(seeds),
        "members": [Path(m.out).name for m in configs],
        "checkpoints": [None if r.checkpoint is None else str(r.checkpoint) for r in results],
        "val_loss": [r.val_metrics.get("val/loss") for r in results],
    }
    if is_main:
        atomic_write_text(Path(config.out) / "ensemble.json", json.dumps(summary, indent=2) + "\n")
    return results

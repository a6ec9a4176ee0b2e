"""Training checkpoints: everything needed to continue a run bit for bit, as a weights-only state dict.

A checkpoint holds the model state (:func:`caloforge.models.model_state`: name, config, geometry,
weights and fitted preprocessing), every optimizer, scheduler and loss scaler, the callbacks'
states (EMA weights under ``"ema"``), the step/epoch/batch counters, the random-number-generator
states and the train and run configs. It loads with ``torch.load(weights_only=True)``, and
:func:`caloforge.models.load_model` rebuilds the model from it directly (with the EMA weights).
Files are written atomically, so an interrupted save never corrupts the previous checkpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from caloforge.config import to_dict
from caloforge.models.serialization import CheckpointError, load_state, model_state, registered_name, save_state

if TYPE_CHECKING:
    from caloforge.training.trainer import Trainer

__all__ = ["FORMAT", "load_checkpoint", "restore_training_state", "save_checkpoint", "training_state"]

#: Format tag stored in every training checkpoint.
FORMAT = "caloforge-train-1"


def training_state(trainer: Trainer) -> dict[str, Any]:
    """The full state of ``trainer`` (tensors and plain values only)."""
    callbacks = {type(cb).__name__: cb.state_dict() for cb in trainer.callbacks}
    rng: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and trainer.device.type == "cuda":
        rng["cuda"] = torch.cuda.get_rng_state(trainer.device)
    return {
        "format": FORMAT,
        "model": model_state(trainer.model),
        "optimizers": {k: v.state_dict() for k, v in trainer.optimizers.items()},
        "schedulers": {k: v.state_dict() for k, v in trainer.schedulers.items()},
        "scaler": trainer.scaler.state_dict(),
        "callbacks": callbacks,
        "ema": callbacks.get("EMA"),
        "counters": {"step": trainer.step, "epoch": trainer.epoch, "batch_in_epoch": trainer.batch_in_epoch},
        "rng": rng,
        "train_config": to_dict(trainer.config),
        "run_config": trainer.run_config,
    }


def save_checkpoint(trainer: Trainer, path: str | Path) -> Path:
    """Writes :func:`training_state` atomically; returns the path."""
    path = Path(path)
    save_state(training_state(trainer), path)
    return path


def load_checkpoint(path: str | Path, *, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Reads a training checkpoint (weights only).

    Raises:
        CheckpointError: Unreadable file, or a model-only state rather than a training checkpoint.
    """
    state = load_state(path, map_location=map_location)
    if state.get("format") != FORMAT:
        msg = f"{path}: not a caloforge training checkpoint (format {state.get('format')!r}, expected {FORMAT!r})"
        raise CheckpointError(msg)
    return state


def _changed_fields(saved: dict[str, Any], config: Any) -> list[str]:
    """Fields where a checkpoint's model config differs from ``config``.

    A field added to the config class after the checkpoint was written counts as its default, so a
    newer caloforge resumes an older run as long as the new option is left at its default.
    """
    current = to_dict(config)
    old = {**to_dict(type(config)()), **saved}
    return sorted(k for k in set(old) | set(current) if old.get(k) != current.get(k))


def restore_training_state(trainer: Trainer, state: dict[str, Any], where: str = "checkpoint") -> None:
    """Loads weights, optimizers, schedulers, scaler, callbacks, counters and RNG states into ``trainer``.

    Raises:
        CheckpointError: If the checkpoint belongs to another model or optimizer layout.
    """
    saved = state["model"]
    if saved["name"] != registered_name(trainer.model):
        msg = f"{where}: checkpoint is for model {saved['name']!r}, not {registered_name(trainer.model)!r}"
        raise CheckpointError(msg)
    changed = _changed_fields(saved["config"], trainer.model.config)
    if changed:
        msg = (
            f"{where}: checkpoint is for model {saved['name']!r} with another config "
            f"({', '.join(changed)} differ); it cannot resume this run"
        )
        raise CheckpointError(msg)
    if not trainer.model.geometry.same_binning(type(trainer.model.geometry).from_dict(saved["geometry"])):
        msg = f"{where}: checkpoint geometry {saved['geometry']['name']!r} differs from the data's"
        raise CheckpointError(msg)
    if set(state["optimizers"]) != set(trainer.optimizers):
        msg = f"{where}: optimizer groups {sorted(state['optimizers'])} differ from {sorted(trainer.optimizers)}"
        raise CheckpointError(msg)
    trainer.model.load_state_dict(saved["state_dict"])
    for name, opt in trainer.optimizers.items():
        opt.load_state_dict(state["optimizers"][name])
        trainer.schedulers[name].load_state_dict(state["schedulers"][name])
    trainer.scaler.load_state_dict(state["scaler"])
    for cb in trainer.callbacks:
        cb_state = state["callbacks"].get(type(cb).__name__)
        if cb_state:
            cb.load_state_dict(cb_state)
    counters = state["counters"]
    trainer.step, trainer.epoch = int(counters["step"]), int(counters["epoch"])
    trainer.batch_in_epoch = int(counters["batch_in_epoch"])
    torch.set_rng_state(state["rng"]["torch"].cpu())
    if "cuda" in state["rng"] and trainer.device.type == "cuda":
        torch.cuda.set_rng_state(state["rng"]["cuda"].cpu(), trainer.device)

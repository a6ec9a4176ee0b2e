"""Saving and rebuilding models as plain state dicts that load with ``torch.load(weights_only=True)``.

A model state holds only tensors and JSON-like values: the registry name, the config as a dict,
the geometry as a dict, the number of conditions, the ``state_dict`` (which contains the fitted
preprocessing buffers) and the caloforge version. Nothing is unpickled on load, so a checkpoint
from an untrusted source cannot run code.

A training checkpoint (:mod:`caloforge.training.checkpoint`) stores a model state under ``"model"``
and, when EMA was used, the averaged weights under ``"ema"``; :func:`load_model` accepts either.

Files are written atomically (:mod:`caloforge.atomic`) with a SHA-256 content hash inside
(:mod:`caloforge.models.integrity`); :func:`load_state` verifies the archive's CRC-32s and the hash
and refuses a damaged file, naming the newest intact ``step-*.pt`` beside it when there is one.

Example:
    >>> import tempfile, pathlib, torch
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.models import build_model
    >>> g = Geometry.regular("toy", n_layers=2, n_alpha=1, r_edges=[0, 1, 2])
    >>> model = build_model("wgan", g, {"latent_dim": 4, "generator_hidden": [8]})
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.pt"
    >>> save_model(model, path)
    >>> load_model(path).config == model.config
    True
"""

from __future__ import annotations

import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from caloforge import __version__
from caloforge.atomic import AtomicFile
from caloforge.config import ConfigError, to_dict
from caloforge.geometry import Geometry
from caloforge.models.base import GenerativeModel
from caloforge.models.integrity import INTEGRITY_KEY, archive_problem, integrity_record, state_digest
from caloforge.models.registry import MODELS, build_model

__all__ = [
    "CheckpointError",
    "load_model",
    "load_state",
    "model_state",
    "registered_name",
    "save_model",
    "save_state",
]

_REQUIRED = ("name", "config", "geometry", "n_conditions", "state_dict")


class CheckpointError(ValueError):
    """A checkpoint is missing, truncated, corrupted or describes an unknown model; the message names it."""


def model_state(model: GenerativeModel) -> dict[str, Any]:
    """Everything needed to rebuild ``model``, as tensors and plain values.

    Arguments:
        model: A registered model (its class has a registry ``name``).

    Returns:
        ``{"name", "config", "geometry", "n_conditions", "state_dict", "caloforge_version"}``.

    Raises:
        ValueError: If the model class is not registered in ``MODELS``.
    """
    name = registered_name(model)
    return {
        "name": name,
        "config": to_dict(model.config),
        "geometry": model.geometry.to_dict(),
        "n_conditions": int(model.n_conditions),
        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "caloforge_version": __version__,
    }


def registered_name(model: GenerativeModel) -> str:
    """The name under which the model's class is registered in ``MODELS``.

    A subclass that is not registered itself is saved as the nearest registered class it derives
    from: a training-only subclass that changes the loss but not the network (the reflow student
    of :mod:`caloforge.models.diffusion.distill`) then saves and loads as the model it trains.

    Raises:
        ValueError: If neither the class nor a base class is registered.
    """
    for cls in type(model).__mro__:
        for name in MODELS:
            if cls is MODELS.get(name):
                return name
    msg = f"{type(model).__name__} is not registered in MODELS; register it with @MODELS.register(name)"
    raise ValueError(msg)


def save_state(state: Mapping[str, Any], path: str | Path) -> None:
    """Writes a state dict atomically, with its SHA-256 content hash under ``"integrity"``.

    Arguments:
        state: Tensors and plain values only.
        path: Target file (replaced if it exists); its directory is created.

    Raises:
        caloforge.atomic.OutputError: The file cannot be written (full disk, permissions, ...);
            an existing ``path`` is then left as it was.
    """
    payload = {k: v for k, v in state.items() if k != INTEGRITY_KEY}
    payload[INTEGRITY_KEY] = integrity_record(payload)
    with AtomicFile(path, overwrite=True) as out:
        torch.save(payload, out.open("wb"))


def save_model(model: GenerativeModel, path: str | Path) -> None:
    """Saves :func:`model_state` of ``model`` to ``path`` (atomically)."""
    save_state(model_state(model), path)


def load_state(path: str | Path, *, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Reads a state dict with ``torch.load(weights_only=True)`` and verifies its integrity.

    The CRC-32 of every archive member is checked, and so is the stored content hash (files
    written before caloforge stored one are checked by their CRC-32s only).

    Raises:
        CheckpointError: If the file is missing, empty, truncated, corrupted or holds arbitrary
            objects; for a damaged file the message names the newest intact ``step-*.pt`` beside it.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"{path}: no such checkpoint file"
        raise CheckpointError(msg)
    try:
        return _read_verified(path, map_location)
    except _Damaged as err:
        msg = f"{path}: checkpoint is corrupted ({err}); it was damaged after it was written. {_intact_hint(path)}"
        raise CheckpointError(msg) from None


class _Damaged(Exception):
    """The file's bytes are not what was written."""


def _read_verified(path: Path, map_location: str | torch.device) -> dict[str, Any]:
    problem = archive_problem(path)
    if problem is not None:
        raise _Damaged(problem)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, pickle.UnpicklingError, ValueError) as err:
        reason = (str(err).splitlines() or [type(err).__name__])[0].split(". ")[0]
        msg = f"{path}: cannot read checkpoint (truncated, corrupted or not a caloforge checkpoint: {reason})"
        raise CheckpointError(msg) from None
    if not isinstance(state, dict):
        msg = f"{path}: not a caloforge checkpoint (holds {type(state).__name__}, expected a dict)"
        raise CheckpointError(msg)
    record = state.pop(INTEGRITY_KEY, None)
    if record is not None:
        digest = record.get("digest") if isinstance(record, dict) else None
        if digest != state_digest(state):
            msg = "its content hash does not match the stored SHA-256"
            raise _Damaged(msg)
    return state


def _intact_hint(path: Path) -> str:
    """Names the newest ``step-*.pt`` beside ``path`` that passes verification."""
    for candidate in sorted(path.parent.glob("step-*.pt"), reverse=True):
        if candidate.resolve() == path.resolve():
            continue
        try:
            _read_verified(candidate, "cpu")
        except (CheckpointError, _Damaged):
            continue
        return f"The newest intact checkpoint beside it is {candidate}"
    return "There is no intact step-*.pt checkpoint beside it"


def load_model(
    path_or_state: str | Path | Mapping[str, Any],
    *,
    map_location: str | torch.device = "cpu",
    use_ema: bool = True,
    geometry: Geometry | None = None,
) -> GenerativeModel:
    """Rebuilds a model from a model state, a training checkpoint, or a file holding either.

    Arguments:
        path_or_state: Checkpoint path or an already loaded state dict.
        map_location: Device the tensors are loaded onto.
        use_ema: For training checkpoints with EMA weights, load the averaged weights.
        geometry: If given, the checkpoint must have been trained on the same binning.

    Returns:
        The model in eval mode, on ``map_location``.

    Raises:
        CheckpointError: Unreadable file, missing keys, unknown model name, mismatching weights
            or geometry.
    """
    if isinstance(path_or_state, Mapping):
        state, where = dict(path_or_state), "checkpoint"
    else:
        state, where = load_state(path_or_state, map_location=map_location), str(path_or_state)
    state = _unwrap(state, where, use_ema=use_ema)
    model = _rebuild(state, where)
    if geometry is not None and not model.geometry.same_binning(geometry):
        msg = (
            f"{where}: the model was trained on geometry {model.geometry.name!r} "
            f"({model.geometry.n_voxels} voxels), not {geometry.name!r} ({geometry.n_voxels} voxels)"
        )
        raise CheckpointError(msg)
    return model.to(map_location).eval()


def _unwrap(state: dict[str, Any], where: str, *, use_ema: bool) -> dict[str, Any]:
    """The model state inside a training checkpoint (with EMA weights swapped in), or ``state`` itself."""
    if "model" in state and isinstance(state["model"], dict):
        inner = dict(state["model"])
        ema = state.get("ema")
        if use_ema and isinstance(ema, dict) and ema.get("shadow"):
            weights = dict(inner["state_dict"])
            weights.update(ema["shadow"])
            inner["state_dict"] = weights
        state = inner
    missing = [k for k in _REQUIRED if k not in state]
    if missing:
        msg = f"{where}: not a caloforge model checkpoint (missing {missing})"
        raise CheckpointError(msg)
    return state


def _rebuild(state: dict[str, Any], where: str) -> GenerativeModel:
    name = state["name"]
    if name not in MODELS:
        msg = f"{where}: unknown model {name!r}; registered models are {MODELS.names()}"
        raise CheckpointError(msg)
    try:
        geometry = Geometry.from_dict(state["geometry"])
        model = build_model(name, geometry, state["config"], n_conditions=int(state["n_conditions"]))
    except (ConfigError, KeyError, TypeError) as err:
        msg = f"{where}: cannot rebuild model {name!r} from its stored config ({err})"
        raise CheckpointError(msg) from None
    try:
        model.load_state_dict(state["state_dict"])
    except RuntimeError as err:
        msg = f"{where}: weights do not fit model {name!r} ({str(err).splitlines()[0]})"
        raise CheckpointError(msg) from None
    return model

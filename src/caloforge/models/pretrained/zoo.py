"""Reading the zoo: list the shipped models, verify a weights file's SHA-256, load a model by name.

The zoo is a directory holding ``manifest.json`` and one ``NAME.pt`` model state per entry
(written by :func:`caloforge.models.save_model`). By default it is this package's own directory,
shipped as package data; the ``zoo_dir`` argument or the ``CALOFORGE_ZOO_DIR`` environment
variable points elsewhere (meant for tests and for maintainers preparing a release). Nothing here
touches the network, and weights load with ``torch.load(weights_only=True)`` only after their hash
matched the manifest.

Example:
    >>> import tempfile
    >>> list_pretrained(zoo_dir=tempfile.mkdtemp())
    []
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caloforge.models.pretrained.entry import MANIFEST_FORMAT, PretrainedModel, ZooError

if TYPE_CHECKING:  # listing and verifying the zoo needs no PyTorch; loading does
    import torch

    from caloforge.models.base import GenerativeModel

__all__ = [
    "MANIFEST",
    "ZOO_DIR_ENV",
    "file_sha256",
    "get_pretrained",
    "list_pretrained",
    "load_pretrained",
    "pretrained_file",
    "read_manifest",
    "resolve_zoo_dir",
]

logger = logging.getLogger(__name__)

#: File name of the manifest inside the zoo directory.
MANIFEST = "manifest.json"
#: Environment variable that overrides the zoo directory (for tests and release preparation).
ZOO_DIR_ENV = "CALOFORGE_ZOO_DIR"


def resolve_zoo_dir(zoo_dir: str | Path | None = None) -> Path:
    """The zoo directory: ``zoo_dir`` if given, else ``$CALOFORGE_ZOO_DIR``, else the shipped package data."""
    if zoo_dir is not None:
        return Path(zoo_dir)
    env = os.environ.get(ZOO_DIR_ENV)
    if env:
        return Path(env)
    return Path(str(importlib.resources.files("caloforge.models.pretrained")))


def read_manifest(zoo_dir: str | Path | None = None) -> list[PretrainedModel]:
    """Every entry of the zoo's manifest, in manifest order; ``[]`` when the directory has no manifest.

    Raises:
        ZooError: Unreadable JSON, a wrong format tag, duplicate names or a malformed entry.
    """
    path = resolve_zoo_dir(zoo_dir) / MANIFEST
    if not path.is_file():
        return []
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        msg = f"{path}: cannot read the zoo manifest ({err})"
        raise ZooError(msg) from None
    if not isinstance(raw, dict) or raw.get("format") != MANIFEST_FORMAT or not isinstance(raw.get("models"), list):
        msg = f"{path}: not a caloforge zoo manifest (expected {{'format': {MANIFEST_FORMAT!r}, 'models': [...]}})"
        raise ZooError(msg)
    entries = []
    for i, item in enumerate(raw["models"]):
        try:
            entries.append(PretrainedModel.from_dict(item, where=f"models[{i}]"))
        except ZooError as err:
            msg = f"{path}: {err}"
            raise ZooError(msg) from None
    names = [e.name for e in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        msg = f"{path}: duplicate model names {duplicates}"
        raise ZooError(msg)
    return entries


def list_pretrained(*, zoo_dir: str | Path | None = None) -> list[PretrainedModel]:
    """The pretrained models in the zoo, sorted by name.

    Arguments:
        zoo_dir: Zoo directory (default: ``$CALOFORGE_ZOO_DIR`` or the shipped package data).

    Raises:
        ZooError: A malformed manifest.
    """
    return sorted(read_manifest(zoo_dir), key=lambda e: e.name)


def get_pretrained(name: str, *, zoo_dir: str | Path | None = None) -> PretrainedModel:
    """The manifest entry ``name``.

    Raises:
        KeyError: Unknown name; the message lists the available names.
        ZooError: A malformed manifest.
    """
    entries = {e.name: e for e in list_pretrained(zoo_dir=zoo_dir)}
    if name not in entries:
        where = resolve_zoo_dir(zoo_dir)
        available = f"available: {', '.join(entries)}" if entries else f"the zoo in {where} is empty"
        msg = f"no pretrained model {name!r}; {available} (see `caloforge zoo`)"
        raise KeyError(msg)
    return entries[name]


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, hex, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _bad_weights(msg: str) -> ValueError:
    """A :class:`~caloforge.models.CheckpointError` (a :class:`ZooError` on an install without PyTorch)."""
    try:
        from caloforge.models.serialization import CheckpointError
    except ModuleNotFoundError:
        return ZooError(msg)
    return CheckpointError(msg)


def pretrained_file(name: str, *, zoo_dir: str | Path | None = None, verify: bool = True) -> Path:
    """The weights file of entry ``name``, its SHA-256 checked against the manifest.

    Raises:
        KeyError: Unknown name.
        CheckpointError: The file is missing, or its size or SHA-256 differs from the manifest's.
    """
    entry = get_pretrained(name, zoo_dir=zoo_dir)
    path = resolve_zoo_dir(zoo_dir) / entry.file
    if not path.is_file():
        msg = f"{path}: weights of pretrained model {name!r} are missing from the zoo"
        raise _bad_weights(msg)
    if verify:
        digest = file_sha256(path)
        if digest != entry.sha256:
            msg = (
                f"{path}: SHA-256 {digest[:16]}… does not match the manifest's {entry.sha256[:16]}… for pretrained "
                f"model {name!r}; the file is corrupted or was replaced, so it is not loaded (reinstall caloforge "
                "or add the model again)"
            )
            raise _bad_weights(msg)
    return path


def load_pretrained(
    name: str, *, zoo_dir: str | Path | None = None, map_location: str | torch.device = "cpu"
) -> GenerativeModel:
    """Loads the pretrained model ``name`` (verified, weights only, no network).

    Flow-matching entries decode with the manifest's default sampler; change it afterwards with
    :func:`caloforge.models.diffusion.with_sampler`.

    Arguments:
        name: Zoo name (see :func:`list_pretrained` or ``caloforge zoo``).
        zoo_dir: Zoo directory (default: ``$CALOFORGE_ZOO_DIR`` or the shipped package data).
        map_location: Device the weights are loaded onto.

    Returns:
        The model in eval mode.

    Raises:
        KeyError: Unknown name (the message lists the available ones).
        CheckpointError: Missing file, SHA-256 mismatch, or weights that do not match the entry.
    """
    from caloforge.models.serialization import CheckpointError, load_model, registered_name

    entry = get_pretrained(name, zoo_dir=zoo_dir)
    path = pretrained_file(name, zoo_dir=zoo_dir)
    model = load_model(path, map_location=map_location)
    held = registered_name(model)
    if held != entry.model or model.geometry.name != entry.geometry:
        msg = (
            f"{path}: holds a {held!r} model for geometry {model.geometry.name!r}, but the manifest "
            f"describes {entry.model!r} for {entry.geometry!r}"
        )
        raise CheckpointError(msg)
    if entry.sampler is not None:
        model = _with_default_sampler(model, entry)
    logger.info("loaded pretrained model %s (%s)", name, path)
    return model


def _with_default_sampler(model: GenerativeModel, entry: PretrainedModel) -> GenerativeModel:
    """``model`` decoding with the entry's default sampler (unchanged when its config already does)."""
    from caloforge.models.diffusion import FlowMatching, with_sampler
    from caloforge.solvers import parse_sampler

    assert entry.sampler is not None
    if not isinstance(model, FlowMatching):
        msg = f"pretrained model {entry.name!r} has a default sampler but is a {type(model).__name__}"
        raise ZooError(msg)
    solver, steps = parse_sampler(entry.sampler.spec)
    if (model.config.solver, model.config.n_steps) == (solver, steps):
        return model
    return with_sampler(model, solver, steps).eval()

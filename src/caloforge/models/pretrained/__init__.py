"""The pretrained-model zoo: shipped weights loaded by name, verified against their SHA-256.

This directory is both the code and the zoo: ``manifest.json`` lists the models and each
``NAME.pt`` holds one model state (weights only). ``docs/model-zoo.md`` describes how a
maintainer adds a model (``tools/add_to_zoo.py``, which calls :func:`add_to_zoo`).

* :mod:`.entry` — :class:`PretrainedModel` and its parts, the manifest schema.
* :mod:`.zoo` — :func:`list_pretrained`, :func:`load_pretrained`, hash verification.
* :mod:`.add` — :func:`add_to_zoo`, :func:`metrics_from_report`.
* :mod:`.card` — :func:`render_card`, a model-card draft from an entry.

Example:
    >>> import tempfile
    >>> load_pretrained("no-such-model", zoo_dir=tempfile.mkdtemp())
    Traceback (most recent call last):
    ...
    KeyError: "no pretrained model 'no-such-model'; the zoo in ... is empty (see `caloforge zoo`)"
"""

from __future__ import annotations

from caloforge.models.availability import TORCH_AVAILABLE, lazy_torch_names
from caloforge.models.pretrained.card import render_card
from caloforge.models.pretrained.entry import PretrainedModel, SamplerInfo, TrainingInfo, ZooError, ZooMetrics
from caloforge.models.pretrained.zoo import (
    ZOO_DIR_ENV,
    get_pretrained,
    list_pretrained,
    load_pretrained,
    pretrained_file,
    resolve_zoo_dir,
)

__all__ = [
    "ZOO_DIR_ENV",
    "PretrainedModel",
    "SamplerInfo",
    "TrainingInfo",
    "ZooError",
    "ZooMetrics",
    "add_to_zoo",
    "get_pretrained",
    "list_pretrained",
    "load_pretrained",
    "metrics_from_report",
    "pretrained_file",
    "render_card",
    "resolve_zoo_dir",
]

# Listing and verifying the zoo needs no PyTorch (a light install); adding a model does.
if TORCH_AVAILABLE:
    from caloforge.models.pretrained.add import add_to_zoo, metrics_from_report
else:
    __getattr__ = lazy_torch_names("caloforge.models.pretrained", {"add_to_zoo", "metrics_from_report"})

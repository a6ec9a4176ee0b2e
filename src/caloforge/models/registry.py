"""The ``MODELS`` registry and :func:`build_model`, which rebuilds any registered model from its config.

Every model class takes ``(geometry, config, *, n_conditions=1)`` where ``config`` is an instance of
its ``config_class`` (a frozen dataclass); ``build_model`` accepts the config as a dict too, which is
how run configs and checkpoints store it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from caloforge.config import from_dict
from caloforge.geometry import Geometry
from caloforge.models.base import GenerativeModel
from caloforge.registry import Registry

__all__ = ["MODELS", "build_model"]

MODELS: Registry[type[GenerativeModel]] = Registry("model")


def build_model(
    name: str, geometry: Geometry, config: Mapping[str, Any] | Any = None, *, n_conditions: int = 1
) -> GenerativeModel:
    """Instantiates the registered model ``name``.

    Arguments:
        name: Registry name (``"vae"``, ``"wgan"``, ...).
        geometry: Readout geometry.
        config: The model's config dataclass, a dict of its fields, or ``None`` for defaults.
        n_conditions: 1 (energy) or 2 (energy and angle).

    Raises:
        KeyError: Unknown model name (the message lists the choices).
        caloforge.config.ConfigError: Invalid config fields.
    """
    cls = MODELS.get(name)
    if isinstance(config, Mapping):
        config = from_dict(cls.config_class, config, where=f"model[{name}]")
    return cls(geometry, config, n_conditions=n_conditions)

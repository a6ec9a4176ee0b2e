"""What an exported model says about itself: the model card stored in the ONNX metadata properties.

The card is plain JSON-able data (no torch), so the ONNX Runtime path can rebuild the geometry and
knows the input layout without PyTorch.

Example:
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=2, n_alpha=1, r_edges=[0, 1, 2])
    >>> card = ModelCard("vae", "caloforge", g, noise_dim=8, n_conditions=1)
    >>> ModelCard.from_props(card.to_props()) == card
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from caloforge.geometry import Geometry

__all__ = ["PREFIX", "ModelCard", "ModelCardError"]

#: Prefix of caloforge's keys in the ONNX ``metadata_props``.
PREFIX = "caloforge."


class ModelCardError(ValueError):
    """An exported model carries no (or an unreadable) caloforge model card."""


@dataclass(frozen=True)
class ModelCard:
    """Description of an exported generation graph.

    Attributes:
        model: Registry name of the model family (``"vae"``, ``"wgan"``, ...).
        signature: ``"caloforge"`` or ``"par04"`` (see :mod:`caloforge.export.graph`).
        geometry: Readout geometry of the output voxels.
        noise_dim: Width of the noise input.
        n_conditions: 1 (energy) or 2 (energy and angle).
        precision: ``"fp32"``, ``"fp16"`` or ``"int8"``.
        extra: Free string metadata (caloforge version, parity results, Par04 settings, ...).
    """

    model: str
    signature: str
    geometry: Geometry
    noise_dim: int
    n_conditions: int = 1
    precision: str = "fp32"
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def to_props(self) -> dict[str, str]:
        """String key/value pairs for the ONNX ``metadata_props`` (keys prefixed ``caloforge.``)."""
        props = {
            "model": self.model,
            "signature": self.signature,
            "geometry": json.dumps(self.geometry.to_dict()),
            "noise_dim": str(self.noise_dim),
            "n_conditions": str(self.n_conditions),
            "precision": self.precision,
            "extra": json.dumps(self.extra),
        }
        return {PREFIX + key: value for key, value in props.items()}

    @classmethod
    def from_props(cls, props: Mapping[str, str], *, source: str = "model") -> ModelCard:
        """Reads a card back from ``metadata_props``.

        Raises:
            ModelCardError: If keys are missing or unreadable (the model was not exported by caloforge).
        """
        get: dict[str, Any] = {k.removeprefix(PREFIX): v for k, v in props.items() if k.startswith(PREFIX)}
        try:
            return cls(
                model=str(get["model"]),
                signature=str(get["signature"]),
                geometry=Geometry.from_dict(json.loads(get["geometry"])),
                noise_dim=int(get["noise_dim"]),
                n_conditions=int(get["n_conditions"]),
                precision=str(get.get("precision", "fp32")),
                extra=dict(json.loads(get.get("extra", "{}"))),
            )
        except (KeyError, ValueError, TypeError) as err:
            msg = (
                f"{source}: no readable caloforge model card in its metadata ({err!r}); "
                "export models with `caloforge export`"
            )
            raise ModelCardError(msg) from None

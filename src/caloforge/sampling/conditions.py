"""What to generate: a model from a checkpoint plus the conditions, from an energy spec or a reference file.

Conditions from an energy spec are a :class:`SpecConditions`: they are drawn chunk by chunk while
generating, so that memory does not grow with the number of showers (``np.asarray`` materialises them).

Example:
    >>> import numpy as np
    >>> conditions_from_spec("fixed:10", 3, n_conditions=1, seed=0).ravel().tolist()
    [10000.0, 10000.0, 10000.0]
    >>> stream = SpecConditions(parse_energy_spec("log-uniform:1:100"), 5, n_conditions=1, seed=0)
    >>> [c.shape for c in stream.chunks(2)], bool(np.all(np.asarray(stream) == np.concatenate(list(stream.chunks(3)))))
    ([(2, 1), (2, 1), (1, 1)], True)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from caloforge.data import EnergySpec, ShowerFile, parse_energy_spec

if TYPE_CHECKING:
    from caloforge.models.base import GenerativeModel

__all__ = ["SpecConditions", "conditions_from_spec", "load_generation_conditions"]


def _with_angles(
    energies: NDArray[np.float32],
    angles: NDArray[np.float32] | None,
    n_conditions: int,
    angle: float | None,
    where: str,
) -> NDArray[np.float32]:
    if n_conditions == 1:
        return energies[:, None].astype(np.float32)
    if angle is not None:
        angles = np.full(len(energies), angle, dtype=np.float32)
    if angles is None:
        msg = f"the model is conditioned on the incidence angle but {where} gives none; pass --angle RAD"
        raise ValueError(msg)
    return np.stack([energies, angles], axis=1).astype(np.float32)


@dataclass(frozen=True)
class SpecConditions:
    """Raw conditions (n, C) drawn from an energy spec chunk by chunk (memory independent of ``n``).

    The values depend on ``seed`` only (not on the chunk size) and equal :func:`conditions_from_spec`.

    Attributes:
        spec: Incident-energy distribution.
        n: Number of showers.
        n_conditions: Condition columns of the model (1: energy; 2: energy and the fixed ``angle``).
        seed: Seed of the energy sampling.
        angle: Incidence angle in rad for angle-conditioned models.

    Raises:
        ValueError: ``n`` below 1, or an angle-conditioned model without ``angle``.
    """

    spec: EnergySpec
    n: int
    n_conditions: int = 1
    seed: int = 0
    angle: float | None = None

    def __post_init__(self) -> None:
        if self.n < 1:
            msg = f"number of showers must be at least 1, got {self.n}"
            raise ValueError(msg)
        _with_angles(np.ones(1, np.float32), None, self.n_conditions, self.angle, "the energy spec")

    def __len__(self) -> int:
        return self.n

    @property
    def shape(self) -> tuple[int, int]:
        """(n, C)."""
        return (self.n, self.n_conditions)

    @property
    def bounds_mev(self) -> tuple[float, float]:
        """Smallest and largest energy the spec can produce, MeV."""
        return self.spec.range_mev

    def chunks(self, size: int) -> Iterator[NDArray[np.float32]]:
        """Consecutive (≤ size, C) float32 blocks of the conditions."""
        for energies in self.spec.stream(self.n, np.random.default_rng(self.seed), size):
            yield _with_angles(energies, None, self.n_conditions, self.angle, "the energy spec")

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> NDArray[Any]:
        out = np.concatenate(list(self.chunks(1 << 16)))
        return out if dtype is None else out.astype(dtype)


def conditions_from_spec(
    spec: str, n: int, *, n_conditions: int, seed: int = 0, angle: float | None = None
) -> NDArray[np.float32]:
    """Raw conditions (n, C) with energies drawn from ``spec`` (GeV, e.g. ``log-uniform:1:100``).

    Raises:
        ValueError: Bad spec or count, or an angle-conditioned model without ``angle``.
    """
    return np.asarray(SpecConditions(parse_energy_spec(spec), n, n_conditions, seed, angle))


def load_generation_conditions(
    checkpoint: str | Path,
    *,
    energies: str | None = None,
    like: str | Path | None = None,
    n: int | None = None,
    angle: float | None = None,
    seed: int = 0,
    use_ema: bool = True,
) -> tuple[GenerativeModel, NDArray[np.float32] | SpecConditions]:
    """Loads the model and the conditions to generate for (drawn lazily for an energy spec).

    Arguments:
        checkpoint: Training checkpoint or saved model.
        energies: Energy spec (GeV); needs ``n``.
        like: Reference CaloChallenge file whose energies (and angles) are reproduced; its geometry
            must match the model's.
        n: Number of showers (with ``like``: the first ``n`` events).
        angle: Fixed incidence angle (rad) for angle-conditioned models.
        seed: Seed of the energy sampling.
        use_ema: Use EMA weights when the checkpoint has them.

    Raises:
        caloforge.models.CheckpointError: Unreadable checkpoint or geometry mismatch with ``like``.
        caloforge.data.ShowerFileError: Unreadable reference file.
        ValueError: Neither or both of ``energies`` and ``like``; missing ``n`` or angles.
    """
    from caloforge.models.serialization import load_model

    if (energies is None) == (like is None):
        msg = "give exactly one of an energy spec or a reference file"
        raise ValueError(msg)
    if like is None:
        if n is None:
            msg = "an energy spec needs the number of showers n"
            raise ValueError(msg)
        spec = parse_energy_spec(str(energies))
        model = load_model(checkpoint, use_ema=use_ema)
        return model, SpecConditions(spec, n, model.n_conditions, seed, angle)
    with ShowerFile(like) as ref:
        model = load_model(checkpoint, use_ema=use_ema, geometry=ref.geometry)
        stop = len(ref) if n is None else min(n, len(ref))
        angles = None if ref.angles is None else ref.angles[:stop]
        cond = _with_angles(ref.energies[:stop], angles, model.n_conditions, angle, f"{like}")
    return model, cond

"""What to generate: a model from a checkpoint plus the conditions, from an energy spec or a reference file.

Example:
    >>> import numpy as np
    >>> conditions_from_spec("fixed:10", 3, n_conditions=1, seed=0).ravel().tolist()
    [10000.0, 10000.0, 10000.0]
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from caloforge.data import ShowerFile, parse_energy_spec

if TYPE_CHECKING:
    from caloforge.models.base import GenerativeModel

__all__ = ["conditions_from_spec", "load_generation_conditions"]


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


def conditions_from_spec(
    spec: str, n: int, *, n_conditions: int, seed: int = 0, angle: float | None = None
) -> NDArray[np.float32]:
    """Raw conditions (n, C) with energies drawn from ``spec`` (GeV, e.g. ``log-uniform:1:100``).

    Raises:
        ValueError: Bad spec or count, or an angle-conditioned model without ``angle``.
    """
    if n < 1:
        msg = f"number of showers must be at least 1, got {n}"
        raise ValueError(msg)
    energies = parse_energy_spec(spec).sample(n, np.random.default_rng(seed))
    return _with_angles(energies, None, n_conditions, angle, f"energy spec {spec!r}")


def load_generation_conditions(
    checkpoint: str | Path,
    *,
    energies: str | None = None,
    like: str | Path | None = None,
    n: int | None = None,
    angle: float | None = None,
    seed: int = 0,
    use_ema: bool = True,
) -> tuple[GenerativeModel, NDArray[np.float32]]:
    """Loads the model and the conditions to generate for.

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
        model = load_model(checkpoint, use_ema=use_ema)
        return model, conditions_from_spec(str(energies), n, n_conditions=model.n_conditions, seed=seed, angle=angle)
    with ShowerFile(like) as ref:
        model = load_model(checkpoint, use_ema=use_ema, geometry=ref.geometry)
        stop = len(ref) if n is None else min(n, len(ref))
        angles = None if ref.angles is None else ref.angles[:stop]
        cond = _with_angles(ref.energies[:stop], angles, model.n_conditions, angle, f"{like}")
    return model, cond

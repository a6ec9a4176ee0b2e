"""Per-shower log-likelihoods under a flow model, in batches.

Any model with a ``log_prob(showers, conditions) -> (B,)`` method can score showers (the CaloFlow
teachers do); the log-likelihoods serve anomaly checks (low values flag unusual showers) and
reweighting between models or data sets. This module computes on showers in memory; scoring a
file chunk by chunk is :func:`caloforge.sampling.score.score_file`, and score files are written by
:mod:`caloforge.data.scores`.

Example:
    >>> import numpy as np, torch
    >>> from caloforge.data import ShowerData
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=3, n_alpha=2, r_edges=[0, 1, 2])
    >>> from caloforge.models.flows import CaloFlow
    >>> model = CaloFlow(g, CaloFlow.smoke_config())
    >>> data = ShowerData(np.full(5, 1e3, np.float32), np.random.rand(5, 12).astype(np.float32) * 50, g)
    >>> model.fit_preprocessing(torch.from_numpy(data.showers), torch.from_numpy(data.conditions()))
    >>> score_showers(model, data, batch_size=2).shape
    (5,)
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor

from caloforge.data import ShowerData

__all__ = ["DensityModel", "score_showers"]


class DensityModel(Protocol):
    """A model that evaluates log-likelihoods of showers."""

    n_conditions: int

    def log_prob(self, showers: Tensor, conditions: Tensor) -> Tensor:
        """(B, n_voxels) MeV, (B, C) raw → (B,) nats."""
        ...  # pragma: no cover


def _conditions(data: ShowerData, n_conditions: int) -> NDArray[np.float32]:
    conditions = data.conditions()
    if conditions.shape[1] < n_conditions:
        msg = f"the model needs {n_conditions} conditions (energy and angle) but the file has no angles"
        raise ValueError(msg)
    return conditions[:, :n_conditions]


def _device_of(model: object) -> torch.device:
    parameters = getattr(model, "parameters", None)
    for tensor in parameters() if callable(parameters) else ():
        return tensor.device  # type: ignore[no-any-return]
    return torch.device("cpu")


@torch.no_grad()
def score_showers(model: DensityModel, data: ShowerData, *, batch_size: int = 1000) -> NDArray[np.float64]:
    """Log-likelihood of every shower in ``data``.

    Arguments:
        model: A model with ``log_prob`` (in eval mode, on the CPU or its device).
        data: Showers and their conditions.
        batch_size: Showers per ``log_prob`` call.

    Returns:
        log p(shower | conditions), (N,), nats.

    Raises:
        ValueError: The model needs angles and ``data`` has none, or ``batch_size`` < 1.
    """
    if batch_size < 1:
        msg = f"batch_size must be at least 1, got {batch_size}"
        raise ValueError(msg)
    conditions = _conditions(data, model.n_conditions)
    device = _device_of(model)
    out = np.empty(len(data), dtype=np.float64)
    for start in range(0, len(data), batch_size):
        stop = min(start + batch_size, len(data))
        showers = torch.from_numpy(data.showers[start:stop]).to(device)
        cond = torch.from_numpy(conditions[start:stop]).to(device)
        out[start:stop] = model.log_prob(showers, cond).double().cpu().numpy()
    return out

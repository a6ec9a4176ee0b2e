"""The context of a latent KDE: what a model's latent is drawn given (log E_inc [, angle]).

Most models decode standard-normal noise. A model that samples its latent from a
:class:`~caloforge.nn.kde.LatentKDE` of encoded training showers, fitted jointly with the conditions,
returns it from :meth:`GenerativeModel.latent_kde_for_sampling`; every generation path then calls
:meth:`GenerativeModel.sample_noise_given`, whose first ``kde.latent_dim`` columns are the KDE draw
given :func:`kde_context` of the raw conditions (the rest standard normal). The ONNX Runtime side
(:mod:`caloforge.export.latent_sampler`) computes the same context in numpy.

Example:
    >>> import torch
    >>> kde_context(torch.tensor([[1000.0, 0.2]]))
    tensor([[6.9078, 0.2000]])
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["kde_context"]


def kde_context(conditions: Tensor) -> Tensor:
    """The KDE context of raw conditions (B, C): ``log(E_inc / MeV)`` [, angle in rad], (B, C)."""
    conditions = conditions.float()
    return torch.cat([torch.log(conditions[:, :1]), conditions[:, 1:]], dim=1)

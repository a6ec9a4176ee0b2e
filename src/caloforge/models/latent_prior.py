"""Models whose generation noise depends on the conditions (a latent drawn from a KDE given E_inc).

Most models decode standard-normal noise (:meth:`GenerativeModel.sample_noise`). A model that samples
its latent from a :class:`~caloforge.nn.kde.LatentKDE` of encoded training showers, fitted jointly
with the conditions, needs the conditions to draw it: it implements :class:`ConditionalNoise`, and
the generation path (``ModelProducer``) calls :meth:`ConditionalNoise.sample_noise_given` instead.
The first ``kde.latent_dim`` noise columns are the KDE draw, the rest standard normal; the KDE's
context is :func:`kde_context` of the raw conditions, which the ONNX Runtime side
(:mod:`caloforge.export.latent_sampler`) computes the same way in numpy.

Example:
    >>> import torch
    >>> kde_context(torch.tensor([[1000.0, 0.2]]))
    tensor([[6.9078, 0.2000]])
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import Tensor

__all__ = ["ConditionalNoise", "kde_context"]


def kde_context(conditions: Tensor) -> Tensor:
    """The KDE context of raw conditions (B, C): ``log(E_inc / MeV)`` [, angle in rad], (B, C)."""
    conditions = conditions.float()
    return torch.cat([torch.log(conditions[:, :1]), conditions[:, 1:]], dim=1)


@runtime_checkable
class ConditionalNoise(Protocol):
    """A model whose decode noise is drawn given the conditions."""

    def sample_noise_given(self, conditions: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        """Noise (B, noise_dim) for raw conditions (B, C), on their device."""
        ...

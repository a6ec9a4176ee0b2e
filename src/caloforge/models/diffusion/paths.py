"""Probability paths of conditional flow matching: where x_t lies between noise and data, and its velocity.

A path interpolates between a noise sample x0 ~ N(0, 1) at t = 0 and a data sample x1 at t = 1.
The network is trained to regress the path's velocity u_t(x_t | x0, x1); integrating the learned
field from t = 0 to 1 with any solver of :mod:`caloforge.solvers` generates data. Paths
depend on torch only, so they can be swapped without touching networks or solvers.

Example:
    >>> import torch
    >>> path = LinearPath()
    >>> x0, x1 = torch.zeros(2, 3), torch.ones(2, 3)
    >>> path.sample(x0, x1, torch.tensor([0.0, 1.0]))[:, 0].tolist()
    [0.0, 1.0]
    >>> path.velocity(x0, x1, torch.tensor([0.3, 0.7]))[0].tolist()
    [1.0, 1.0, 1.0]
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

__all__ = ["LinearPath", "TimeSampling", "sample_times"]

TimeSampling = Literal["uniform", "logit-normal"]


def _expand(t: Tensor, x: Tensor) -> Tensor:
    """t (B,) → (B, 1, …) broadcastable against x (B, *)."""
    return t.reshape(-1, *([1] * (x.dim() - 1))).to(x.dtype)


class LinearPath:
    """The rectified-flow / optimal-transport path x_t = (1 − (1 − σ_min)·t)·x0 + t·x1.

    With ``sigma_min = 0`` this is the rectified flow of Liu et al.; with ``sigma_min > 0`` it is the
    OT conditional path of Lipman et al., whose end point keeps a Gaussian of width σ_min around x1.
    The target velocity x1 − (1 − σ_min)·x0 does not depend on t, so the paths are straight.

    Arguments:
        sigma_min: Width of the conditional path at t = 1.

    Raises:
        ValueError: If ``sigma_min`` is not in [0, 1).

    References:
        Lipman et al., "Flow Matching for Generative Modeling", https://arxiv.org/abs/2210.02747

        Liu, Gong, Liu, "Flow Straight and Fast: Learning to Generate and Transfer Data with
        Rectified Flow", https://arxiv.org/abs/2209.03003
    """

    def __init__(self, sigma_min: float = 0.0) -> None:
        if not 0.0 <= sigma_min < 1.0:
            msg = f"sigma_min must be in [0, 1), got {sigma_min}"
            raise ValueError(msg)
        self.sigma_min = sigma_min

    def sample(self, x0: Tensor, x1: Tensor, t: Tensor) -> Tensor:
        """x_t for noise x0 (B, *), data x1 (B, *) and times t (B,) in [0, 1]."""
        tt = _expand(t, x0)
        return (1.0 - (1.0 - self.sigma_min) * tt) * x0 + tt * x1

    def velocity(self, x0: Tensor, x1: Tensor, t: Tensor) -> Tensor:  # noqa: ARG002
        """Target velocity dx_t/dt = x1 − (1 − σ_min)·x0, (B, *)."""
        return x1 - (1.0 - self.sigma_min) * x0

    def __repr__(self) -> str:
        return f"LinearPath(sigma_min={self.sigma_min})"


def sample_times(
    n: int,
    kind: TimeSampling = "uniform",
    *,
    device: torch.device | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Training times t ∈ (0, 1), (n,).

    ``"logit-normal"`` draws sigmoid(N(0, 1)), which puts more weight on the middle of the path
    where the velocity is hardest to predict (Esser et al., https://arxiv.org/abs/2403.03206).

    Raises:
        ValueError: Unknown ``kind``.
    """
    if kind not in ("uniform", "logit-normal"):
        msg = f"unknown time sampling {kind!r}; choices are ['logit-normal', 'uniform']"
        raise ValueError(msg)
    if kind == "uniform":
        return torch.rand(n, device=device, generator=generator)
    return torch.sigmoid(torch.randn(n, device=device, generator=generator))

"""Heun's method (explicit trapezoidal rule): two network evaluations per step, second order.

Used by EDM (Karras et al., https://arxiv.org/abs/2206.00364) as its deterministic sampler.

Example:
    >>> import torch
    >>> from caloforge.solvers.base import solve
    >>> x = solve(lambda x, t: 2 * t[:, None], torch.zeros(1, 1), Heun(), 1)  # dx/dt = 2t → t²
    >>> float(x[0, 0])
    1.0
"""

from __future__ import annotations

from typing import ClassVar

from caloforge.solvers.base import ExplicitRungeKutta

__all__ = ["Heun"]


class Heun(ExplicitRungeKutta):
    """Euler predictor, then the average of the slopes at both ends of the step.

    Arguments:
        t_start: Start time.
        t_end: End time.
    """

    n_stages: ClassVar[int] = 2
    order: ClassVar[int] = 2
    a = ((1.0,),)
    b = (0.5, 0.5)
    c = (0.0, 1.0)

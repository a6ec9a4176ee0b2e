"""Explicit midpoint rule: two network evaluations per step, second order.

Example:
    >>> import torch
    >>> from caloforge.solvers.base import solve
    >>> x = solve(lambda x, t: 2 * t[:, None], torch.zeros(1, 1), Midpoint(), 1)  # dx/dt = 2t → t²
    >>> float(x[0, 0])
    1.0
"""

from __future__ import annotations

from typing import ClassVar

from caloforge.solvers.base import ExplicitRungeKutta

__all__ = ["Midpoint"]


class Midpoint(ExplicitRungeKutta):
    """Half an Euler step, then the full step with the slope at the midpoint.

    Arguments:
        t_start: Start time.
        t_end: End time.
    """

    n_stages: ClassVar[int] = 2
    order: ClassVar[int] = 2
    a = ((0.5,),)
    b = (0.0, 1.0)
    c = (0.0, 0.5)

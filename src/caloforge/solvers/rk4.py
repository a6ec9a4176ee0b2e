"""The classical fourth-order Runge–Kutta method: four network evaluations per step.

Example:
    >>> import torch
    >>> from caloforge.solvers.base import solve
    >>> x = solve(lambda x, t: 4 * t[:, None] ** 3, torch.zeros(1, 1), RK4(), 1)  # → t⁴
    >>> round(float(x[0, 0]), 6)
    1.0
"""

from __future__ import annotations

from typing import ClassVar

from caloforge.solvers.base import ExplicitRungeKutta

__all__ = ["RK4"]


class RK4(ExplicitRungeKutta):
    """Slopes at the start, twice at the midpoint and at the end, weighted 1/6, 1/3, 1/3, 1/6.

    Arguments:
        t_start: Start time.
        t_end: End time.
    """

    n_stages: ClassVar[int] = 4
    order: ClassVar[int] = 4
    a = ((0.5,), (0.0, 0.5), (0.0, 0.0, 1.0))
    b = (1.0 / 6.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 6.0)
    c = (0.0, 0.5, 0.5, 1.0)

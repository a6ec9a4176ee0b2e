"""Explicit Euler: one network evaluation per step, first order.

Example:
    >>> import torch
    >>> from caloforge.solvers.base import solve
    >>> float(solve(lambda x, t: torch.ones_like(x), torch.zeros(1), Euler(), 3)[0])
    1.0
"""

from __future__ import annotations

from typing import ClassVar

from caloforge.solvers.base import ExplicitRungeKutta

__all__ = ["Euler"]


class Euler(ExplicitRungeKutta):
    """x_{n+1} = x_n + h·v(x_n, t_n). Exact for straight (rectified) paths with constant velocity.

    Arguments:
        t_start: Start time.
        t_end: End time.
    """

    n_stages: ClassVar[int] = 1
    order: ClassVar[int] = 1
    a = ()
    b = (1.0,)
    c = (0.0,)

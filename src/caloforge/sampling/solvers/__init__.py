"""Fixed-step ODE solvers behind one ``set_timesteps`` / ``step`` contract, registered in ``SOLVERS``.

The solvers depend on torch only, so models (flow matching integrates its velocity field at
generation time) may import them without importing the rest of :mod:`caloforge.sampling`.

Example:
    >>> SOLVERS.names()
    ['euler', 'heun', 'midpoint', 'rk4']
"""

from __future__ import annotations

from caloforge.registry import Registry
from caloforge.sampling.solvers.base import ExplicitRungeKutta, ODESolver, StepOutput, VelocityFn, solve
from caloforge.sampling.solvers.euler import Euler
from caloforge.sampling.solvers.heun import Heun
from caloforge.sampling.solvers.midpoint import Midpoint
from caloforge.sampling.solvers.rk4 import RK4

__all__ = [
    "RK4",
    "SOLVERS",
    "Euler",
    "ExplicitRungeKutta",
    "Heun",
    "Midpoint",
    "ODESolver",
    "StepOutput",
    "VelocityFn",
    "build_solver",
    "parse_sampler",
    "solve",
]

SOLVERS: Registry[type[ODESolver]] = Registry("solver")
SOLVERS.add("euler", Euler)
SOLVERS.add("heun", Heun)
SOLVERS.add("midpoint", Midpoint)
SOLVERS.add("rk4", RK4)


def build_solver(name: str, *, t_start: float = 0.0, t_end: float = 1.0) -> ODESolver:
    """A fresh solver registered as ``name``.

    Raises:
        KeyError: Unknown solver (the message lists the choices).
    """
    return SOLVERS.get(name)(t_start, t_end)


def parse_sampler(spec: str) -> tuple[str, int]:
    """``"SOLVER:STEPS"`` → (solver name, number of steps), e.g. ``"euler:4"`` → ``("euler", 4)``.

    Example:
        >>> parse_sampler("midpoint:16")
        ('midpoint', 16)

    Raises:
        ValueError: Not of that form, fewer than one step, or an unknown solver.
    """
    solver, _, steps = spec.partition(":")
    if not steps.isdigit() or int(steps) < 1:
        msg = f"a sampler must look like SOLVER:STEPS (e.g. euler:4), got {spec!r}"
        raise ValueError(msg)
    if solver not in SOLVERS:
        msg = f"unknown solver {solver!r} in {spec!r}; choices are {SOLVERS.names()}"
        raise ValueError(msg)
    return solver, int(steps)

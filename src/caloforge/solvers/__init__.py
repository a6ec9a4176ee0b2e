"""Fixed-step ODE solvers behind one ``set_timesteps`` / ``step`` contract, registered in ``SOLVERS``.

The solvers depend on torch only, so models (flow matching integrates its velocity field at
generation time) may import them without importing the rest of :mod:`caloforge.sampling`.

Example:
    >>> SOLVERS.names()
    ['euler', 'heun', 'midpoint', 'rk4']
"""

from __future__ import annotations

from caloforge.registry import Registry
from caloforge.solvers.base import ExplicitRungeKutta, ODESolver, StepOutput, VelocityFn, solve
from caloforge.solvers.euler import Euler
from caloforge.solvers.heun import Heun
from caloforge.solvers.midpoint import Midpoint
from caloforge.solvers.rk4 import RK4

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
    "check_solver",
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


def check_solver(name: str, what: str = "solver") -> str:
    """``name`` if it is a registered solver.

    Raises:
        ValueError: Unknown solver (the message lists the choices).
    """
    if name not in SOLVERS:
        msg = f"unknown {what} {name!r}; choices are {SOLVERS.names()}"
        raise ValueError(msg)
    return name


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
    return check_solver(solver, f"solver in {spec!r}:"), int(steps)

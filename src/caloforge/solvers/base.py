"""The solver contract shared by every ODE sampler, and the driver that runs one.

A solver integrates dx/dt = v(x, t) from ``t_start`` to ``t_end`` in ``n_steps`` steps. It follows
the diffusers scheduler contract: :meth:`ODESolver.set_timesteps` fixes the grid, and
:attr:`ODESolver.timesteps` lists the times at which the network is *evaluated* (one per stage of
every step, so a 2-stage solver lists ``2·n_steps`` times); :meth:`ODESolver.step` takes the
network output at ``(t, x)`` and returns the state at which the network is evaluated next.
Multi-stage methods keep the step's base state and stage derivatives between calls, which lets
any network, path or sampler be swapped independently and keeps the loop traceable for export.

Every explicit Runge–Kutta method is a :class:`ExplicitRungeKutta` subclass that only declares its
Butcher tableau (``a``, ``b``, ``c``); the module depends on torch alone.

Example:
    >>> import torch
    >>> from caloforge.solvers import SOLVERS
    >>> x1 = solve(lambda x, t: -x, torch.ones(3), SOLVERS.get("rk4")(), 4)
    >>> round(float(x1[0]), 4)  # exact: exp(-1) = 0.3679
    0.3679
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

__all__ = ["ExplicitRungeKutta", "ODESolver", "StepOutput", "VelocityFn", "solve"]

#: A velocity field v(x, t): state (B, *) and time (B,) → velocity (B, *).
VelocityFn = Callable[[Tensor, Tensor], Tensor]


@dataclass
class StepOutput:
    """What :meth:`ODESolver.step` returns.

    Attributes:
        prev_sample: The state at which the network is evaluated next (diffusers' name); after the
            last call, the solution at ``t_end``. Same shape as the input state.
        step_finished: True when this call completed a full step (all stages), so that
            ``prev_sample`` lies on the step grid.
    """

    prev_sample: Tensor
    step_finished: bool


class ODESolver:
    """Base class of the fixed-step ODE solvers.

    Arguments:
        t_start: Start time of the integration (flow matching: 0, the noise end).
        t_end: End time of the integration (flow matching: 1, the data end).

    Raises:
        ValueError: If ``t_start == t_end``.
    """

    #: Network evaluations per step.
    n_stages: ClassVar[int] = 1
    #: Global order of accuracy.
    order: ClassVar[int] = 1

    def __init__(self, t_start: float = 0.0, t_end: float = 1.0) -> None:
        if t_start == t_end:
            msg = f"t_start and t_end must differ, got {t_start}"
            raise ValueError(msg)
        self.t_start = float(t_start)
        self.t_end = float(t_end)
        self.grid: list[float] = []
        self.timesteps = torch.zeros(0)
        self._index = 0

    def set_timesteps(self, n_steps: int) -> None:
        """Fixes a uniform grid of ``n_steps`` steps and resets the solver's state.

        Raises:
            ValueError: If ``n_steps < 1``.
        """
        if n_steps < 1:
            msg = f"the number of steps must be at least 1, got {n_steps}"
            raise ValueError(msg)
        h = (self.t_end - self.t_start) / n_steps
        self.grid = [self.t_start + i * h for i in range(n_steps)] + [self.t_end]
        self.timesteps = torch.tensor(self._stage_times(), dtype=torch.float64)
        self._index = 0

    @property
    def n_evaluations(self) -> int:
        """Network evaluations for the current grid (``n_stages · n_steps``)."""
        return int(self.timesteps.numel())

    def _stage_times(self) -> list[float]:
        return self.grid[:-1]

    def step(self, model_output: Tensor, t: float | Tensor, x: Tensor) -> StepOutput:
        """Advances by one stage given the network output ``model_output`` = v(x, t).

        Arguments:
            model_output: Velocity at ``(x, t)``, same shape as ``x``.
            t: The current entry of :attr:`timesteps` (kept for the contract; the solver tracks it).
            x: The state at which ``model_output`` was evaluated.

        Returns:
            The next state to evaluate, see :class:`StepOutput`.

        Raises:
            RuntimeError: If called more often than :attr:`timesteps` has entries.
        """
        raise NotImplementedError

    def _check_index(self) -> None:
        if self._index >= self.n_evaluations:
            msg = f"step() called {self._index + 1} times for {self.n_evaluations} evaluations; call set_timesteps"
            raise RuntimeError(msg)


class ExplicitRungeKutta(ODESolver):
    """An explicit Runge–Kutta method defined by its Butcher tableau.

    Subclasses set ``a`` (lower-triangular stage coefficients, one row per stage after the
    first), ``b`` (weights) and ``c`` (stage time fractions, ``c[0] = 0``).
    """

    a: ClassVar[Sequence[Sequence[float]]] = ()
    b: ClassVar[Sequence[float]] = (1.0,)
    c: ClassVar[Sequence[float]] = (0.0,)

    def __init__(self, t_start: float = 0.0, t_end: float = 1.0) -> None:
        super().__init__(t_start, t_end)
        self._base: Tensor | None = None
        self._stages: list[Tensor] = []

    def _stage_times(self) -> list[float]:
        times = []
        for t0, t1 in zip(self.grid[:-1], self.grid[1:], strict=True):
            times += [t0 + ci * (t1 - t0) for ci in self.c]
        return times

    def set_timesteps(self, n_steps: int) -> None:
        """Fixes a uniform grid of ``n_steps`` steps and resets the stage memory."""
        super().set_timesteps(n_steps)
        self._base, self._stages = None, []

    def step(self, model_output: Tensor, t: float | Tensor, x: Tensor) -> StepOutput:  # noqa: ARG002
        """One stage of the tableau; see :meth:`ODESolver.step`."""
        self._check_index()
        n_stages = len(self.b)
        stage = self._index % n_stages
        i = self._index // n_stages
        h = self.grid[i + 1] - self.grid[i]
        if stage == 0:
            self._base, self._stages = x, []
        self._stages.append(model_output)
        self._index += 1
        base = self._base if self._base is not None else x
        if stage + 1 < n_stages:
            weights = self.a[stage]
            done = False
        else:
            weights = self.b
            done = True
        update = base
        for w, k in zip(weights, self._stages, strict=False):
            if w != 0.0:
                update = update + (h * w) * k
        if done:
            self._base, self._stages = None, []
        return StepOutput(update, done)


def solve(
    velocity_fn: VelocityFn,
    x0: Tensor,
    solver: ODESolver,
    n_steps: int,
    *,
    trajectory: list[Tensor] | None = None,
) -> Tensor:
    """Integrates dx/dt = ``velocity_fn(x, t)`` from ``solver.t_start`` to ``solver.t_end``.

    Arguments:
        velocity_fn: v(x, t) with x (B, *) and t (B,) → (B, *); ``x`` may also be unbatched when
            the field ignores ``t``'s shape.
        x0: Initial state, (B, *).
        solver: Any :class:`ODESolver`; its grid is reset to ``n_steps`` steps.
        n_steps: Number of steps (network evaluations: ``n_steps · solver.n_stages``).
        trajectory: If given, the state at every grid point (``n_steps + 1`` tensors) is appended.

    Returns:
        The state at ``t_end``, same shape as ``x0``.
    """
    solver.set_timesteps(n_steps)
    x = x0
    if trajectory is not None:
        trajectory.append(x0)
    # Ones shaped like the batch axis, built from x0 so that a traced graph keeps the batch dynamic.
    ones = torch.ones_like(x0.flatten(1)[:, 0] if x0.dim() > 1 else x0.reshape(-1))
    for t in solver.timesteps.tolist():
        t_batch = ones * t
        out = solver.step(velocity_fn(x, t_batch), t, x)
        x = out.prev_sample
        if trajectory is not None and out.step_finished:
            trajectory.append(x)
    return x

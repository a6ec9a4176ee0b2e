"""Every registered ODE solver: accuracy on fields with exact solutions, convergence order, the step contract."""

from __future__ import annotations

import math

import pytest
import torch

from caloforge.solvers import SOLVERS, ODESolver, build_solver, parse_sampler, solve

NAMES = SOLVERS.names()


def _decay_error(name: str, n_steps: int) -> float:
    """|x(1) − e^{−1}| for dx/dt = −x, x(0) = 1, in float64."""
    x = solve(lambda x, t: -x, torch.ones(1, 1, dtype=torch.float64), build_solver(name), n_steps)
    return abs(float(x[0, 0]) - math.exp(-1.0))


def _rotation_error(name: str, n_steps: int) -> float:
    """Max error for the time-dependent linear field dx/dt = t·J·x (J a 90° rotation); exact: rotation by t²/2."""
    j = torch.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=torch.float64)
    x0 = torch.tensor([[1.0, 0.0], [0.3, -2.0]], dtype=torch.float64)
    x1 = solve(lambda x, t: t[:, None] * (x @ j.T), x0, build_solver(name), n_steps)
    angle = 0.5
    rot = torch.tensor([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]], dtype=torch.float64)
    return float((x1 - x0 @ rot.T).abs().max())


def test_registry_lists_the_solvers() -> None:
    assert set(NAMES) >= {"euler", "heun", "midpoint", "rk4"}
    with pytest.raises(KeyError, match="choices are"):
        build_solver("dopri")


@pytest.mark.parametrize("name", NAMES)
def test_accuracy_on_exponential_decay(name: str) -> None:
    order = SOLVERS.get(name).order
    error = _decay_error(name, 20)
    # The global error of an order-p method with h = 1/20 is about h^p (times a constant below 1 here).
    assert error < 0.05**order
    assert error > 0.0 or order >= 4


@pytest.mark.parametrize("name", NAMES)
def test_accuracy_on_time_dependent_linear_field(name: str) -> None:
    # h = 1/40; the error constants of this field stay below 2 for every method up to order 4.
    assert _rotation_error(name, 40) < 2.0 * 0.025 ** SOLVERS.get(name).order


@pytest.mark.parametrize("name", NAMES)
def test_empirical_convergence_order(name: str) -> None:
    expected = SOLVERS.get(name).order
    measured = math.log2(_decay_error(name, 16) / _decay_error(name, 32))
    assert measured == pytest.approx(expected, abs=0.25)


def test_higher_order_solvers_beat_euler_at_equal_cost() -> None:
    budget = 8  # network evaluations
    errors = {name: _decay_error(name, budget // SOLVERS.get(name).n_stages) for name in NAMES}
    assert errors["heun"] < errors["euler"]
    assert errors["midpoint"] < errors["euler"]
    assert errors["rk4"] < errors["heun"]


@pytest.mark.parametrize("name", NAMES)
def test_constant_velocity_is_exact_in_one_step(name: str) -> None:
    x0 = torch.randn(5, 3)
    v = torch.randn(5, 3)
    assert torch.allclose(solve(lambda x, t: v, x0, build_solver(name), 1), x0 + v, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_backward_integration_returns_to_start(name: str) -> None:
    x0 = torch.randn(4, 2, dtype=torch.float64)
    forward = solve(lambda x, t: -x, x0, build_solver(name), 200)
    back = solve(lambda x, t: -x, forward, build_solver(name, t_start=1.0, t_end=0.0), 200)
    tolerance = 2.0 * 0.005 ** SOLVERS.get(name).order * float(x0.abs().max())
    assert torch.allclose(back, x0, atol=tolerance)


@pytest.mark.parametrize("name", NAMES)
def test_step_contract(name: str) -> None:
    solver: ODESolver = build_solver(name)
    solver.set_timesteps(3)
    assert solver.n_evaluations == 3 * solver.n_stages == len(solver.timesteps)
    assert float(solver.timesteps[0]) == 0.0
    assert float(solver.timesteps.max()) <= 1.0
    x = torch.zeros(2, 1)
    finished = []
    for t in solver.timesteps:
        out = solver.step(torch.ones_like(x), t, x)
        x = out.prev_sample
        finished.append(out.step_finished)
    assert finished.count(True) == 3
    assert finished[-1]
    assert torch.allclose(x, torch.ones(2, 1))
    with pytest.raises(RuntimeError, match="set_timesteps"):
        solver.step(torch.ones_like(x), 1.0, x)
    with pytest.raises(ValueError, match="at least 1"):
        solver.set_timesteps(0)


def test_solve_records_the_trajectory_on_the_grid() -> None:
    trajectory: list[torch.Tensor] = []
    solve(lambda x, t: torch.ones_like(x), torch.zeros(1, 1), build_solver("rk4"), 4, trajectory=trajectory)
    assert [round(float(x[0, 0]), 6) for x in trajectory] == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_equal_start_and_end_time_is_refused() -> None:
    with pytest.raises(ValueError, match="must differ"):
        build_solver("euler", t_start=0.5, t_end=0.5)


def test_parse_sampler() -> None:
    assert parse_sampler("rk4:3") == ("rk4", 3)
    for bad in ("rk4", "rk4:0", "rk4:-1", "rk4:x"):
        with pytest.raises(ValueError, match="SOLVER:STEPS"):
            parse_sampler(bad)
    for bad in ("leapfrog:2", ":2"):
        with pytest.raises(ValueError, match="unknown solver"):
            parse_sampler(bad)

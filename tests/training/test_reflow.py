"""Reflow through the trainer: couplings, fewer steps for the same error, end-point distillation, exact resume."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from caloforge.geometry import Geometry
from caloforge.models import CheckpointError, load_model
from caloforge.models.diffusion import FlowMatching, FlowMatchingConfig, ReflowBatch, ReflowStudent, endpoint_loss
from caloforge.training import Callback, ReflowConfig, Trainer, load_checkpoint, make_reflow_pairs, reflow
from caloforge.training.reflow import reflow_checkpoint


def _curved_teacher() -> FlowMatching:
    """A tiny teacher whose (untrained, amplified) velocity field bends the trajectories.

    With the ``"log"`` stage-1 variables the shape network's context is (up to standardisation) the
    stage-1 state itself, so the test measures reflow rather than how an untrained, ×20 stage 1
    distorts the exp/renormalise map of the ``"shares"`` variables.
    """
    torch.manual_seed(0)
    geometry = Geometry.regular("toy", n_layers=2, n_alpha=1, r_edges=[0, 1, 2])
    config = FlowMatchingConfig(
        layer_hidden=(32,), layer_embed_dim=16, dim=16, depth=1, heads=2, layer_parametrisation="log"
    )
    teacher = FlowMatching(geometry, config)
    teacher.fit_preprocessing(torch.rand(64, 4) * 50, torch.exp(torch.rand(64, 1) * 4) * 1e3)
    with torch.no_grad():
        for head in (teacher.layer_net.net[-1], teacher.shape_net.head):
            head.weight.mul_(20.0)
    return teacher


def _conditions(n: int = 256) -> torch.Tensor:
    return torch.exp(torch.rand(n, 1, generator=torch.Generator().manual_seed(1)) * 4) * 1e3


def test_reflow_pairs_are_the_teacher_solution() -> None:
    teacher = _curved_teacher()
    conditions = torch.full((3, 1), 5e3)
    pairs = make_reflow_pairs(
        teacher,
        conditions,
        n_pairs=5,
        solver="heun",
        n_steps=3,
        batch_size=2,
        generator=torch.Generator().manual_seed(0),
    )
    assert len(pairs) == 5
    assert pairs.noise.shape == pairs.showers.shape == (5, teacher.noise_dim)
    layers, voxels = teacher.integrate(pairs.conditions, pairs.noise, solver="heun", n_steps=3)
    assert torch.allclose(pairs.showers, torch.cat([layers, voxels], dim=1), atol=1e-5)
    batch = next(pairs.batches(2, epoch=0, seed=0))
    assert isinstance(batch, ReflowBatch)
    assert torch.equal(batch.noise, pairs.noise[torch.randperm(5, generator=torch.Generator().manual_seed(0))[:2]])
    with pytest.raises(ValueError, match="at least one"):
        make_reflow_pairs(teacher, conditions[:0], n_pairs=5)


def test_reflow_reduces_the_steps_needed_for_a_given_error() -> None:
    teacher = _curved_teacher()
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    conditions = _conditions()
    config = ReflowConfig(
        n_pairs=256,
        teacher_solver="rk4",
        teacher_steps=8,
        train_steps=150,
        batch_size=128,
        lr=3e-3,
        student_steps=1,
        device="cpu",
    )
    student = reflow(teacher, conditions, config)
    noise = torch.randn(256, teacher.noise_dim)  # fresh noise, not the training pairs
    with torch.no_grad():
        reference = torch.cat(teacher.integrate(conditions, noise, solver="rk4", n_steps=32), dim=1)

        def error(model: FlowMatching, steps: int) -> float:
            out = torch.cat(model.integrate(conditions, noise, solver="euler", n_steps=steps), dim=1)
            return float((out - reference).abs().mean())

        def steps_needed(model: FlowMatching, tolerance: float) -> int:
            return next(k for k in (1, 2, 4, 8, 16, 32, 64) if error(model, k) <= tolerance)

        tolerance = 0.6 * error(teacher, 1)
        assert error(student, 1) <= tolerance
        assert steps_needed(student, tolerance) < steps_needed(teacher, tolerance)
    assert type(student) is FlowMatching
    assert (student.config.solver, student.config.n_steps) == ("euler", 1)
    assert all(torch.equal(before[k], v) for k, v in teacher.state_dict().items()), "the teacher must not change"


def test_endpoint_distillation_brings_one_step_closer_to_the_teacher() -> None:
    teacher = _curved_teacher()
    conditions = _conditions()
    base: dict[str, Any] = {
        "n_pairs": 256,
        "teacher_solver": "rk4",
        "teacher_steps": 8,
        "batch_size": 128,
        "lr": 3e-3,
        "device": "cpu",
    }
    pairs = make_reflow_pairs(teacher, conditions, n_pairs=256, solver="rk4", n_steps=8)
    reflowed = reflow(teacher, conditions, ReflowConfig(**base, train_steps=100), pairs=pairs)
    distilled = reflow(teacher, conditions, ReflowConfig(**base, train_steps=100, distill_steps=100), pairs=pairs)
    batch = pairs.take(torch.arange(len(pairs)))
    with torch.no_grad():
        loss_reflowed = float(endpoint_loss(reflowed, batch).loss)
        loss_distilled = float(endpoint_loss(distilled, batch).loss)
    assert loss_distilled < 0.7 * loss_reflowed
    assert not distilled.training


def test_no_training_steps_only_change_the_sampler() -> None:
    teacher = _curved_teacher()
    student = reflow(teacher, _conditions(4), ReflowConfig(train_steps=0, student_solver="rk4", student_steps=3))
    assert (student.config.solver, student.config.n_steps) == ("rk4", 3)
    assert all(
        torch.equal(a, b) for a, b in zip(teacher.state_dict().values(), student.state_dict().values(), strict=True)
    )


def test_reflow_config_validation() -> None:
    with pytest.raises(ValueError, match="positive"):
        ReflowConfig(student_steps=0)
    for bad in ({"train_steps": -1}, {"distill_steps": -1}):
        with pytest.raises(ValueError, match="non-negative"):
            ReflowConfig(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ema_decay"):
        ReflowConfig(ema_decay=1.5)
    with pytest.raises(ValueError, match="solver"):
        ReflowConfig(student_solver="leapfrog")


class _InterruptAt(Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, trainer: Trainer, group: str, metrics: dict[str, float]) -> None:
        if trainer.step == self.step:
            raise KeyboardInterrupt


@pytest.mark.parametrize("interrupt", [2, 5], ids=["in-reflow", "in-distill"])
def test_interrupted_reflow_resumes_to_a_bit_identical_student(tmp_path: Path, interrupt: int) -> None:
    teacher, conditions = _curved_teacher(), _conditions(40)
    config = ReflowConfig(
        n_pairs=40,
        teacher_solver="heun",
        teacher_steps=2,
        student_steps=2,
        train_steps=4,
        distill_steps=3,
        batch_size=16,
        lr=1e-3,
        ema_decay=0.9,
        checkpoint_every=0,
        device="cpu",
    )
    straight = reflow(teacher, conditions, config)
    with pytest.raises(KeyboardInterrupt):
        reflow(teacher, conditions, config, out_dir=tmp_path, callbacks=[_InterruptAt(interrupt)])
    last = tmp_path / "checkpoints" / "last.pt"
    state = load_checkpoint(last)
    assert state["counters"]["step"] == interrupt
    assert sorted(state["optimizers"]) == ["distill", "reflow"]
    assert state["run_config"]["reflow"]["train_steps"] == 4
    resumed = reflow(teacher, conditions, config, out_dir=tmp_path, resume=last)
    for (key, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), key
    final = load_model(last)  # the run's checkpoint is the student (EMA weights)
    assert type(final) is FlowMatching
    assert final.config == straight.config
    assert all(
        torch.equal(a, b) for a, b in zip(straight.state_dict().values(), final.state_dict().values(), strict=True)
    )
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert {r["group"] for r in records} == {"reflow", "distill"}
    assert all("cpu_s" in r for r in records)
    other = ReflowConfig(**{**config.__dict__, "distill_steps": 5})
    with pytest.raises(CheckpointError, match="other settings"):
        reflow(teacher, conditions, other, out_dir=tmp_path, resume=last)


def test_reflow_checkpoint_reads_conditions_and_refuses_bad_input(
    tmp_path: Path, tiny_geometry: Geometry, shower_file: Callable[..., Path]
) -> None:
    from caloforge.models import save_model

    from ..conftest import make_showers

    data = make_showers(tiny_geometry, 32)
    teacher = FlowMatching(tiny_geometry, FlowMatching.smoke_config())
    teacher.fit_preprocessing(torch.as_tensor(data.showers), torch.as_tensor(data.conditions()))
    save_model(teacher, tmp_path / "teacher.pt")
    path = shower_file(n=32)
    config = ReflowConfig(n_pairs=8, teacher_steps=2, train_steps=2, batch_size=4, device="cpu")
    student = reflow_checkpoint(tmp_path / "teacher.pt", path, tmp_path / "s.pt", config, stop=16)
    assert isinstance(load_model(tmp_path / "s.pt"), FlowMatching)
    assert not isinstance(student, ReflowStudent)
    with pytest.raises(FileExistsError, match="exists"):
        reflow_checkpoint(tmp_path / "teacher.pt", path, tmp_path / "s.pt", config)
    with pytest.raises(ValueError, match="select none"):
        reflow_checkpoint(tmp_path / "teacher.pt", path, tmp_path / "t.pt", config, start=40)
    angled = FlowMatching(tiny_geometry, FlowMatching.smoke_config(), n_conditions=2)
    angled.fit_preprocessing(torch.as_tensor(data.showers), torch.rand(32, 2) + 1.0)
    save_model(angled, tmp_path / "angled.pt")
    with pytest.raises(ValueError, match="no incident angles"):
        reflow_checkpoint(tmp_path / "angled.pt", path, tmp_path / "t.pt", config)
    assert not (tmp_path / "t.pt").exists()

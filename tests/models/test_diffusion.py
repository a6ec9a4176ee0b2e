"""Flow matching: the probability path, the layer-token network, the two-stage model and the reflow student."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from caloforge.geometry import Geometry, get_geometry
from caloforge.models import MODELS, ShowerBatch, build_model, load_model, save_model
from caloforge.models.diffusion import (
    FlowMatching,
    FlowMatchingConfig,
    LayerTransformer,
    LinearPath,
    ReflowBatch,
    ReflowStudent,
    endpoint_loss,
    sample_times,
    with_sampler,
)
from caloforge.models.diffusion.denoiser import _token_indices
from tests.conftest import make_showers


def _fitted(geometry: Geometry, n_conditions: int = 1, **changes: object) -> tuple[FlowMatching, ShowerBatch]:
    data = make_showers(geometry, 64, angles=n_conditions == 2)
    config = FlowMatchingConfig(**{**FlowMatching.smoke_config().__dict__, **changes})
    model = FlowMatching(geometry, config, n_conditions=n_conditions)
    batch = ShowerBatch(torch.as_tensor(data.showers), torch.as_tensor(data.conditions()))
    model.fit_preprocessing(batch.showers, batch.conditions)
    return model, batch


# ---------------------------------------------------------------------------------------------- path
@pytest.mark.parametrize("sigma_min", [0.0, 1e-3, 0.2])
def test_path_end_points(sigma_min: float) -> None:
    path = LinearPath(sigma_min)
    x0, x1 = torch.randn(6, 3), torch.randn(6, 3)
    assert torch.allclose(path.sample(x0, x1, torch.zeros(6)), x0)
    assert torch.allclose(path.sample(x0, x1, torch.ones(6)), x1 + sigma_min * x0, atol=1e-6)


def test_path_velocity_is_the_time_derivative() -> None:
    path = LinearPath(0.1)
    x0, x1, t = torch.randn(5, 4, 2), torch.randn(5, 4, 2), torch.rand(5)
    h = 1e-3
    finite = (path.sample(x0, x1, t + h) - path.sample(x0, x1, t - h)) / (2 * h)
    assert torch.allclose(path.velocity(x0, x1, t), finite, atol=1e-3)


def test_path_rejects_bad_sigma() -> None:
    with pytest.raises(ValueError, match="sigma_min"):
        LinearPath(1.0)


@pytest.mark.parametrize("kind", ["uniform", "logit-normal"])
def test_sample_times_lie_in_the_unit_interval(kind: str) -> None:
    t = sample_times(1000, kind)  # type: ignore[arg-type]
    assert t.shape == (1000,)
    assert bool((t > 0).all() and (t < 1).all())
    with pytest.raises(ValueError, match="choices"):
        sample_times(3, "beta")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- network
def test_token_indices_round_trip_for_unequal_layers() -> None:
    sizes = get_geometry("calochallenge-1-photons").layer_sizes
    gather, scatter = _token_indices(sizes, max(sizes))
    x = torch.randn(2, sum(sizes))
    tokens = torch.cat([x, torch.zeros(2, 1)], dim=1)[:, gather]
    assert torch.equal(tokens[:, scatter], x)
    assert int((tokens == 0).sum()) == 2 * (len(sizes) * max(sizes) - sum(sizes))


def test_layer_transformer_mixes_layers(tiny_geometry: Geometry) -> None:
    net = LayerTransformer(tiny_geometry, n_context=2, dim=16, depth=1, heads=2)
    x = torch.randn(3, tiny_geometry.n_voxels, requires_grad=True)
    out = net(x, torch.rand(3), torch.randn(3, 2))
    assert out.shape == x.shape
    out[:, tiny_geometry.layer_slice(2)].sum().backward()
    assert x.grad is not None
    assert float(x.grad[:, tiny_geometry.layer_slice(0)].abs().sum()) > 0


# ---------------------------------------------------------------------------------------------- model
def test_registered_and_built_from_a_dict(tiny_geometry: Geometry) -> None:
    assert MODELS.get("flow-matching") is FlowMatching
    model = build_model("flow-matching", tiny_geometry, {"dim": 8, "heads": 2, "depth": 1}, n_conditions=2)
    assert isinstance(model, FlowMatching)
    assert model.config.dim == 8
    assert model.noise_dim == tiny_geometry.n_layers + 1 + tiny_geometry.n_voxels  # "shares": L + 1 stage-1 variables


@pytest.mark.parametrize(
    ("parametrisation", "standardisation"),
    [("shares", "per-voxel"), ("stick-breaking", "per-voxel"), ("log", "per-voxel"), ("shares", "shared"),
     ("shares-mev", "per-voxel")],
)
def test_preprocessing_round_trip(tiny_geometry: Geometry, parametrisation: str, standardisation: str) -> None:
    model, batch = _fitted(
        tiny_geometry, layer_parametrisation=parametrisation, voxel_standardisation=standardisation
    )
    y_layers, y_voxels, context = model.preprocess(batch.showers, batch.conditions)
    assert y_layers.shape == (64, model.n_stage1)
    assert model.n_stage1 == tiny_geometry.n_layers + parametrisation.startswith("shares")
    assert context.shape == (64, tiny_geometry.n_layers)
    assert y_voxels.shape == batch.showers.shape
    assert abs(float(y_layers.mean())) < 0.1
    assert abs(float(y_voxels.std()) - 1) < 0.2
    back = model.postprocess(y_layers, y_voxels, batch.conditions)
    assert torch.allclose(back, batch.showers, rtol=1e-3, atol=1e-3)
    encoded = model.condition_encoder(batch.conditions)
    shape_context = model.shape_context(encoded, y_layers, batch.conditions)
    assert torch.allclose(shape_context[:, encoded.shape[1] :], context, atol=1e-3)


@pytest.mark.parametrize("parametrisation", ["shares", "shares-mev", "stick-breaking"])
def test_stage1_bounds_the_total_energy(tiny_geometry: Geometry, parametrisation: str) -> None:
    """Whatever stage 1 outputs for the layers, their energies add up to the generated response."""
    model, batch = _fitted(tiny_geometry, layer_parametrisation=parametrisation)
    y_layers = model.preprocess(batch.showers, batch.conditions)[0]
    wild = y_layers.clone()
    wild[:, 1:] = torch.randn_like(wild[:, 1:]) * 20  # arbitrary layer shares
    layers = model.layer_norm.inverse(wild, batch.conditions)
    response = model.layer_norm.inverse(y_layers, batch.conditions).sum(dim=1)
    assert (layers >= 0).all()
    torch.testing.assert_close(layers.sum(dim=1), response, rtol=1e-4, atol=1e-6)


def test_generated_layer_energies_match_the_layer_stage(tiny_geometry: Geometry) -> None:
    model, batch = _fitted(tiny_geometry)
    noise = model.sample_noise(8)
    y_layers, _ = model.integrate(batch.conditions[:8], noise)
    showers = model.decode(batch.conditions[:8], noise).detach()
    expected = model.layer_norm.inverse(y_layers, batch.conditions[:8]) * batch.conditions[:8, :1]
    layer_sums = torch.as_tensor(tiny_geometry.layer_energies(showers.numpy()))
    assert torch.allclose(layer_sums, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("n_conditions", [1, 2])
def test_loss_reaches_every_parameter(tiny_geometry: Geometry, n_conditions: int) -> None:
    model, batch = _fitted(tiny_geometry, n_conditions)
    out = model.loss(batch)
    assert torch.isfinite(out.loss)
    assert set(out.metrics) == {"layer_loss", "shape_loss"}
    out.loss.backward()
    assert all(p.grad is not None and bool(torch.isfinite(p.grad).all()) for p in model.parameters())
    with pytest.raises(KeyError, match="main"):
        model.loss(batch, "critic")


def test_decode_is_deterministic_and_physical(tiny_geometry: Geometry) -> None:
    model, batch = _fitted(tiny_geometry, voxel_threshold_mev=0.5)
    noise = model.sample_noise(10, generator=torch.Generator().manual_seed(1))
    a, b = model.decode(batch.conditions[:10], noise), model.decode(batch.conditions[:10], noise)
    assert torch.equal(a, b)
    assert a.shape == (10, tiny_geometry.n_voxels)
    assert bool((a >= 0).all())
    assert bool(((a == 0) | (a > 0.5)).all())


def test_solver_and_steps_come_from_the_config(tiny_geometry: Geometry) -> None:
    model, batch = _fitted(tiny_geometry)
    noise = model.sample_noise(4)
    c = batch.conditions[:4]
    rk4 = with_sampler(model, "rk4", 3)
    assert torch.equal(rk4.decode(c, noise), model.decode(c, noise, solver="rk4", n_steps=3))
    assert not torch.allclose(rk4.decode(c, noise), model.decode(c, noise))


def test_save_and_load_round_trip(tiny_geometry: Geometry, tmp_path: Path) -> None:
    model, batch = _fitted(tiny_geometry, n_conditions=2)
    save_model(model, tmp_path / "fm.pt")
    loaded = load_model(tmp_path / "fm.pt")
    noise = model.sample_noise(3)
    assert loaded.config == model.config
    assert loaded.is_fitted
    assert torch.equal(loaded.decode(batch.conditions[:3], noise), model.decode(batch.conditions[:3], noise))


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="n_steps"):
        FlowMatchingConfig(n_steps=0)
    with pytest.raises(ValueError, match="divide"):
        FlowMatchingConfig(dim=10, heads=4)
    with pytest.raises(ValueError, match="layer_parametrisation"):
        FlowMatchingConfig(layer_parametrisation="cubes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="voxel_standardisation"):
        FlowMatchingConfig(voxel_standardisation="none")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="layer_logit_alpha"):
        FlowMatchingConfig(layer_logit_alpha=0.5)


# ---------------------------------------------------------------------------------------------- reflow
def _couplings(teacher: FlowMatching, n: int = 8) -> ReflowBatch:
    conditions = torch.full((n, 1), 5e3)
    noise = torch.randn(n, teacher.noise_dim)
    with torch.no_grad():
        ends = torch.cat(teacher.integrate(conditions, noise, solver="heun", n_steps=3), dim=1)
    return ReflowBatch(ends, conditions, noise)


def test_reflow_student_phases_are_two_groups_over_all_parameters(tiny_geometry: Geometry) -> None:
    teacher, _ = _fitted(tiny_geometry)
    student = ReflowStudent.from_teacher(teacher, solver="rk4", n_steps=2, train_steps=3)
    assert [student.group_for_step(s) for s in range(5)] == ["reflow"] * 3 + ["distill"] * 2
    groups = student.optimizer_groups()
    assert sorted(groups) == ["distill", "reflow"]
    assert all(len(params) == len(list(student.parameters())) for params in groups.values())
    assert (student.config.solver, student.config.n_steps) == ("rk4", 2)
    assert all(torch.equal(a, b) for a, b in zip(teacher.state_dict().values(), student.state_dict().values(), strict=True))
    batch = _couplings(teacher)
    for group in ("reflow", "distill"):
        student.zero_grad()
        out = student.loss(batch, group)
        out.loss.backward()
        assert torch.isfinite(out.loss)
        assert sorted(out.metrics) == ["layer_loss", "shape_loss"]
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in student.layer_net.parameters())
    with pytest.raises(KeyError, match="choices"):
        student.loss(batch, "main")
    with pytest.raises(TypeError, match="ReflowBatch"):
        student.loss(ShowerBatch(batch.showers, batch.conditions))
    before = student.voxel_norm.state_dict()
    student.fit_preprocessing(torch.rand(4, tiny_geometry.n_voxels), torch.full((4, 1), 1e3))  # keeps the teacher's
    assert all(torch.equal(before[k], v) for k, v in student.voxel_norm.state_dict().items())
    with pytest.raises(ValueError, match="from_teacher"):
        ReflowStudent(tiny_geometry, teacher.config).fit_preprocessing(batch.showers, batch.conditions)


def test_a_teacher_solve_has_zero_endpoint_loss_and_the_student_saves_as_flow_matching(
    tiny_geometry: Geometry, tmp_path: Path
) -> None:
    teacher, _ = _fitted(tiny_geometry)
    student = ReflowStudent.from_teacher(teacher, solver="heun", n_steps=3, train_steps=0)
    with torch.no_grad():
        assert float(endpoint_loss(student, _couplings(teacher)).loss) < 1e-10
    save_model(student, tmp_path / "student.pt")
    loaded = load_model(tmp_path / "student.pt")
    assert type(loaded) is FlowMatching
    assert (loaded.config.solver, loaded.config.n_steps) == ("heun", 3)
    plain = student.as_flow_matching()
    assert type(plain) is FlowMatching
    assert not plain.training


# ------------------------------------------------------------------ dequantisation, logit, augmentation
@pytest.mark.parametrize("transform", ["logit", "log1p-mev", "log"])
def test_dequantised_preprocessing_is_continuous_and_inverts(tiny_geometry: Geometry, transform: str) -> None:
    model, batch = _fitted(tiny_geometry, voxel_transform=transform, dequantise_mev=0.5, voxel_threshold_mev=0.5)
    batch = ShowerBatch(torch.where(batch.showers < 0.5, 0.0, batch.showers), batch.conditions)  # as read out
    model.train()
    _, y1, _ = model.preprocess(batch.showers, batch.conditions)
    _, y2, _ = model.preprocess(batch.showers, batch.conditions)
    zero = batch.showers < 0.5
    assert zero.any()
    assert not torch.equal(y1[zero], y2[zero])  # fresh noise for voxels below the level
    assert torch.allclose(y1[~zero], y2[~zero], atol=0.05)  # the noise barely moves the layer sums
    assert len(torch.unique(y1[zero])) > 0.9 * int(zero.sum())  # no point mass at zero
    back = model.postprocess(*model.preprocess(batch.showers, batch.conditions)[:2], batch.conditions)
    assert torch.allclose(back, batch.showers, rtol=1e-3, atol=1e-3)  # surviving voxels carry the layer again
    assert torch.equal(back == 0, zero)  # the threshold cut restores exact zeros


def test_angular_augmentation_changes_only_the_training_loss(tiny_geometry: Geometry) -> None:
    model, batch = _fitted(tiny_geometry, augment="angular")
    assert model.symmetry is not None
    model.eval()
    torch.manual_seed(0)
    a = float(model.loss(batch).loss.detach())
    torch.manual_seed(0)
    assert float(model.loss(batch).loss.detach()) == a  # eval (validation): no augmentation, same noise
    with pytest.raises(ValueError, match="energy-only"):
        FlowMatching(tiny_geometry, FlowMatchingConfig(augment="angular"), n_conditions=2)


def test_new_voxel_options_are_validated() -> None:
    with pytest.raises(ValueError, match="voxel_transform"):
        FlowMatchingConfig(voxel_transform="sqrt")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dequantise_mev"):
        FlowMatchingConfig(dequantise_mev=-1.0)
    with pytest.raises(ValueError, match="augment"):
        FlowMatchingConfig(augment="flip")  # type: ignore[arg-type]


def test_shape_skip_starts_as_the_plain_network_and_then_acts_per_voxel(tiny_geometry: Geometry) -> None:
    torch.manual_seed(0)
    plain = LayerTransformer(tiny_geometry, 4, dim=8, depth=1, heads=2)
    torch.manual_seed(0)
    skipped = LayerTransformer(tiny_geometry, 4, dim=8, depth=1, heads=2, skip=True)
    x, t, c = torch.randn(3, tiny_geometry.n_voxels), torch.rand(3), torch.randn(3, 4)
    assert torch.allclose(plain(x, t, c), skipped(x, t, c))
    assert skipped.skip is not None
    with torch.no_grad():
        skipped.skip.weight.copy_(torch.eye(20))
    assert torch.allclose(skipped(x, t, c) - plain(x, t, c), x, atol=1e-5)

"""WGAN-GP with energy constrainer: penalty values, group separation, schedule, constrainer, decoding."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from caloforge.config import from_dict, to_dict
from caloforge.geometry import Geometry
from caloforge.models import MODELS, ShowerBatch, build_model
from caloforge.models.gan import WGAN, WGANConfig, gradient_penalty

from ..conftest import make_showers


def _batch(geometry: Geometry, n: int = 64, *, angles: bool = False) -> ShowerBatch:
    data = make_showers(geometry, n, angles=angles)
    return ShowerBatch(torch.as_tensor(data.showers), torch.as_tensor(data.conditions()))


def _model(geometry: Geometry, batch: ShowerBatch, **overrides: object) -> WGAN:
    config = dataclasses.replace(WGAN.smoke_config(), **overrides)  # type: ignore[arg-type]
    model = WGAN(geometry, config, n_conditions=batch.conditions.shape[1])
    model.fit_preprocessing(batch.showers, batch.conditions)
    return model


def test_registered_and_config_round_trip(tiny_geometry: Geometry) -> None:
    assert MODELS.get("wgan") is WGAN
    config = WGANConfig(generator_hidden=(8, 16), n_critic=2, betas=(0.0, 0.9))
    assert from_dict(WGANConfig, to_dict(config)) == config
    model = build_model("wgan", tiny_geometry, to_dict(config))
    assert isinstance(model, WGAN)
    assert model.config == config
    assert "arxiv.org/abs/2005.05334" in (WGAN.__doc__ or "")


@pytest.mark.parametrize("field", ["n_critic", "latent_dim", "log_eps"])
def test_config_rejects_invalid_values(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        WGANConfig(**{field: 0})


def test_gradient_penalty_linear_critic() -> None:
    # D(x) = w·x has gradient w everywhere: GP = (|w| - 1)^2 = (5 - 1)^2.
    w = torch.tensor([3.0, 4.0, 0.0])
    real, fake = torch.randn(16, 3), torch.randn(16, 3)
    assert float(gradient_penalty(lambda x: x @ w, real, fake)) == pytest.approx(16.0)


def test_gradient_penalty_quadratic_critic() -> None:
    # D(x) = |x|^2 / 2 has gradient x; with real == fake every interpolate is x itself.
    x = torch.tensor([[0.6, 0.8], [3.0, 4.0], [0.0, 0.5]])
    expected = ((x.norm(dim=1) - 1) ** 2).mean()
    penalty = gradient_penalty(lambda v: 0.5 * (v**2).sum(dim=1), x, x.clone())
    assert float(penalty.detach()) == pytest.approx(float(expected))


def test_gradient_penalty_is_differentiable_in_critic_parameters() -> None:
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    gradient_penalty(lambda x: x @ w, torch.randn(4, 2), torch.randn(4, 2)).backward()
    # d/dw (|w| - 1)^2 = 2 (|w| - 1) w / |w|
    assert w.grad is not None
    assert torch.allclose(w.grad, 2 * 4 * torch.tensor([3.0, 4.0]) / 5)


@pytest.mark.parametrize(("n_critic", "expected"), [(1, "cgcgcg"), (3, "cccgcccg"), (5, "cccccgccccc")])
def test_n_critic_schedule(tiny_geometry: Geometry, n_critic: int, expected: str) -> None:
    model = WGAN(tiny_geometry, WGANConfig(n_critic=n_critic))
    assert "".join(model.group_for_step(s)[0] for s in range(len(expected))) == expected


def test_groups_are_disjoint_and_cover_all_parameters(tiny_geometry: Geometry) -> None:
    model = WGAN(tiny_geometry, WGAN.smoke_config())
    groups = model.optimizer_groups()
    assert set(groups) == {"critic", "generator"}
    ids = {name: {id(p) for p in params} for name, params in groups.items()}
    assert not ids["critic"] & ids["generator"]
    assert ids["critic"] | ids["generator"] == {id(p) for p in model.parameters()}
    assert set(model.optimizer_settings()) == set(groups)


@pytest.mark.parametrize("group", ["critic", "generator"])
def test_each_loss_touches_only_its_group(tiny_geometry: Geometry, group: str) -> None:
    batch = _batch(tiny_geometry)
    model = _model(tiny_geometry, batch)
    out = model.loss(batch, group)
    assert torch.isfinite(out.loss)
    out.loss.backward()
    for name, params in model.optimizer_groups().items():
        grads = [p.grad for p in params]
        if name == group:
            assert all(g is not None and torch.isfinite(g).all() for g in grads)
            assert any(float(g.abs().sum()) > 0 for g in grads if g is not None)
        else:
            assert all(g is None for g in grads), f"{group} loss produced gradients in {name}"


@pytest.mark.parametrize("group", ["critic", "generator"])
def test_losses_evaluate_under_no_grad(tiny_geometry: Geometry, group: str) -> None:
    # The trainer's validation runs the losses without autograd; the gradient penalty must still work.
    batch = _batch(tiny_geometry, 16)
    model = _model(tiny_geometry, batch)
    with torch.no_grad():
        out = model.loss(batch, group)
    assert torch.isfinite(out.loss)
    assert not out.loss.requires_grad
    if group == "critic":
        assert out.metrics["gradient_penalty"] > 0


def test_unknown_group_raises(tiny_geometry: Geometry) -> None:
    batch = _batch(tiny_geometry, 8)
    with pytest.raises(KeyError, match="choices"):
        _model(tiny_geometry, batch).loss(batch, "main")


def test_constrainer_loss_decreases_on_real_showers(tiny_geometry: Geometry) -> None:
    batch = _batch(tiny_geometry, 128)
    model = _model(tiny_geometry, batch, constrainer_hidden=(32,))
    optimizer = torch.optim.Adam(model.constrainer.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        out = model.loss(batch, "critic")
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()
        losses.append(out.metrics["constrainer"])
    assert losses[-1] < 0.2 * losses[0]


def test_energy_mismatch_enters_generator_loss_with_its_weight(tiny_geometry: Geometry) -> None:
    batch = _batch(tiny_geometry, 16)
    model = _model(tiny_geometry, batch, constrainer_weight=0.0)
    out = model.loss(batch, "generator")
    assert out.metrics["energy_mismatch"] > 0
    assert float(out.loss.detach()) == pytest.approx(out.metrics["adversarial"])
    # Metric names must not collide with the group names the trainer logs its losses under.
    assert not set(out.metrics) & set(model.optimizer_groups())
    weighted = _model(tiny_geometry, batch, constrainer_weight=2.0)
    weighted.load_state_dict(model.state_dict())
    torch.manual_seed(1)
    out = weighted.loss(batch, "generator")
    expected = out.metrics["adversarial"] + 2.0 * out.metrics["energy_mismatch"]
    assert float(out.loss.detach()) == pytest.approx(expected, rel=1e-5)


def test_fused_inverse_recovers_showers_and_empty_voxels(tiny_geometry: Geometry) -> None:
    batch = _batch(tiny_geometry, 32)
    model = _model(tiny_geometry, batch)
    eps = model.config.log_eps
    fractions = batch.showers / batch.conditions[:, :1]
    back = model._log_fractions_to_mev_(torch.log(fractions + eps), batch.conditions)
    assert torch.allclose(back, batch.showers, rtol=1e-4, atol=1e-4)
    assert torch.equal(back == 0, batch.showers == 0)
    # Within log 2 of the empty-voxel peak counts as empty; above it the fraction survives.
    near = torch.log(torch.tensor([[0.5 * eps, 1.9 * eps, 2.5 * eps]]))
    out = model._log_fractions_to_mev_(near, torch.tensor([[1.0]]))
    assert out[0, :2].eq(0).all()
    assert float(out[0, 2]) == pytest.approx(1.5 * eps, rel=1e-3)


@pytest.mark.parametrize(("threshold", "n"), [(0.0, 32), (5.0, 32), (5.0, 600)])
def test_decode_paths_agree_and_respect_threshold(tiny_geometry: Geometry, threshold: float, n: int) -> None:
    # n = 600 takes the folded-weights path, n = 32 the plain in-place one.
    batch = _batch(tiny_geometry, n)
    model = _model(tiny_geometry, batch, voxel_threshold_mev=threshold)
    noise = model.sample_noise(n)
    with torch.no_grad():
        fused = model.decode(batch.conditions, noise)
    graph = model.decode(batch.conditions, noise)
    assert graph.requires_grad
    assert torch.allclose(fused, graph.detach(), rtol=1e-4, atol=1e-4)
    assert fused.shape == batch.showers.shape
    assert (fused >= 0).all()
    assert not ((fused > 0) & (fused <= threshold)).any()


def test_angle_conditions_and_reproducible_sampling(tiny_geometry: Geometry) -> None:
    batch = _batch(tiny_geometry, 32, angles=True)
    model = _model(tiny_geometry, batch)
    assert torch.isfinite(model.loss(batch, "critic").loss)
    clone = WGAN(tiny_geometry, model.config, n_conditions=2)
    clone.load_state_dict(model.state_dict())
    assert clone.is_fitted
    a = model.sample(batch.conditions, generator=torch.Generator().manual_seed(3))
    b = clone.sample(batch.conditions, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_short_adversarial_training_updates_every_generator_parameter(tiny_geometry: Geometry) -> None:
    batch = _batch(tiny_geometry, 128)
    model = _model(tiny_geometry, batch, n_critic=2, generator_hidden=(64,), critic_hidden=(64,))
    settings = model.optimizer_settings()
    optimizers = {name: torch.optim.Adam(params, **settings[name]) for name, params in model.optimizer_groups().items()}
    gen_params = [p.detach().clone() for p in model.optimizer_groups()["generator"]]
    for step in range(30):
        group = model.group_for_step(step)
        out = model.loss(batch, group)
        optimizers[group].zero_grad()
        out.loss.backward()
        optimizers[group].step()
        assert all(torch.isfinite(torch.tensor(v)) for v in out.metrics.values())
    moved = [not torch.equal(a, b) for a, b in zip(gen_params, model.optimizer_groups()["generator"], strict=True)]
    assert all(moved)


def test_warns_when_log_eps_hides_real_voxels(tiny_geometry: Geometry, caplog: pytest.LogCaptureFixture) -> None:
    batch = _batch(tiny_geometry, 8)
    model = WGAN(tiny_geometry, dataclasses.replace(WGAN.smoke_config(), log_eps=1e-3))
    with caplog.at_level("WARNING", logger="caloforge.models.gan.model"):
        model.fit_preprocessing(batch.showers, batch.conditions)
    assert "lower log_eps" in caplog.text
    caplog.clear()
    model = WGAN(tiny_geometry, dataclasses.replace(WGAN.smoke_config(), log_eps=1e-12))
    with caplog.at_level("WARNING", logger="caloforge.models.gan.model"):
        model.fit_preprocessing(batch.showers, batch.conditions)
    assert "log_eps" not in caplog.text


@pytest.mark.parametrize("n", [8, 600])
def test_generated_voxels_are_capped_at_twice_the_largest_real_fraction(tiny_geometry: Geometry, n: int) -> None:
    batch = _batch(tiny_geometry, 64)
    model = _model(tiny_geometry, batch)
    with torch.no_grad():
        model.generator.head.bias.fill_(50.0)  # a wildly overshooting generator
    conditions = batch.conditions[:1].expand(n, -1)
    cap = 2 * (batch.showers / batch.conditions).amax(dim=0) * conditions
    for showers in (model.sample(conditions), model.decode(conditions, model.sample_noise(n))):
        assert torch.isfinite(showers).all()
        assert (showers <= cap * (1 + 1e-4) + 1e-3).all()

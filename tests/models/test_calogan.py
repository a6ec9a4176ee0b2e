"""CaloGAN: locally-connected layers, layer plan and size limit, streams, losses, groups, sparsity."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from caloforge.config import from_dict, to_dict
from caloforge.geometry import Geometry, Layer, get_geometry
from caloforge.models import MODELS, ShowerBatch, build_model, load_model, save_model
from caloforge.models.calogan import (
    MAX_LAYER_VOXELS,
    CaloGAN,
    CaloGANConfig,
    LocallyConnected2d,
    MinibatchDiscrimination,
)
from caloforge.models.calogan.locally_connected import pad_image

from ..conftest import make_showers


def _mixed_geometry() -> Geometry:
    """Layers of different shapes, as in CaloChallenge dataset 1: 1×8, 4×5 and 3×2 bins."""
    layers = (
        Layer(r_edges=tuple(float(r) for r in range(9)), n_alpha=1, layer_id=0),
        Layer(r_edges=(0.0, 1.0, 2.0, 4.0, 8.0, 16.0), n_alpha=4, layer_id=1),
        Layer(r_edges=(0.0, 3.0, 6.0), n_alpha=3, layer_id=2),
    )
    return Geometry("mixed", layers, layer_thickness_mm=3.4)


def _fitted(geometry: Geometry, n: int = 64, **overrides: object) -> tuple[CaloGAN, ShowerBatch]:
    data = make_showers(geometry, n)
    batch = ShowerBatch(torch.as_tensor(data.showers), torch.as_tensor(data.conditions()))
    config = dataclasses.replace(CaloGAN.smoke_config(), **overrides)  # type: ignore[arg-type]
    model = CaloGAN(geometry, config)
    model.fit_preprocessing(batch.showers, batch.conditions)
    return model, batch


def _as_pixel_major(x: torch.Tensor) -> torch.Tensor:
    b, c, h, w = x.shape
    return x.permute(2, 3, 0, 1).reshape(h * w, b, c)


def test_registered_config_round_trip_and_citation(tiny_geometry: Geometry) -> None:
    assert MODELS.get("calogan") is CaloGAN
    config = CaloGANConfig(latent_dim=8, disc_hidden=(8, 4), betas=(0.0, 0.9))
    assert from_dict(CaloGANConfig, to_dict(config)) == config
    model = build_model("calogan", tiny_geometry, to_dict(config))
    assert isinstance(model, CaloGAN)
    assert model.config == config
    assert "arxiv.org/abs/1705.02355" in (CaloGAN.__doc__ or "")


@pytest.mark.parametrize(
    ("field", "value"), [("latent_dim", 0), ("kernel_size", 2), ("stream_lc_layers", 0), ("aux_weight", -1.0)]
)
def test_config_rejects_invalid_values(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        CaloGANConfig(**{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("circular", [False, True])
def test_locally_connected_with_shared_weights_is_a_convolution(circular: bool) -> None:
    lc = LocallyConnected2d(2, 3, (4, 5), 3, circular_rows=circular)
    conv = torch.nn.Conv2d(2, 3, 3)
    with torch.no_grad():
        lc.weight.copy_(conv.weight.permute(2, 3, 1, 0).reshape(18, 3).expand(20, 18, 3))
        assert lc.bias is not None
        assert conv.bias is not None
        lc.bias.copy_(conv.bias.expand(20, 1, 3))
    x = torch.randn(6, 2, 4, 5)
    expected = _as_pixel_major(conv(pad_image(x, 1, circular_rows=circular)))
    assert torch.allclose(lc(_as_pixel_major(x)), expected, atol=1e-5)


def test_locally_connected_weights_are_per_pixel_and_local() -> None:
    lc = LocallyConnected2d(1, 1, (4, 5), 3)
    x = torch.randn(20, 2, 1)
    before = lc(x).detach()
    with torch.no_grad():
        lc.weight[7].add_(1.0)  # only pixel 7's filter
    changed = (lc(x).detach() - before).abs().sum(dim=(1, 2)) > 0
    assert changed.nonzero().flatten().tolist() == [7]
    y = x.clone()
    y[0] += 1.0  # pixel (0, 0) reaches only its 3×3 neighbourhood: (0,0), (0,1), (1,0), (1,1)
    moved = (lc(y) - lc(x)).detach().abs().sum(dim=(1, 2)) > 0
    assert moved.nonzero().flatten().tolist() == [0, 1, 5, 6]


def test_minibatch_discrimination_measures_closeness() -> None:
    mb = MinibatchDiscrimination(3, kernels=4, dim=2).requires_grad_(False)
    same = mb(torch.ones(5, 3))
    assert torch.allclose(same, torch.full((5, 4), 4.0))  # N − 1 identical neighbours
    mb.weight.fill_(1.0)
    apart = mb(torch.arange(5.0)[:, None].expand(5, 3) * 100)
    assert float(apart.max()) < 1e-6


def test_large_layers_are_refused() -> None:
    with pytest.raises(ValueError, match=rf"at most {MAX_LAYER_VOXELS} voxels.*calochallenge-3.*900"):
        CaloGAN(get_geometry("calochallenge-3"))


def test_mixed_layer_shapes_sample_and_round_trip(tmp_path: Path) -> None:
    geometry = _mixed_geometry()
    model, batch = _fitted(geometry)
    corner = model.generator.streams[1].lcs[0].index.reshape(20, 9)[0]  # angular rows wrap around
    assert corner.tolist() == [20, 15, 16, 20, 0, 1, 20, 5, 6]
    assert [tuple(s.shape) for s in model.generator.streams] == [(1, 8), (4, 5), (3, 2)]
    model.eval()
    showers = model.sample(batch.conditions[:7], generator=torch.Generator().manual_seed(0))
    assert showers.shape == (7, geometry.n_voxels)
    assert (showers >= 0).all()
    save_model(model, tmp_path / "m.pt")
    again = load_model(tmp_path / "m.pt").sample(batch.conditions[:7], generator=torch.Generator().manual_seed(0))
    assert torch.equal(showers, again)


def test_cartesian_geometry() -> None:
    geometry = Geometry.cartesian("grid", n_layers=2, nx=3, ny=4, cell_mm=5.0)
    model, batch = _fitted(geometry)
    corner = model.generator.streams[0].lcs[0].index.reshape(12, 9)[0]  # x rows never wrap around
    assert corner.tolist() == [12, 12, 12, 12, 0, 1, 12, 4, 5]
    assert model.eval().sample(batch.conditions[:3]).shape == (3, 24)


def test_schedule_and_disjoint_groups(tiny_geometry: Geometry) -> None:
    model = CaloGAN(tiny_geometry, CaloGANConfig(n_discriminator=3))
    assert "".join(model.group_for_step(s)[0] for s in range(8)) == "dddgdddg"
    groups = model.optimizer_groups()
    ids = {name: {id(p) for p in params} for name, params in groups.items()}
    assert not ids["discriminator"] & ids["generator"]
    assert ids["discriminator"] | ids["generator"] == {id(p) for p in model.parameters()}
    with pytest.raises(KeyError, match="unknown optimizer group"):
        model.loss(ShowerBatch(torch.zeros(2, 60), torch.ones(2, 1)), "critic")


@pytest.mark.parametrize(("group", "other"), [("generator", "discriminator"), ("discriminator", "generator")])
def test_each_loss_reaches_only_its_group(tiny_geometry: Geometry, group: str, other: str) -> None:
    model, batch = _fitted(tiny_geometry)
    model.loss(batch, group).loss.backward()
    groups = model.optimizer_groups()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in groups[group])
    assert all(p.grad is None for p in groups[other])


@pytest.mark.parametrize("attention", [True, False])
def test_locally_aware_path_feeds_each_layer_the_previous_one(tiny_geometry: Geometry, attention: bool) -> None:
    model, batch = _fitted(tiny_geometry, attention=attention)
    encoded = model.condition_encoder(batch.conditions.float())
    images = model.generator(torch.randn(len(batch), model.noise_dim), encoded)
    first_stream = next(model.generator.streams[0].parameters())
    (grad,) = torch.autograd.grad(images[2].sum(), first_stream, allow_unused=True)
    reached = grad is not None and bool(grad.abs().sum() > 0)
    assert reached is attention


def test_relu_sparsity_and_readout_threshold(tiny_geometry: Geometry) -> None:
    threshold = 5.0
    model, batch = _fitted(tiny_geometry, voxel_threshold_mev=threshold)
    showers = model.eval().sample(batch.conditions, generator=torch.Generator().manual_seed(0))
    assert (showers == 0).any()
    assert not ((showers > 0) & (showers <= threshold)).any()


def test_fitted_units_and_total_energy_term(tiny_geometry: Geometry) -> None:
    model, batch = _fitted(tiny_geometry)
    fractions = batch.showers / batch.conditions
    assert float(model.response) == pytest.approx(float(fractions.sum(dim=1).mean()), rel=1e-5)
    peak0 = fractions[:, tiny_geometry.layer_slice(0)].amax(dim=1).mean()
    assert float(model.layer_scale[0]) == pytest.approx(float(peak0), rel=1e-5)
    torch.manual_seed(3)
    metric = model.loss(batch, "generator").metrics["total_energy"]
    torch.manual_seed(3)
    noise = model.sample_noise(len(batch))
    generated = model.decode(batch.conditions, noise).detach()
    expected = (generated.sum(dim=1) / batch.conditions[:, 0] - model.response).abs().mean()
    assert metric == pytest.approx(float(expected), rel=1e-4)


def test_energy_conditioning_changes_the_showers(tiny_geometry: Geometry) -> None:
    model, _ = _fitted(tiny_geometry)
    noise = torch.randn(4, model.noise_dim)
    low = model.decode(torch.full((4, 1), 2e3), noise).detach()
    high = model.decode(torch.full((4, 1), 5e4), noise).detach()
    assert not torch.allclose(low / 2e3, high / 5e4)

"""Conditional VAE: config validation, geometry label, loss terms, output noise, energy terms."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from caloforge.config import from_dict, to_dict
from caloforge.geometry import Geometry
from caloforge.models import MODELS, ShowerBatch, build_model
from caloforge.models.vae import VAE, VAEConfig

from ..conftest import make_showers


def _batch(geometry: Geometry, n: int = 32) -> ShowerBatch:
    data = make_showers(geometry, n)
    return ShowerBatch(torch.as_tensor(data.showers), torch.as_tensor(data.conditions()))


def _model(geometry: Geometry, **overrides: object) -> VAE:
    config = dataclasses.replace(VAE.smoke_config(), **overrides)  # type: ignore[arg-type]
    model = VAE(geometry, config)
    batch = _batch(geometry)
    model.fit_preprocessing(batch.showers, batch.conditions)
    return model


def test_registered_and_round_trip(tiny_geometry: Geometry) -> None:
    assert MODELS.get("vae") is VAE
    config = VAEConfig(latent_dim=7, hidden=(8, 4), beta=0.5, output_noise=0.3)
    assert from_dict(VAEConfig, to_dict(config)) == config
    assert build_model("vae", tiny_geometry, to_dict(config)).config == config


@pytest.mark.parametrize(
    ("field", "value"), [("latent_dim", 0), ("beta", -1.0), ("log_eps", 0.0), ("output_noise", -0.1), ("hidden", ())]
)
def test_invalid_config(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        VAEConfig(**{field: value})  # type: ignore[arg-type]


def test_geometry_label_one_hot(tiny_geometry: Geometry) -> None:
    model = VAE(tiny_geometry, VAEConfig(latent_dim=2, hidden=(4,), geometry_labels=("a", "tiny", "b")))
    assert model.geometry_label.tolist() == [0.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="not among geometry_labels"):
        VAE(tiny_geometry, VAEConfig(geometry_labels=("a",)))


def test_loss_terms_and_weights(tiny_geometry: Geometry) -> None:
    model = _model(tiny_geometry)
    batch = _batch(tiny_geometry)
    torch.manual_seed(1)
    out = model.loss(batch)
    m = out.metrics
    expected = m["reconstruction"] + m["kl"] + 10 * m["total_energy"] + 10 * m["layer_energy"] + m["layer_head"]
    assert float(out.loss.detach()) == pytest.approx(expected, rel=1e-5)
    model_no_energy = _model(tiny_geometry, energy_weight=0.0, layer_weight=0.0, beta=0.0, layer_weight_head=0.0)
    model_no_energy.load_state_dict(model.state_dict())
    torch.manual_seed(1)
    assert float(model_no_energy.loss(batch).loss.detach()) == pytest.approx(m["reconstruction"], rel=1e-5)
    with pytest.raises(KeyError, match="main"):
        model.loss(batch, "critic")


def test_energy_terms_vanish_for_a_perfect_reconstruction(tiny_geometry: Geometry) -> None:
    model = _model(tiny_geometry)
    batch = _batch(tiny_geometry)
    y = model.voxel_norm(model.energy_scale(batch.showers, batch.conditions), batch.conditions)
    fractions = model.energy_scale(batch.showers, batch.conditions)
    log_norm, standardize = model.voxel_norm.transforms
    rebuilt = torch.relu(torch.exp(y * standardize.std + standardize.mean) - log_norm.eps)
    assert torch.allclose(model.layer_sum(rebuilt), model.layer_sum(fractions), atol=1e-6)


def test_output_noise_samples_the_likelihood(tiny_geometry: Geometry) -> None:
    plain = _model(tiny_geometry)
    noisy = _model(tiny_geometry, output_noise=1.0)
    noisy.load_state_dict(plain.state_dict())
    assert plain.noise_dim == 4
    assert noisy.noise_dim == 4 + tiny_geometry.n_voxels
    c = torch.full((200, 1), 1e4)
    z = torch.randn(200, 4, generator=torch.Generator().manual_seed(0))
    extra = torch.zeros(200, tiny_geometry.n_voxels)
    with torch.no_grad():
        assert torch.equal(plain.decode(c, z.clone()), noisy.decode(c, torch.cat([z, extra], 1)))
        spread_plain = torch.log1p(plain.decode(c, z.clone())).std(0).mean()
        spread_noisy = torch.log1p(noisy.sample(c, generator=torch.Generator().manual_seed(0))).std(0).mean()
    assert spread_noisy > spread_plain


def test_decode_paths_agree(tiny_geometry: Geometry) -> None:
    model = _model(tiny_geometry, voxel_threshold_mev=0.5)
    c = torch.full((5, 1), 2e4)
    z = torch.randn(5, model.noise_dim)
    with torch.no_grad():
        fast = model.decode(c, z.clone())
    z.requires_grad_(True)
    slow = model.decode(c, z)
    assert torch.allclose(fast, slow.detach(), rtol=1e-4, atol=1e-5)
    assert ((fast == 0) | (fast >= 0.5)).all()


def test_layer_head_rescales_decoded_layers(tiny_geometry: Geometry) -> None:
    model = _model(tiny_geometry)
    batch = _batch(tiny_geometry)
    model.fit_preprocessing(batch.showers, batch.conditions)
    assert model.layer_decoder is not None
    noise = torch.randn(8, model.noise_dim)
    conditions = batch.conditions[:8]
    with torch.no_grad():
        features = model._condition_features(conditions)
        zc = torch.cat([noise, features], dim=1)
        target = torch.relu(model.layer_norm.inverse(model.layer_decoder(zc), conditions)) * conditions[:, :1]
        showers = model.decode(conditions, noise)
    layers = model.layer_sum(showers)
    # every layer carries the energy the layer head predicts (up to voxels cut by the threshold)
    torch.testing.assert_close(layers, target, rtol=1e-3, atol=0.05)

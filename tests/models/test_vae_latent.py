"""The VAE's latent options: IAF posterior (exact log q), KDE latent sampler (fit, decode, save/load), old configs unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from caloforge.geometry import Geometry
from caloforge.models import ShowerBatch, build_model
from caloforge.models.latent_prior import kde_context
from caloforge.models.serialization import load_model, save_model
from caloforge.models.vae import VAE
from caloforge.models.vae.iaf import IAFPosterior, gaussian_log_prob

SMALL = {"latent_dim": 3, "hidden": [16, 8]}


def _fitted(geometry: Geometry, **config: object) -> tuple[VAE, torch.Tensor, torch.Tensor]:
    model = build_model("vae", geometry, {**SMALL, **config})
    assert isinstance(model, VAE)
    gen = torch.Generator().manual_seed(3)
    showers = torch.rand(80, geometry.n_voxels, generator=gen) * 50
    conditions = torch.exp(torch.rand(80, 1, generator=gen) * 4) * 1e3
    model.fit_preprocessing(showers, conditions)
    return model, showers, conditions


def test_iaf_log_q_matches_a_brute_force_change_of_variables() -> None:
    torch.manual_seed(1)
    iaf = IAFPosterior(latent_dim=3, context_dim=2, steps=3, hidden=(7, 5)).double()
    for p in iaf.parameters():  # far from the identity, so the Jacobian is not trivially diagonal
        p.data.normal_(0, 0.7)
    h = torch.randn(1, 2, dtype=torch.float64)
    mu, log_var = torch.randn(1, 3, dtype=torch.float64), torch.randn(1, 3, dtype=torch.float64) * 0.3
    eps = torch.randn(1, 3, dtype=torch.float64)

    def to_z(e: torch.Tensor) -> torch.Tensor:
        z0 = mu[0] + torch.exp(0.5 * log_var[0]) * e
        return iaf(z0[None], torch.zeros(1, dtype=torch.float64), h)[0][0]

    z0 = mu + torch.exp(0.5 * log_var) * eps
    with torch.no_grad():
        z, log_q = iaf(z0, gaussian_log_prob(z0, mu, log_var), h)
    jac = torch.autograd.functional.jacobian(to_z, eps[0])
    brute = gaussian_log_prob(eps)[0] - torch.linalg.slogdet(jac)[1]
    with torch.no_grad():
        assert torch.allclose(z[0], to_z(eps[0]))
    assert float(log_q[0]) == pytest.approx(float(brute), abs=1e-9)
    assert float(torch.linalg.slogdet(jac)[1]) != pytest.approx(float(0.5 * log_var.sum()), abs=1e-3)


def test_iaf_vae_trains_and_its_kl_is_the_monte_carlo_estimate(tiny_geometry: Geometry) -> None:
    model, showers, conditions = _fitted(tiny_geometry, posterior="iaf", iaf_steps=2, iaf_hidden=[8])
    assert model.iaf is not None
    out = model.loss(ShowerBatch(showers, conditions))
    out.loss.backward()
    assert all(p.grad is not None for p in model.iaf.parameters())
    enc = model.encode_showers(showers, conditions, generator=torch.Generator().manual_seed(0))
    assert enc.z.shape == (80, 3)
    assert enc.log_q.shape == (80,)
    assert not torch.allclose(enc.z, enc.mean)  # draws, through the flow


def test_normal_prior_config_is_unchanged(tiny_geometry: Geometry) -> None:
    model, _, conditions = _fitted(tiny_geometry)
    assert model.noise_dim == 3
    assert not [k for k in model.state_dict() if k.startswith(("latent_kde", "iaf"))]
    noise = torch.randn(5, 3)
    features = model._condition_features(conditions[:5])
    assert torch.equal(model.decode(conditions[:5], noise), model.decode(conditions[:5], noise))
    # the decoder sees the noise itself as the latent
    with torch.no_grad():
        y = model.decoder(torch.cat([noise, features], dim=1))
    assert y.shape == (5, tiny_geometry.n_voxels)


def test_kde_sampler_round_trips_through_save_and_load(tiny_geometry: Geometry, tmp_path: Path) -> None:
    model, showers, conditions = _fitted(tiny_geometry, latent_sampler="kde", output_noise=0.5)
    assert model.noise_dim == 3 + tiny_geometry.n_voxels
    with pytest.raises(RuntimeError, match="never fitted"):
        model.sample(conditions[:2])
    model.fit_after_training(showers, conditions)
    assert model.latent_kde is not None
    assert model.latent_kde.points.shape == (80, 4)
    first = model.sample(conditions[:6], generator=torch.Generator().manual_seed(5))
    save_model(model, tmp_path / "kde.pt")
    loaded = load_model(tmp_path / "kde.pt")
    assert isinstance(loaded, VAE)
    assert loaded.latent_kde is not None
    assert torch.equal(loaded.latent_kde.points, model.latent_kde.points)
    again = loaded.sample(conditions[:6], generator=torch.Generator().manual_seed(5))
    assert torch.equal(first, again)
    assert not torch.equal(first, loaded.sample(conditions[:6], generator=torch.Generator().manual_seed(6)))


def test_fit_after_training_leaves_the_global_rng_alone(tiny_geometry: Geometry) -> None:
    model, showers, conditions = _fitted(tiny_geometry, latent_sampler="kde")
    state = torch.get_rng_state()
    model.fit_after_training(showers, conditions)
    assert torch.equal(state, torch.get_rng_state())
    points = model.latent_kde.points.clone()  # type: ignore[union-attr]
    model.fit_after_training(showers, conditions)
    assert torch.equal(points, model.latent_kde.points)  # type: ignore[union-attr]


def test_kde_latents_follow_the_encoded_ones_given_the_energy(tiny_geometry: Geometry) -> None:
    model, showers, conditions = _fitted(tiny_geometry, latent_sampler="kde")
    model.fit_after_training(showers, conditions)
    kde = model.latent_kde_for_sampling()
    assert kde is not None
    torch.testing.assert_close(kde.points[:, 3:], kde_context(conditions))
    low, high = torch.full((2000, 1), float(conditions.min())), torch.full((2000, 1), float(conditions.max()))
    gen = torch.Generator().manual_seed(0)
    z_low = model.sample_noise_given(low, generator=gen)
    z_high = model.sample_noise_given(high, generator=gen)
    encoded = model.encode_showers(showers, conditions, generator=torch.Generator().manual_seed(0)).z
    order = conditions[:, 0].argsort()
    # draws at the lowest / highest energy sit near the latents encoded there, not at the overall mean
    assert torch.allclose(z_low.mean(0), encoded[order[:8]].mean(0), atol=0.5 * float(encoded.std()))
    assert torch.allclose(z_high.mean(0), encoded[order[-8:]].mean(0), atol=0.5 * float(encoded.std()))


def test_kde_vae_exports_with_the_kde_beside_it(tiny_geometry: Geometry, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    import numpy as np

    from caloforge.export import OnnxGenerator, export_onnx
    from caloforge.export.latent_sampler import KDESampler, sidecar_path

    model, showers, conditions = _fitted(tiny_geometry, latent_sampler="kde")
    with pytest.raises(RuntimeError, match="never fitted"):
        export_onnx(model.eval(), tmp_path / "unfitted.onnx")
    model.fit_after_training(showers, conditions)
    result = export_onnx(model.eval(), tmp_path / "vae.onnx")
    assert result.parity.passed
    assert sidecar_path(result.path).is_file()
    gen = OnnxGenerator(result.path)
    assert isinstance(gen.latent, KDESampler)
    energies = conditions[:16, 0].numpy()
    noise = gen.noise(energies, None, np.random.default_rng(0))
    with torch.no_grad():
        expected = model.decode(torch.as_tensor(energies)[:, None], torch.as_tensor(noise)).numpy()
    np.testing.assert_allclose(gen.decode(energies, noise), expected, rtol=1e-4, atol=1e-3)


def test_bad_latent_options_are_refused() -> None:
    from caloforge.config import ConfigError, from_dict
    from caloforge.models.vae import VAEConfig

    with pytest.raises(ConfigError, match="latent_sampler"):
        from_dict(VAEConfig, {"latent_sampler": "flow"})
    with pytest.raises(ValueError, match="iaf_steps"):
        VAEConfig(iaf_steps=0)


def test_shipped_vae_samples_as_before_the_latent_options() -> None:
    from caloforge.models.pretrained import load_pretrained

    model = load_pretrained("vae-siw-electrons")
    assert isinstance(model, VAE)
    assert model.latent_kde is None
    assert model.iaf is None
    x = model.sample(torch.tensor([[1e3], [1e4], [9e4]]), generator=torch.Generator().manual_seed(0))
    # measured with the code before latent_sampler / posterior existed
    assert x.sum(1).tolist() == pytest.approx([886.274658203125, 9160.060546875, 100396.53125], rel=1e-5)
    assert int((x > 0).sum()) == 6271

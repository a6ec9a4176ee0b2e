"""BIB-AE: phases and their optimizer groups, the frozen BIB-AE under the post-processor, KDE latents,
checkpoints, resumption across the phase switch, ONNX export with the KDE beside it, the shipped configs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from caloforge.cli.main import main
from caloforge.geometry import Geometry
from caloforge.models import MODELS, ShowerBatch, build_model, load_model, save_model
from caloforge.models.bibae import BIBAE, BIBAEConfig
from caloforge.models.latent_prior import kde_context
from caloforge.sampling import generate
from caloforge.training import TrainConfig, Trainer

from ..conftest import make_showers

ROOT = Path(__file__).resolve().parents[2]


def _fitted(geometry: Geometry, n: int = 64, *, angles: bool = False, **changes: object) -> tuple[BIBAE, ShowerBatch]:
    data = make_showers(geometry, n, angles=angles)
    batch = ShowerBatch(torch.as_tensor(data.showers).float(), torch.as_tensor(data.conditions()).float())
    config = dataclasses.replace(BIBAE.smoke_config(), **changes)  # type: ignore[arg-type]
    model = BIBAE(geometry, config, n_conditions=batch.conditions.shape[1])
    model.fit_preprocessing(batch.showers, batch.conditions)
    return model, batch


def test_registered_with_three_groups_and_two_phases(tiny_geometry: Geometry) -> None:
    assert MODELS.get("bibae") is BIBAE
    model, _ = _fitted(tiny_geometry)
    assert set(model.optimizer_groups()) == {"critic", "autoencoder", "post"}
    config = BIBAEConfig(n_critic=3, bibae_steps=8)
    schedule = [BIBAE(tiny_geometry, config).group_for_step(s) for s in range(10)]
    assert schedule == ["critic"] * 3 + ["autoencoder"] + ["critic"] * 3 + ["autoencoder", "post", "post"]


def test_bad_config_is_refused() -> None:
    with pytest.raises(ValueError, match="latent_sampler"):
        BIBAEConfig(latent_sampler="uniform")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="channels"):
        BIBAEConfig(channels=())


@pytest.mark.parametrize("geometry_kind", ["cylindrical", "cartesian", "irregular"])
@pytest.mark.parametrize("group", ["critic", "autoencoder", "post"])
def test_each_group_updates_only_its_own_parameters(group: str, geometry_kind: str, tiny_geometry: Geometry) -> None:
    geometry = {
        "cylindrical": tiny_geometry,
        "cartesian": Geometry.cartesian("cart", n_layers=3, nx=4, ny=4, cell_mm=5.0),
        "irregular": Geometry(
            "mixed", (*tiny_geometry.layers[:2], dataclasses.replace(tiny_geometry.layers[2], n_alpha=1))
        ),
    }[geometry_kind]
    model, batch = _fitted(geometry)
    model.train()
    groups = model.optimizer_groups()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    out = model.loss(batch, group)
    assert torch.isfinite(out.loss)
    assert all(np.isfinite(v) for v in out.metrics.values())
    model.zero_grad(set_to_none=True)
    torch.autograd.backward(out.loss)
    own = {id(p) for p in groups[group]}
    for name, p in model.named_parameters():
        if id(p) not in own:
            assert p.grad is None or not p.grad.any(), f"{group} loss reaches {name}"
    torch.optim.AdamW(groups[group], lr=1e-2).step()
    owned = {n for n, p in model.named_parameters() if id(p) in own}
    changed = {k for k, v in model.state_dict().items() if not torch.equal(v, before[k])}
    assert changed - owned <= {"critic_steps"}, changed - owned
    assert changed & owned, f"{group}: no parameter of the group moved"


def test_post_phase_leaves_the_bibae_unchanged(tiny_geometry: Geometry, tmp_path: Path) -> None:
    data = make_showers(tiny_geometry, 64)
    model = build_model("bibae", tiny_geometry, BIBAE.smoke_config())  # bibae_steps=4
    assert isinstance(model, BIBAE)
    config = TrainConfig(max_steps=8, batch_size=16, checkpoint_every=4, keep_checkpoints=5, progress=False,
                         device="cpu", seed=1)
    Trainer(model, config, out_dir=tmp_path).fit(data)
    at_switch = torch.load(tmp_path / "checkpoints" / "step-0000004.pt", weights_only=True)["model"]["state_dict"]
    final = model.state_dict()
    bibae_keys = [k for k in final if k.split(".")[0] in ("encoder", "decoder", "critic", "reset_critic", "latent_critic")]
    assert bibae_keys
    assert all(torch.equal(final[k], at_switch[k]) for k in bibae_keys)
    assert any(not torch.equal(final[k], at_switch[k]) for k in final if k.startswith("post."))
    assert model.latent_kde.is_fitted  # fitted by the trainer after the last step


def test_reset_critic_is_reinitialised_every_k_critic_steps(tiny_geometry: Geometry) -> None:
    model, batch = _fitted(tiny_geometry, critic_reset_every=2)
    model.train()
    first = next(model.reset_critic.parameters())
    snapshots = []
    for _ in range(3):
        snapshots.append(first.detach().clone())
        model.loss(batch, "critic")
    assert int(model.critic_steps) == 3
    assert torch.equal(snapshots[0], snapshots[1])
    assert not torch.equal(snapshots[1], first)
    model.eval()
    model.loss(batch, "critic")  # validation counts nothing
    assert int(model.critic_steps) == 3


@pytest.mark.parametrize("angles", [False, True])
def test_kde_latents_follow_the_encoded_ones(angles: bool, tiny_geometry: Geometry) -> None:
    model, batch = _fitted(tiny_geometry, 400, angles=angles)
    model.eval()
    assert model.latent_kde_for_sampling() is None  # unfitted: N(0, 1)
    model.fit_after_training(batch.showers, batch.conditions)
    assert model.latent_kde_for_sampling() is model.latent_kde
    mu = model.encode(model.to_cells(batch.showers), model.condition_encoder(batch.conditions))[0].detach()
    noise = model.sample_noise_given(batch.conditions, generator=torch.Generator().manual_seed(0))
    z = noise[:, : model.config.latent_dim]
    assert noise.shape == (400, model.noise_dim)
    std = mu.std(0)
    assert torch.all((z.mean(0) - mu.mean(0)).abs() < 0.25 * std + 1e-6)
    assert torch.all((z.std(0) / std - 1).abs() < 0.3)
    assert torch.allclose(model.latent_kde.points[:, model.config.latent_dim :].mean(0),
                          kde_context(batch.conditions).mean(0), rtol=0.05)
    normal, _ = _fitted(tiny_geometry, 400, angles=angles, latent_sampler="normal")
    normal.fit_after_training(batch.showers, batch.conditions)
    assert not normal.latent_kde.is_fitted
    assert normal.latent_kde_for_sampling() is None


def test_save_load_with_fitted_kde_gives_identical_samples(tiny_geometry: Geometry, tmp_path: Path) -> None:
    model, batch = _fitted(tiny_geometry, 200)
    model.fit_after_training(batch.showers, batch.conditions)
    model.eval()
    save_model(model, tmp_path / "model.pt")
    loaded = load_model(tmp_path / "model.pt")
    assert isinstance(loaded, BIBAE)
    assert loaded.latent_kde.is_fitted
    a = generate(model, batch.conditions[:20].numpy(), seed=4, device="cpu").showers
    b = generate(loaded, batch.conditions[:20].numpy(), seed=4, device="cpu").showers
    assert np.array_equal(a, b)
    assert (a >= 0).all()


def test_resume_is_bit_identical_across_the_phase_switch(tiny_geometry: Geometry, tmp_path: Path) -> None:
    data = make_showers(tiny_geometry, 64)
    config = TrainConfig(max_steps=9, batch_size=16, checkpoint_every=3, keep_checkpoints=5, progress=False,
                         device="cpu", ema_decay=0.9, limit_val_batches=1, seed=2)

    def run(out: Path, resume: Path | None = None) -> BIBAE:
        torch.manual_seed(0)
        model = build_model("bibae", tiny_geometry, BIBAE.smoke_config())
        Trainer(model, config, out_dir=out).fit(data.subset(slice(0, 48)), data.subset(slice(48, 64)), resume=resume)
        assert isinstance(model, BIBAE)
        return model

    straight = run(tmp_path / "a")
    resumed = run(tmp_path / "b", resume=tmp_path / "a" / "checkpoints" / "step-0000003.pt")  # before the switch at 4
    assert straight.latent_kde.is_fitted
    for (key, x), (_, y) in zip(straight.state_dict().items(), resumed.state_dict().items(), strict=True):
        assert torch.equal(x, y), f"{key} differs after resuming"


def test_onnx_export_draws_latents_from_the_kde_beside_it(tiny_geometry: Geometry, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from caloforge.export import OnnxGenerator, export_onnx
    from caloforge.export.latent_sampler import KDESampler, sidecar_path

    model, batch = _fitted(tiny_geometry, 300)
    model.fit_after_training(batch.showers, batch.conditions)
    result = export_onnx(model, tmp_path / "bibae.onnx")
    assert result.parity.passed
    assert sidecar_path(result.path).is_file()
    gen = OnnxGenerator(result.path)
    assert isinstance(gen.latent, KDESampler)
    energies = batch.conditions[:32, 0].numpy()
    noise = gen.noise(energies, None, np.random.default_rng(0))
    with torch.no_grad():
        expected = model.decode(torch.as_tensor(energies)[:, None], torch.as_tensor(noise)).numpy()
    np.testing.assert_allclose(gen.decode(energies, noise), expected, rtol=1e-4, atol=1e-3)
    ort_z = gen.latent.sample(np.repeat(energies, 20), None, np.random.default_rng(1))
    torch_z = model.latent_kde.sample(kde_context(torch.as_tensor(np.repeat(energies, 20))[:, None]),
                                      generator=torch.Generator().manual_seed(1)).numpy()
    std = torch_z.std(0)
    assert np.all(np.abs(ort_z.mean(0) - torch_z.mean(0)) < 0.15 * std + 1e-6)
    assert np.all(np.abs(ort_z.std(0) / std - 1) < 0.2)
    sidecar_path(result.path).unlink()
    with pytest.raises(ValueError, match=r"bibae\.kde\.npz: the latent KDE"):
        OnnxGenerator(result.path)


@pytest.mark.parametrize("name", ["bibae-calochallenge-2", "bibae-ild-pions"])
def test_shipped_config_dry_run(name: str, tmp_path: Path) -> None:
    args = ["-q", "train", "--config", str(ROOT / "configs" / f"{name}.yaml"), "--dry-run", "--no-progress",
            "--device", "cpu", "--out", str(tmp_path / "run")]
    assert main(args) == 0
    model = load_model(tmp_path / "run" / "dry-run" / "checkpoints" / "last.pt")
    assert isinstance(model, BIBAE)
    assert model.latent_kde.is_fitted


def test_cli_export_then_onnx_runtime_generation(tiny_geometry: Geometry, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from caloforge.data import read_showers

    model, batch = _fitted(tiny_geometry, 200)
    model.fit_after_training(batch.showers, batch.conditions)
    save_model(model, tmp_path / "model.pt")
    onnx_path, out = tmp_path / "bibae.onnx", tmp_path / "gen.h5"
    assert main(["-q", "export", "--checkpoint", str(tmp_path / "model.pt"), "--format", "onnx", "-o", str(onnx_path)]) == 0
    assert (tmp_path / "bibae.kde.npz").is_file()
    args = ["-q", "generate", "--model", str(onnx_path), "--energies", "log-uniform:1:100", "--n", "40", "-o", str(out),
            "--no-progress", "--seed", "3"]
    assert main(args) == 0
    showers = read_showers(out).showers
    assert showers.shape == (40, tiny_geometry.n_voxels)
    assert np.isfinite(showers).all()
    assert (showers >= 0).all()

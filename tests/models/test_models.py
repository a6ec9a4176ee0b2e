"""Property checks over every registered model, at smoke size on the tiny geometry.

For each model in ``MODELS``: finite losses for every optimizer group, every parameter reached by
some group's gradient, sample shape and non-negativity (energy and energy+angle conditions), a
save/load round trip that reproduces samples, and bit-identical resumption of training.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from caloforge.geometry import Geometry
from caloforge.models import MODELS, GenerativeModel, ShowerBatch, build_model, load_model, save_model
from caloforge.training import TrainConfig, Trainer

from ..conftest import make_showers

NAMES = MODELS.names()


def _model(name: str, geometry: Geometry, *, angles: bool = False) -> tuple[GenerativeModel, ShowerBatch]:
    data = make_showers(geometry, 64, angles=angles)
    batch = ShowerBatch(torch.as_tensor(data.showers), torch.as_tensor(data.conditions()))
    cls = MODELS.get(name)
    model = build_model(name, geometry, cls.smoke_config(), n_conditions=batch.conditions.shape[1])
    model.fit_preprocessing(batch.showers, batch.conditions)
    return model, batch


def test_registry_is_populated() -> None:
    assert {"vae", "wgan"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_contract(name: str) -> None:
    cls = MODELS.get(name)
    assert "arxiv.org/abs/" in (cls.__doc__ or ""), "models cite their paper"
    smoke = cls.smoke_config()
    assert isinstance(smoke, cls.config_class)
    assert smoke != cls.config_class(), "the smoke config is smaller than the defaults"


@pytest.mark.parametrize("name", NAMES)
def test_constructor_checks_the_config_class(name: str, tiny_geometry: Geometry) -> None:
    cls = MODELS.get(name)
    assert cls(tiny_geometry).config == cls.config_class()
    other = next(MODELS.get(n) for n in NAMES if MODELS.get(n).config_class is not cls.config_class)
    with pytest.raises(TypeError, match=f"takes a {cls.config_class.__name__} config, got"):
        cls(tiny_geometry, other.smoke_config())


@pytest.mark.parametrize("name", NAMES)
def test_losses_finite_and_gradients_reach_every_parameter(name: str, tiny_geometry: Geometry) -> None:
    model, batch = _model(name, tiny_geometry)
    model.train()
    reached: set[str] = set()
    groups = model.optimizer_groups()
    for group in groups:
        model.zero_grad(set_to_none=True)
        out = model.loss(batch, group)
        assert out.loss.ndim == 0
        assert torch.isfinite(out.loss), f"{name}/{group}: loss {out.loss}"
        assert all(torch.isfinite(torch.tensor(v)) for v in out.metrics.values())
        out.loss.backward()
        group_ids = {id(p) for p in groups[group]}
        for pname, p in model.named_parameters():
            if p.grad is not None and id(p) in group_ids:
                assert torch.isfinite(p.grad).all(), f"{name}/{group}: non-finite gradient of {pname}"
                reached.add(pname)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable - reached == set(), f"{name}: parameters without gradient: {sorted(trainable - reached)}"


@pytest.mark.parametrize("angles", [False, True])
@pytest.mark.parametrize("name", NAMES)
def test_sample_shape_and_non_negative(name: str, angles: bool, tiny_geometry: Geometry) -> None:
    model, batch = _model(name, tiny_geometry, angles=angles)
    model.eval()
    showers = model.sample(batch.conditions[:10], generator=torch.Generator().manual_seed(0))
    assert showers.shape == (10, tiny_geometry.n_voxels)
    assert torch.isfinite(showers).all()
    assert (showers >= 0).all()
    noise = model.sample_noise(3, generator=torch.Generator().manual_seed(1))
    assert noise.shape == (3, model.noise_dim)


@pytest.mark.parametrize("name", NAMES)
def test_save_load_round_trip(name: str, tiny_geometry: Geometry, tmp_path: Path) -> None:
    model, batch = _model(name, tiny_geometry)
    model.eval()
    save_model(model, tmp_path / "model.pt")
    loaded = load_model(tmp_path / "model.pt")
    assert type(loaded) is type(model)
    assert loaded.is_fitted
    c = batch.conditions[:6]
    a = model.sample(c, generator=torch.Generator().manual_seed(3))
    b = loaded.sample(c, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_resume_is_bit_identical(name: str, tiny_geometry: Geometry, tmp_path: Path) -> None:
    data = make_showers(tiny_geometry, 64)
    smoke = MODELS.get(name).smoke_config()
    config = TrainConfig(
        max_steps=6,
        batch_size=16,
        checkpoint_every=3,
        keep_checkpoints=5,
        progress=False,
        device="cpu",
        warmup_steps=2,
        ema_decay=0.9,
        limit_val_batches=1,
        seed=5,
    )

    def run(out: Path, resume: Path | None = None) -> GenerativeModel:
        torch.manual_seed(0)
        model = build_model(name, tiny_geometry, smoke)
        Trainer(model, config, out_dir=out).fit(data.subset(slice(0, 48)), data.subset(slice(48, 64)), resume=resume)
        return model

    straight = run(tmp_path / "a")
    resumed = run(tmp_path / "b", resume=tmp_path / "a" / "checkpoints" / "step-0000003.pt")
    for (key, x), (_, y) in zip(straight.state_dict().items(), resumed.state_dict().items(), strict=True):
        assert torch.equal(x, y), f"{name}: {key} differs after resuming"
    ema_a = torch.load(tmp_path / "a" / "checkpoints" / "last.pt", weights_only=True)["ema"]["shadow"]
    ema_b = torch.load(tmp_path / "b" / "checkpoints" / "last.pt", weights_only=True)["ema"]["shadow"]
    assert all(torch.equal(ema_a[k], ema_b[k]) for k in ema_a)

"""``caloforge latent`` end to end on a tiny VAE: diagnostics files, a KDE sampler fitted into a new checkpoint, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from caloforge.cli.main import main
from caloforge.data import read_showers, write_showers
from caloforge.geometry import Geometry
from caloforge.models import build_model
from caloforge.models.serialization import load_model, save_model

from ..conftest import make_showers

pytest.importorskip("scipy")


@pytest.fixture
def vae_and_data(tmp_path: Path, tiny_geometry: Geometry) -> tuple[Path, Path]:
    data = make_showers(tiny_geometry, 120, seed=0)
    write_showers(tmp_path / "train.h5", data)
    model = build_model("vae", tiny_geometry, {"latent_dim": 3, "hidden": [16]})
    model.fit_preprocessing(torch.as_tensor(data.showers), torch.as_tensor(data.conditions()))
    save_model(model, tmp_path / "vae.pt")
    return tmp_path / "vae.pt", tmp_path / "train.h5"


def test_latent_report(vae_and_data: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ckpt, data = vae_and_data
    out = tmp_path / "lat"
    assert main(["-q", "latent", "--checkpoint", str(ckpt), "--data", str(data), "--stop", "100", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "dimensions active (mean KL > 0.01 nats)" in text
    result = json.loads((out / "latent.json").read_text())
    assert result["n"] == 100
    assert result["latent_dim"] == 3
    assert len(result["correlation"]) == 3
    assert {"kl", "active", "ks_pvalue", "ad_pvalue", "normal"} <= set(result["dimensions"][0])
    assert result["posterior"] == "gaussian"
    assert "<table" in (out / "latent.html").read_text()
    pytest.importorskip("matplotlib")
    assert (out / "latent-kl.png").stat().st_size > 0
    assert (out / "latent-histograms.png").exists()
    assert (out / "latent-correlation.png").exists()


def test_fit_kde_sampler_then_generate(vae_and_data: tuple[Path, Path], tmp_path: Path) -> None:
    ckpt, data = vae_and_data
    before = ckpt.read_bytes()
    new = tmp_path / "vae-kde.pt"
    args = ["-q", "latent", "--checkpoint", str(ckpt), "--data", str(data), "--fit-sampler", "kde", "--save", str(new)]
    assert main([*args, "--kde-max-points", "50"]) == 0
    assert ckpt.read_bytes() == before
    model = load_model(new)
    assert model.config.latent_sampler == "kde"
    assert model.latent_kde.points.shape == (50, 4)
    original = load_model(ckpt)
    for key, value in original.state_dict().items():
        assert torch.equal(value, model.state_dict()[key])
    assert main([*args]) == 2  # exists: refused without --force
    assert main(["-q", "latent", "--checkpoint", str(ckpt), "--data", str(data), "--fit-sampler", "kde",
                 "--save", str(ckpt), "--force"]) == 2  # never over the input
    assert ckpt.read_bytes() == before
    for name, path in (("kde", new), ("normal", ckpt)):
        gen = ["-q", "generate", "--checkpoint", str(path), "--like", str(data), "--n", "20", "--seed", "1",
               "--no-progress", "-o", str(tmp_path / f"{name}.h5")]
        assert main(gen) == 0
    kde, normal = read_showers(tmp_path / "kde.h5"), read_showers(tmp_path / "normal.h5")
    assert kde.showers.shape == normal.showers.shape == (20, 60)
    assert (kde.showers != normal.showers).any()


def test_errors_name_the_problem(vae_and_data: tuple[Path, Path], tmp_path: Path, tiny_geometry: Geometry,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    ckpt, data = vae_and_data
    assert main(["-q", "latent", "--checkpoint", str(ckpt), "--data", str(data), "--fit-sampler", "kde"]) == 2
    assert "--fit-sampler needs --save" in capsys.readouterr().err
    gan = build_model("wgan", tiny_geometry, {"latent_dim": 2, "generator_hidden": [8]})
    save_model(gan, tmp_path / "gan.pt")
    assert main(["-q", "latent", "--checkpoint", str(tmp_path / "gan.pt"), "--data", str(data)]) == 2
    assert "latent tools need a VAE" in capsys.readouterr().err


def test_training_with_latent_sampler_kde_fits_it_after_the_last_step(
    vae_and_data: tuple[Path, Path], tmp_path: Path
) -> None:
    _, data = vae_and_data
    args = ["-q", "train", "--model", "vae", "--data", str(data), "--no-progress", "--device", "cpu",
            "--out", str(tmp_path / "run"), "--max-steps", "3", "--set", "model.config.latent_dim=3",
            "--set", "model.config.hidden=[16]", "--set", "model.config.latent_sampler=kde",
            "--set", "model.config.posterior=iaf", "--set", "model.config.iaf_hidden=[8]"]
    assert main(args) == 0
    model = load_model(tmp_path / "run" / "checkpoints" / "last.pt")
    assert model.config.posterior == "iaf"
    assert model.latent_kde_for_sampling() is not None
    assert model.latent_kde.points.shape[1] == model.config.latent_dim + 1
    out = tmp_path / "lat-iaf"
    assert main(["-q", "latent", "--checkpoint", str(tmp_path / "run" / "checkpoints" / "last.pt"), "--data", str(data),
                 "--out", str(out), "--no-plots"]) == 0
    result = json.loads((out / "latent.json").read_text())
    assert result["posterior"] == "iaf"
    assert result["kl_monte_carlo"] is not None
    assert "Gaussian base" in (out / "latent.html").read_text()

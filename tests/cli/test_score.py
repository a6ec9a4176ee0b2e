"""``caloforge score``: per-shower log-likelihoods from a flow checkpoint."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from caloforge.cli.main import main
from caloforge.data import read_showers
from caloforge.geometry import Geometry
from caloforge.models import build_model, load_model, save_model
from caloforge.models.flows import CaloFlow

pytest.importorskip("zuko")


@pytest.fixture
def checkpoint(tmp_path: Path, shower_file: Callable[..., Path], tiny_geometry: Geometry) -> Path:
    data = read_showers(shower_file("train.h5", n=32, seed=1))
    model = build_model("caloflow", tiny_geometry, CaloFlow.smoke_config())
    model.fit_preprocessing(torch.from_numpy(data.showers), torch.from_numpy(data.conditions()))
    path = tmp_path / "flow.pt"
    save_model(model, path)
    return path


@pytest.mark.parametrize("suffix", [".h5", ".npy", ".csv"])
def test_score_writes_one_value_per_shower(
    suffix: str, tmp_path: Path, shower_file: Callable[..., Path], checkpoint: Path
) -> None:
    showers = shower_file("test.h5", n=20, seed=2)
    out = tmp_path / f"scores{suffix}"
    assert main(["-q", "score", "--checkpoint", str(checkpoint), str(showers), "-o", str(out), "--no-progress"]) == 0
    if suffix == ".h5":
        with h5py.File(out) as f:
            scores = f["log_likelihood"][:]
            assert f["incident_energies"].shape == (20, 1)
    elif suffix == ".npy":
        scores = np.load(out)
    else:
        table = np.loadtxt(out, delimiter=",", skiprows=1)
        assert table.shape == (20, 3)
        scores = table[:, 2]
    assert scores.shape == (20,)
    assert np.isfinite(scores).all()
    assert np.std(scores) > 0


def test_score_matches_model_log_prob(tmp_path: Path, shower_file: Callable[..., Path], checkpoint: Path) -> None:
    path = shower_file("test.h5", n=10, seed=3)
    out = tmp_path / "scores.npy"
    assert main(["-q", "score", "--checkpoint", str(checkpoint), str(path), "-o", str(out), "--batch-size", "3"]) == 0
    data = read_showers(path)
    model = load_model(checkpoint)
    with torch.no_grad():
        expected = model.log_prob(torch.from_numpy(data.showers), torch.from_numpy(data.conditions())).double()
    np.testing.assert_allclose(np.load(out), expected.numpy(), rtol=1e-5)


def test_score_refuses_to_overwrite(
    tmp_path: Path, shower_file: Callable[..., Path], checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shower_file("test.h5", n=5)
    out = tmp_path / "scores.npy"
    out.write_bytes(b"keep")
    assert main(["-q", "score", "--checkpoint", str(checkpoint), str(path), "-o", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert out.read_bytes() == b"keep"
    assert main(["-q", "score", "--checkpoint", str(checkpoint), str(path), "-o", str(out), "--force"]) == 0
    assert np.load(out).shape == (5,)


def test_score_rejects_unknown_format_and_models_without_density(
    tmp_path: Path, shower_file: Callable[..., Path], checkpoint: Path, tiny_geometry: Geometry
) -> None:
    path = shower_file("test.h5", n=5)
    assert main(["-q", "score", "--checkpoint", str(checkpoint), str(path), "-o", str(tmp_path / "s.txt")]) == 2
    gan = build_model("wgan", tiny_geometry, build_model("wgan", tiny_geometry).smoke_config())
    save_model(gan, tmp_path / "gan.pt")
    assert (
        main(["-q", "score", "--checkpoint", str(tmp_path / "gan.pt"), str(path), "-o", str(tmp_path / "s.npy")]) == 2
    )


@pytest.mark.parametrize("model", ["caloflow", pytest.param("icaloflow", marks=pytest.mark.slow)])
def test_train_resume_generate_score_from_the_command_line(
    model: str, tmp_path: Path, shower_file: Callable[..., Path]
) -> None:
    data, run = shower_file("train.h5", n=64), tmp_path / "run"
    flow = "{transforms: 2, hidden: [16], bins: 4}"
    voxel_key = "layer_flow" if model == "icaloflow" else "voxel_flow"
    config = tmp_path / "run.yaml"
    config.write_text(
        f"model:\n  name: {model}\n  config:\n    teacher_steps: 2\n    energy_flow: {flow}\n"
        f"    {voxel_key}: {flow}\n    student_flow: {flow}\n"
        f"data:\n  path: {data}\ntrain:\n  max_steps: 2\n  batch_size: 16\n  device: cpu\n"
        f"  checkpoint_every: 2\nout: {run}\n"
    )
    assert main(["-q", "train", str(config), "--no-progress"]) == 0
    last = run / "checkpoints" / "last.pt"
    assert not load_model(last).student_trained
    assert main(["-q", "train", str(config), "--no-progress", "--resume", str(last), "--max-steps", "4"]) == 0
    assert load_model(last).student_trained
    generated = tmp_path / "gen.h5"
    args = ["--checkpoint", str(last), "--like", str(data), "--n", "10", "-o", str(generated), "--no-progress"]
    assert main(["-q", "generate", *args]) == 0
    showers = read_showers(generated)
    assert len(showers) == 10
    assert np.isfinite(showers.showers).all()
    assert (showers.showers >= 0).all()
    out = tmp_path / "ll.npy"
    assert main(["-q", "score", "--checkpoint", str(last), str(generated), "-o", str(out), "--no-progress"]) == 0
    assert np.isfinite(np.load(out)).all()

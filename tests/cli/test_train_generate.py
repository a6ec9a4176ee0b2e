"""``caloforge train`` and ``caloforge generate`` in-process on a synthetic file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml

from caloforge.cli.main import main
from caloforge.data import read_showers, write_showers
from caloforge.geometry import Geometry
from caloforge.sampling import ExtrapolationWarning

from ..conftest import make_showers


@pytest.fixture
def trained(shower_file: Callable[..., Path], tmp_path: Path) -> tuple[Path, Path]:
    """A dry-run VAE trained on a 64-event file: (data file, checkpoint)."""
    data = shower_file(n=64)
    out = tmp_path / "run"
    argv = [
        "-q",
        "train",
        "--model",
        "vae",
        "--data",
        str(data),
        "--out",
        str(out),
        "--dry-run",
        "--device",
        "cpu",
        "--no-progress",
    ]
    assert main(argv) == 0
    return data, out / "dry-run" / "checkpoints" / "last.pt"


def test_dry_run_writes_run_directory(trained: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, checkpoint = trained
    run = checkpoint.parents[1]
    assert run.name == "dry-run"
    assert checkpoint.exists()
    assert sorted(p.name for p in run.parent.iterdir()) == ["dry-run"]  # nothing in the real run folder
    assert (run / "metrics.jsonl").read_text()
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["model"]["config"]["hidden"] == [32, 16]  # the smoke config
    assert saved["train"]["max_steps"] == 2


def test_config_file_overrides_and_resume(shower_file: Callable[..., Path], tmp_path: Path) -> None:
    data = shower_file(n=64)
    config = tmp_path / "run.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "model": {"name": "vae", "config": {"latent_dim": 3, "hidden": [8]}},
                "data": {"path": str(data)},
                "train": {"max_steps": 2, "batch_size": 16, "device": "cpu", "progress": False, "checkpoint_every": 2},
                "out": str(tmp_path / "run"),
            }
        )
    )
    assert main(["-q", "train", "--config", str(config), "--set", "train.seed=3"]) == 0
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert saved["train"]["seed"] == 3
    last = tmp_path / "run" / "checkpoints" / "last.pt"
    assert main(["-q", "train", str(config), "--set", "train.seed=3", "--max-steps", "4", "--resume", str(last)]) == 0
    result = yaml.safe_load((tmp_path / "run" / "result.json").read_text())
    assert result["steps"] == 4


def test_generate_energies_and_like(trained: tuple[Path, Path], tmp_path: Path) -> None:
    data, checkpoint = trained
    out = tmp_path / "gen.h5"
    argv = [
        "-q",
        "generate",
        "--checkpoint",
        str(checkpoint),
        "--energies",
        "log-uniform:2:50",
        "--n",
        "25",
        "-o",
        str(out),
        "--batch-size",
        "10",
        "--device",
        "cpu",
        "--no-progress",
    ]
    assert main(argv) == 0
    generated = read_showers(out)
    assert generated.showers.shape == (25, 60)
    assert (generated.showers >= 0).all()
    assert generated.energies.min() >= 2e3
    assert generated.energies.max() <= 5e4
    like = tmp_path / "like.h5"
    assert (
        main(
            [
                "-q",
                "generate",
                "--checkpoint",
                str(checkpoint),
                "--like",
                str(data),
                "-o",
                str(like),
                "--no-progress",
                "--threshold",
                "0.5",
            ]
        )
        == 0
    )
    reference, copy = read_showers(data), read_showers(like)
    np.testing.assert_array_equal(copy.energies, reference.energies)
    assert ((copy.showers == 0) | (copy.showers >= 0.5)).all()


def test_generate_bad_input(trained: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, checkpoint = trained
    out = tmp_path / "gen.h5"
    base = ["-q", "generate", "--checkpoint", str(checkpoint), "--no-progress"]
    assert main([*base, "--energies", "fixed:10", "--n", "3", "-o", str(out)]) == 0
    assert main([*base, "--energies", "fixed:10", "--n", "3", "-o", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main([*base, "--energies", "fixed:10", "--n", "3", "-o", str(out), "--force"]) == 0
    assert main([*base, "--energies", "fixed:10", "-o", str(tmp_path / "x.h5")]) == 2
    broken = tmp_path / "broken.pt"
    broken.write_bytes(checkpoint.read_bytes()[:500])
    assert (
        main(
            [
                "-q",
                "generate",
                "--checkpoint",
                str(broken),
                "--energies",
                "fixed:10",
                "--n",
                "3",
                "-o",
                str(tmp_path / "y.h5"),
            ]
        )
        == 2
    )
    assert "broken.pt: cannot read checkpoint" in capsys.readouterr().err
    other = tmp_path / "other.h5"
    write_showers(other, make_showers(Geometry.regular("other", n_layers=2, n_alpha=1, r_edges=[0, 1, 2]), 4))
    assert main([*base, "--like", str(other), "-o", str(tmp_path / "z.h5")]) == 2
    assert "trained on geometry 'tiny'" in capsys.readouterr().err
    assert main([*base, "--energies", "fixed:10", "--n", "2", "--sampler", "euler:2", "-o", str(tmp_path / "s.h5")]) == 2
    assert "--sampler applies to flow-matching models only" in capsys.readouterr().err
    with pytest.warns(ExtrapolationWarning, match="outside the training range"):
        assert main([*base, "--energies", "fixed:5000", "--n", "2", "-o", str(tmp_path / "far.h5")]) == 0


def test_train_needs_a_config_or_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-q", "train"]) == 2
    assert "--model" in capsys.readouterr().err


CONFIGS = [  # run configs (a "model" section); other YAML files in configs/ drive other commands
    path
    for path in sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))
    if "model" in (yaml.safe_load(path.read_text()) or {})
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_every_shipped_config_dry_runs_and_generates(
    config: Path, shower_file: Callable[..., Path], tmp_path: Path
) -> None:
    data = shower_file(n=64)
    out = tmp_path / "run"
    argv = [
        "-q",
        "train",
        str(config),
        "--data",
        str(data),
        "--set",
        "data.geometry=null",
        "--set",
        "data.stop=null",
        "--out",
        str(out),
        "--dry-run",
        "--device",
        "cpu",
        "--no-progress",
    ]
    assert main(argv) == 0
    gen = tmp_path / "gen.h5"
    argv = [
        "-q",
        "generate",
        "--checkpoint",
        str(out / "dry-run" / "checkpoints" / "last.pt"),
        "--like",
        str(data),
        "--n",
        "5",
        "-o",
        str(gen),
        "--no-progress",
        "--angle",
        "0",
    ]
    assert main(argv) == 0
    assert read_showers(gen).showers.shape == (5, 60)

"""``caloforge reflow`` in-process: train → reflow → generate on a synthetic file, and its error paths."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from caloforge.cli.main import main
from caloforge.data import read_showers
from caloforge.models import load_model

SMOKE = [
    "--set",
    "model.config.dim=8",
    "--set",
    "model.config.heads=2",
    "--set",
    "model.config.depth=1",
    "--set",
    "model.config.layer_hidden=[16]",
    "--set",
    "train.batch_size=16",
]


@pytest.fixture
def teacher(tmp_path: Path, shower_file: Callable[..., Path]) -> tuple[Path, Path]:
    """A flow-matching checkpoint trained for 3 steps and its training file."""
    data = shower_file()
    args = [
        "train",
        "--model",
        "flow-matching",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "run"),
        "--max-steps",
        "3",
        "--device",
        "cpu",
        "--no-progress",
        *SMOKE,
    ]
    assert main(args) == 0
    return tmp_path / "run" / "checkpoints" / "last.pt", data


def test_train_resume_reflow_and_generate(tmp_path: Path, teacher: tuple[Path, Path]) -> None:
    checkpoint, data = teacher
    resumed = [
        "train",
        "--model",
        "flow-matching",
        "--data",
        str(data),
        "--out",
        str(tmp_path / "run"),
        "--max-steps",
        "5",
        "--device",
        "cpu",
        "--no-progress",
        "--resume",
        str(checkpoint),
        *SMOKE,
    ]
    assert main(resumed) == 0
    student = tmp_path / "student.pt"
    args = [
        "reflow",
        "--checkpoint",
        str(checkpoint),
        "--data",
        str(data),
        "--stop",
        "48",
        "-o",
        str(student),
        "--steps",
        "2",
        "--pairs",
        "32",
        "--teacher-steps",
        "3",
        "--train-steps",
        "4",
        "--distill-steps",
        "2",
        "--no-progress",
    ]
    assert main(args) == 0
    model = load_model(student)
    assert (model.config.solver, model.config.n_steps) == ("euler", 2)
    out = tmp_path / "generated.h5"
    assert (
        main(
            [
                "generate",
                "--checkpoint",
                str(student),
                "--like",
                str(data),
                "--n",
                "10",
                "-o",
                str(out),
                "--no-progress",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    generated = read_showers(out)
    assert generated.showers.shape == (10, model.geometry.n_voxels)
    assert (generated.showers >= 0).all()


def test_sampler_only_and_errors(tmp_path: Path, teacher: tuple[Path, Path]) -> None:
    checkpoint, data = teacher
    out = tmp_path / "rk4.pt"
    base = ["reflow", "--checkpoint", str(checkpoint), "--data", str(data), "-o", str(out), "--no-progress"]
    assert main([*base, "--solver", "rk4", "--steps", "3", "--train-steps", "0"]) == 0
    assert load_model(out).config.solver == "rk4"
    assert main([*base, "--train-steps", "0"]) == 2, "an existing output needs --force"
    assert main([*base, "--steps", "0", "--force"]) == 2


def test_generate_with_another_sampler(tmp_path: Path, teacher: tuple[Path, Path]) -> None:
    checkpoint, data = teacher
    base = ["generate", "--checkpoint", str(checkpoint), "--like", str(data), "--n", "6", "--no-progress"]
    out = tmp_path / "rk4.h5"
    assert main([*base, "-o", str(out), "--sampler", "rk4:2", "--device", "cpu"]) == 0
    assert read_showers(out).showers.shape[0] == 6
    import h5py

    with h5py.File(out) as f:
        assert f.attrs["sampler"] == "rk4:2"
    for bad in ("rk4", "rk4:0", "leapfrog:2"):
        assert main([*base, "-o", str(tmp_path / "bad.h5"), "--sampler", bad]) == 2
    assert main([*base, "-o", str(tmp_path / "bad.h5"), "--sampler", "rk4:2", "--workers", "2"]) == 2
    assert not (tmp_path / "bad.h5").exists()


def test_calibrate_writes_a_model_that_generates(tmp_path: Path, teacher: tuple[Path, Path]) -> None:
    checkpoint, data = teacher
    out = tmp_path / "calibrated.pt"
    args = ["calibrate", "--checkpoint", str(checkpoint), "--data", str(data), "--bins", "2", "-o", str(out)]
    assert main([*args, "--sampler", "euler:2"]) == 0
    model = load_model(out)
    assert model.config.occupancy_bins == 2
    assert (model.config.solver, model.config.n_steps) == ("euler", 2)
    assert main(args) == 2  # exists, no --force
    gen = tmp_path / "gen.h5"
    assert main(["generate", "--checkpoint", str(out), "--like", str(data), "-o", str(gen), "--no-progress"]) == 0
    assert read_showers(gen).showers.shape[0] == read_showers(data).showers.shape[0]


def test_reflow_run_directory_checkpoints_and_resume(tmp_path: Path, teacher: tuple[Path, Path]) -> None:
    checkpoint, data = teacher
    run = tmp_path / "reflow-run"
    base = ["reflow", "--checkpoint", str(checkpoint), "--data", str(data), "--pairs", "16", "--teacher-steps", "2"]
    base += ["--train-steps", "3", "--distill-steps", "2", "--batch-size", "8", "--device", "cpu", "--no-progress"]
    base += ["--ema-decay", "0.5", "--checkpoint-every", "2", "--out", str(run)]
    assert main([*base, "-o", str(tmp_path / "a.pt")]) == 0
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["last.pt", "step-0000002.pt", "step-0000004.pt"]
    assert (run / "metrics.jsonl").read_text().count("\n") == 5
    first = load_model(tmp_path / "a.pt")
    assert (first.config.solver, first.config.n_steps) == ("euler", 2)
    assert main([*base, "-o", str(tmp_path / "b.pt")]) == 2, "the run directory holds a run: --resume or --force"
    assert not (tmp_path / "b.pt").exists()
    resume = ["--resume", str(run / "checkpoints" / "step-0000004.pt")]
    assert main([*base, "-o", str(tmp_path / "b.pt"), *resume]) == 0
    again = load_model(tmp_path / "b.pt")
    for (key, a), b in zip(first.state_dict().items(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b), key
    assert main([*base, "-o", str(tmp_path / "c.pt"), *resume, "--seed", "1"]) == 2, "other settings do not resume"

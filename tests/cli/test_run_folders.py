"""Run folders: ``--resume`` continues in the resumed run, ``--dry-run`` never writes into the real run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from caloforge.cli.main import main
from caloforge.training import dry_run_directory, resume_run_directory

FAST = ["--no-progress", "--device", "cpu"]


def _config(tmp_path: Path, data: Path | str, out: Path, **data_extra: object) -> Path:
    config = tmp_path / "run.yaml"
    body = {
        "model": {"name": "vae", "config": {"latent_dim": 3, "hidden": [8]}},
        "data": {"path": str(data), **data_extra},
        "train": {"max_steps": 2, "batch_size": 16, "log_every": 1},
        "out": str(out),
    }
    config.write_text(yaml.safe_dump(body))
    return config


def _snapshot(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}


def test_run_directory_helpers() -> None:
    assert resume_run_directory("runs/vae/checkpoints/step-10.pt") == Path("runs/vae")
    assert resume_run_directory("elsewhere/last.pt") is None
    assert dry_run_directory("runs/vae") == Path("runs/vae/dry-run")


def test_resume_continues_in_the_resumed_run(
    shower_file: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, run = shower_file(n=64), tmp_path / "runs" / "vae"
    config = _config(tmp_path, data, tmp_path / "runs" / "vae-calochallenge-2")  # the config's out differs
    assert main(["-q", "train", str(config), "--out", str(run), *FAST]) == 0
    last = run / "checkpoints" / "last.pt"
    n_lines = len((run / "metrics.jsonl").read_text().splitlines())

    assert main(["-q", "train", str(config), "--resume", str(last), "--max-steps", "4", *FAST]) == 0
    assert not (tmp_path / "runs" / "vae-calochallenge-2").exists()  # not the config's out
    assert json.loads((run / "result.json").read_text())["steps"] == 4
    assert len((run / "metrics.jsonl").read_text().splitlines()) > n_lines  # the same log, continued
    assert f"checkpoint  {last}" in capsys.readouterr().out

    # without a config: the run's own config.yaml (with its data file and overrides)
    assert main(["-q", "train", "--resume", str(last), "--max-steps", "6", *FAST]) == 0
    assert json.loads((run / "result.json").read_text())["steps"] == 6

    # an explicit, different --out is refused before anything is written
    before = _snapshot(run)
    other = tmp_path / "other"
    assert main(["-q", "train", "--resume", str(last), "--out", str(other), "--max-steps", "8", *FAST]) == 2
    err = capsys.readouterr().err.strip()
    assert f"continues the run in {run}" in err
    assert "train.init_from" in err
    assert len(err.splitlines()) == 1
    assert not other.exists()
    assert _snapshot(run) == before
    # the same directory given explicitly is fine
    assert main(["-q", "train", "--resume", str(last), "--out", str(run), "--max-steps", "8", *FAST]) == 0


def test_dry_run_never_touches_the_real_run(shower_file: Callable[..., Path], tmp_path: Path) -> None:
    data, run = shower_file(n=64), tmp_path / "run"
    config = _config(tmp_path, data, run)
    assert main(["-q", "train", str(config), *FAST]) == 0
    before = _snapshot(run)
    lines = []
    for _ in range(2):  # no --force needed, and a second dry run replaces the first
        assert main(["-q", "train", str(config), "--dry-run", *FAST]) == 0
        lines.append(len((run / "dry-run" / "metrics.jsonl").read_text().splitlines()))
    after = _snapshot(run)
    assert {k: v for k, v in after.items() if not k.startswith("dry-run/")} == before
    assert {"dry-run/config.yaml", "dry-run/checkpoints/last.pt", "dry-run/result.json"} <= set(after)
    assert lines[0] == lines[1] > 0  # a new log, not appended
    assert json.loads((run / "dry-run" / "result.json").read_text())["steps"] == 2


def test_dry_run_without_data_simulates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "not-downloaded.h5"
    config = _config(tmp_path, missing, tmp_path / "run", geometry="calochallenge-1-photons")
    assert main(["train", str(config), "--dry-run", *FAST]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "built-in simulator" in line]
    assert len(lines) == 1
    assert str(missing) in lines[0]
    assert "calochallenge-1-photons" in lines[0]
    saved = yaml.safe_load((tmp_path / "run" / "dry-run" / "config.yaml").read_text())
    assert saved["data"]["path"] is None
    assert saved["data"]["simulate"]["n"] == 128
    assert not missing.exists()


def test_dry_run_without_data_or_geometry_names_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "not-downloaded.h5"
    config = _config(tmp_path, missing, tmp_path / "run")
    assert main(["train", str(config), "--dry-run", *FAST]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err
    assert "data.geometry" in err

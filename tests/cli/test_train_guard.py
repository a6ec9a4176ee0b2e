"""``caloforge train`` never replaces a run silently, and bad configs end in one line with exit 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from caloforge.cli.main import main

TRAIN = ["-q", "train", "--model", "wgan", "--dry-run", "--no-progress", "--device", "cpu"]
REAL = ["-q", "train", "--model", "wgan", "--max-steps", "2", "--no-progress", "--device", "cpu"]


def _snapshot(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}


def test_existing_run_is_refused_without_resume_or_force(
    tmp_path: Path, shower_file: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data, run = shower_file(n=64), tmp_path / "run"
    assert main([*REAL, "--data", str(data), "--out", str(run)]) == 0
    before = _snapshot(run)
    assert {"config.yaml", "metrics.jsonl", "result.json", "checkpoints/last.pt"} <= set(before)
    capsys.readouterr()
    assert main([*REAL, "--data", str(data), "--out", str(run), "--seed", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"caloforge train: error: {run} already holds a training run")
    assert f"--resume {run / 'checkpoints' / 'last.pt'}" in err
    assert "--force" in err
    assert len(err.splitlines()) == 1
    assert _snapshot(run) == before  # nothing replaced, nothing appended

    n_lines = len((run / "metrics.jsonl").read_text().splitlines())
    assert main([*REAL, "--data", str(data), "--out", str(run), "--seed", "5", "--force"]) == 0
    assert len((run / "metrics.jsonl").read_text().splitlines()) == n_lines  # a new log, not appended
    assert "seed: 5" in (run / "config.yaml").read_text()
    assert main([*REAL, "--data", str(data), "--out", str(run), "--seed", "5",
                 "--resume", str(run / "checkpoints" / "last.pt")]) == 0
    assert sorted(p.name for p in run.rglob("*.tmp")) == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--max-steps", "-5"], "train.max_steps must be at least 1 (or null: no limit), got -5"),
        (["--set", "train.limit_batches=0"], "train.limit_batches must be at least 1"),
        (["--set", "train.lr=[1, 2"], "override 'train.lr=[1, 2': the value '[1, 2' is not valid YAML"),
        (["--set", "nonsense"], "must look like key.sub=value"),
    ],
)
def test_bad_settings(
    extra: list[str], message: str, tmp_path: Path, shower_file: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = tmp_path / "run"
    args = [a for a in TRAIN if a != "--dry-run"]
    assert main([*args, "--data", str(shower_file()), "--out", str(run), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1
    assert not run.exists()


def test_empty_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert main(["train", str(empty)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("caloforge train: error: model: the config names no model; add 'model: {name: NAME}' "
                   "(or pass --model NAME)")
    (tmp_path / "nodata.yaml").write_text("model: {name: vae}\ndata: {}\n")
    assert main(["train", str(tmp_path / "nodata.yaml")]) == 2
    assert "__init__" not in capsys.readouterr().err

"""Ensembles end to end: ``train --seeds`` → one run per seed → ``generate`` → ``evaluate --ensemble``."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from caloforge.cli.main import main
from caloforge.evaluation.ensemble import MetricSpread, check_ensembles

COMMON = ["--dry-run", "--device", "cpu", "--no-progress"]


def _train(data: Path, out: Path, *extra: str) -> int:
    return main(["-q", "train", "--model", "vae", "--data", str(data), "--out", str(out), *COMMON, *extra])


def test_seeds_train_evaluate_an_ensemble(shower_file: Callable[..., Path], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    data = shower_file(n=200, seed=1)
    runs = tmp_path / "vae"
    assert _train(data, runs, "--seeds", "0", "1", "2") == 0
    runs = runs / "dry-run"  # a dry run writes its members there, never into the real member folders
    members = json.loads((runs / "ensemble.json").read_text())
    assert members["seeds"] == [0, 1, 2]
    assert members["members"] == ["seed-0", "seed-1", "seed-2"]
    for seed in (0, 1, 2):  # each a normal run directory with its own seed
        assert yaml.safe_load((runs / f"seed-{seed}" / "config.yaml").read_text())["train"]["seed"] == seed
    assert len(set(members["val_loss"])) == 3  # independently seeded: three different models
    assert "3 members" in capsys.readouterr().out

    generated = []
    for seed in (0, 1, 2):
        out = tmp_path / f"gen-{seed}.h5"
        argv = ["-q", "generate", "--checkpoint", str(runs / f"seed-{seed}" / "checkpoints" / "last.pt"),
                "--energies", "log-uniform:5:20", "--n", "150", "-o", str(out), "--seed", str(seed), "--device", "cpu", "--no-progress"]
        assert main(argv) == 0
        generated += ["--generated", f"v{seed}={out}"]
    argv = ["-q", "evaluate", "--reference", str(data), *generated, "--ensemble", "vae=v0,v1,v2", "--out",
            str(tmp_path / "eval"), "--classifier", "none", "--distances", "none", "--no-plots", "--bootstrap", "10"]
    assert main(argv) == 0
    assert "ensemble vae (3 members): separation_power_mean" in capsys.readouterr().out
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    spread = metrics["ensembles"]["vae"]["metrics"]["separation_power_mean"]
    values = [metrics["generated"][f"v{s}"]["summary"]["separation_power_mean"] for s in (0, 1, 2)]
    assert spread["values"] == values
    assert spread["n"] == 3
    assert spread["mean"] == pytest.approx(sum(values) / 3)
    assert spread["std"] > 0
    assert metrics["ensembles"]["vae"]["members"] == ["v0", "v1", "v2"]
    assert "<h2>Ensembles</h2>" in (tmp_path / "eval" / "report.html").read_text()


def test_bad_ensembles_are_refused(shower_file: Callable[..., Path], tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    data = shower_file(n=64)
    assert _train(data, tmp_path / "r", "--seeds", "0", "--seed", "3") == 2
    assert "--seeds" in capsys.readouterr().err
    assert _train(data, tmp_path / "r", "--seeds", "1", "1") == 2
    (tmp_path / "r" / "seed-1").mkdir(parents=True)
    (tmp_path / "r" / "seed-1" / "config.yaml").write_text("model: {name: vae}\n")
    real = ["-q", "train", "--model", "vae", "--data", str(data), "--out", str(tmp_path / "r"), "--seeds", "0", "1",
            "--device", "cpu", "--no-progress"]
    assert main(real) == 2  # a member holds a run: nothing trained
    assert "seed-1 already holds a training run" in capsys.readouterr().err
    assert not (tmp_path / "r" / "seed-0").exists()
    assert _train(data, tmp_path / "r", "--seeds", "0", "1") == 0  # a dry run leaves the real members alone
    assert (tmp_path / "r" / "seed-1" / "config.yaml").read_text() == "model: {name: vae}\n"
    assert not (tmp_path / "r" / "seed-0").exists()
    assert (tmp_path / "r" / "dry-run" / "seed-1" / "checkpoints" / "last.pt").is_file()
    argv = ["-q", "evaluate", "--reference", str(data), "--generated", f"a={data}", "--ensemble", "e=a,b",
            "--out", str(tmp_path / "ev"), "--classifier", "none", "--no-plots"]
    assert main(argv) == 2
    assert "unknown generated label(s) b" in capsys.readouterr().err
    with pytest.raises(ValueError, match="at least 2 different members"):
        check_ensembles({"e": ["a"]}, ["a"])
    with pytest.raises(ValueError, match="also a generated label"):
        check_ensembles({"a": ["a", "b"]}, ["a", "b"])


def test_spread_skips_metrics_a_member_lacks() -> None:
    spread = MetricSpread.of([0.1, math.nan, 0.3])
    assert spread.n == 2
    assert spread.mean == pytest.approx(0.2)
    assert math.isnan(MetricSpread.of([0.1]).std)

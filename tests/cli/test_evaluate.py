"""``caloforge evaluate`` in-process on tiny files."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from caloforge.cli.evaluate import parse_generated
from caloforge.cli.main import main


def test_evaluate_cli(tmp_path: Path, shower_file: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    ref, gen = shower_file("ref.h5", n=120, seed=1), shower_file("gen.h5", n=120, seed=2)
    out = tmp_path / "out"
    argv = ["evaluate", "--reference", str(ref), "--generated", f"mine={gen}", "--generated", str(ref),
            "--out", str(out), "--classifier", "none", "--distances", "none", "--no-plots", "--threshold", "0.5"]
    assert main(argv) == 0
    data = json.loads((out / "metrics.json").read_text())
    assert list(data["generated"]) == ["mine", "ref"]
    assert data["settings"]["threshold_mev"] == 0.5
    printed = capsys.readouterr().out
    assert "mean separation power" in printed
    assert "mine: gives it away: " in printed
    assert main(argv) == 2  # existing non-empty output folder without --force
    assert "--force" in capsys.readouterr().err
    repeated = ["--force", "--classifier", "fast", "--classifier-inputs", "high", "--classifier-epochs", "2",
                "--classifier-repeats", "2"]
    assert main([*argv, *repeated]) == 0
    high = json.loads((out / "metrics.json").read_text())["generated"]["mine"]["classifier"]["high"]
    assert high["repeats"] == 2
    assert [r["seed"] for r in high["runs"]] == [0, 1]
    assert f"high AUC {high['auc']:.3f} ± {high['auc_std']:.3f}" in capsys.readouterr().out
    assert main([*argv, "--force", "--classifier-repeats", "0"]) == 2
    assert "classifier_repeats" in capsys.readouterr().err


def test_evaluate_cli_bad_input(tmp_path: Path, shower_file: Callable[..., Path], capsys: pytest.CaptureFixture[str]) -> None:
    ref = shower_file("ref.h5", n=20)
    code = main(["evaluate", "--reference", str(ref), "--generated", str(tmp_path / "missing.h5"), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "no such file" in capsys.readouterr().err


def test_parse_generated_labels() -> None:
    assert parse_generated(["a=x.h5", "dir/y.h5"]) == {"a": "x.h5", "y": "dir/y.h5"}
    with pytest.raises(ValueError, match="duplicate"):
        parse_generated(["a/x.h5", "b/x.h5"])


def test_evaluate_cli_without_matplotlib(
    tmp_path: Path, shower_file: Callable[..., Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the plot extra were not installed
    ref = shower_file("ref.h5", n=60)
    out = tmp_path / "out"
    argv = ["evaluate", "--reference", str(ref), "--generated", str(ref), "--out", str(out), "--classifier", "none",
            "--distances", "none", "--formats", "png"]
    assert main(argv) == 0
    assert (out / "metrics.json").exists()
    assert (out / "report.html").exists()
    assert not (out / "plots").exists()
    assert "warning: figures not drawn: drawing figures needs matplotlib" in capsys.readouterr().out

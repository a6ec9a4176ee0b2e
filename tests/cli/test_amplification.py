"""``caloforge amplification`` on synthetic files: table, JSON, plot, ranges and clear errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from caloforge.cli.amplification import parse_range
from caloforge.cli.main import main

ARGS = ["--bins", "5", "--repeats", "3", "--bootstrap", "20", "--no-progress"]


def test_amplification_writes_table_json_and_plot(
    tmp_path: Path, shower_file: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    truth = shower_file("truth.h5", n=1200, seed=1)
    gen = shower_file("gen.h5", n=600, seed=2)
    out = tmp_path / "amp"
    code = main(["-q", "amplification", "--truth", str(truth), "--truth-range", "0:800", "--pool-range", "800:1200",
                 "--generated", f"same={gen}", "--train-size", "100", "--observables", "response,e_layer:1,n_hits",
                 "-o", str(out), *ARGS])
    assert code == 0
    table = capsys.readouterr().out
    assert "same" in table
    assert "e_layer:1" in table
    assert "800 reference, 400 pool showers" in table
    data = json.loads((out / "amplification.json").read_text())
    assert data["train_size"] == 100
    assert set(data["samples"]["same"]["observables"]) == {"response", "e_layer:1", "n_hits"}
    assert data["sources"]["truth"].endswith("truth.h5[0:800]")
    assert (out / "amplification.png").stat().st_size > 0
    # the outputs exist: refused without --force, before any work
    assert main(["-q", "amplification", "--truth", str(truth), "--generated", str(gen), "--train-size", "100",
                 "-o", str(out), *ARGS]) == 2
    assert "exists" in capsys.readouterr().err


def test_default_observables_and_split(tmp_path: Path, shower_file: Callable[..., Path],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    truth = shower_file("truth.h5", n=800, seed=1)
    gen = shower_file("gen.h5", n=300, seed=3)
    assert main(["-q", "amplification", "--truth", str(truth), "--generated", str(gen), "--train-size", "50",
                 "--no-plot", "-o", str(tmp_path / "o"), *ARGS]) == 0
    out = capsys.readouterr().out
    assert "400 reference, 400 pool showers" in out
    data = json.loads((tmp_path / "o" / "amplification.json").read_text())
    assert next(iter(data["samples"]["gen"]["observables"])) == "response"
    assert "n_hits" in data["samples"]["gen"]["observables"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--observables", "nonsense"], "unknown observable 'nonsense'"),
        (["--observables", "e_layer:9"], "has layers 0..2"),
        (["--truth-range", "500:100"], "--truth-range must be START:STOP"),
        (["--truth-range", "0:5000"], "not within the file's 400"),
        (["--sizes", "10,x"], "--sizes must be comma-separated integers"),
        (["--bins", "1"], "n_bins must be at least 2"),
    ],
)
def test_bad_inputs_end_with_one_line(
    extra: list[str], message: str, tmp_path: Path, shower_file: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    truth = shower_file("truth.h5", n=400, seed=1)
    gen = shower_file("gen.h5", n=100, seed=2)
    code = main(["-q", "amplification", "--truth", str(truth), "--generated", str(gen), "--train-size", "50",
                 "--no-plot", "-o", str(tmp_path / "o"), *ARGS, *extra])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def test_missing_generated_file_is_named(tmp_path: Path, shower_file: Callable[..., Path],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    truth = shower_file("truth.h5", n=400, seed=1)
    assert main(["-q", "amplification", "--truth", str(truth), "--generated", str(tmp_path / "nope.h5"),
                 "--train-size", "50", "--no-plot", "-o", str(tmp_path / "o"), *ARGS]) == 2
    assert "nope.h5: no such file" in capsys.readouterr().err


def test_parse_range() -> None:
    assert parse_range("8500:9500", "r") == (8500, 9500)
    assert parse_range(":100", "r") == (0, 100)
    assert parse_range(None, "r") == (0, None)
    with pytest.raises(ValueError, match="START:STOP"):
        parse_range("12", "r")

"""``caloforge run`` on a YAML pipeline config and the ``caloforge demo`` command line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from caloforge.cli.main import build_parser, main

from ..pipeline.conftest import tiny_pipeline  # noqa: F401  (fixture)


def test_run_writes_the_report(tmp_path: Path, tiny_pipeline: Callable[..., dict[str, Any]]) -> None:  # noqa: F811
    config = tmp_path / "pipeline.yaml"
    config.write_text(yaml.safe_dump(tiny_pipeline()))
    out = tmp_path / "run"
    argv = ["run", "--config", str(config), "--out", str(out), "--no-progress",
            "--set", "export.enabled=false", "--set", "bench.enabled=false"]
    assert main(argv) == 0
    assert (out / "index.html").is_file()
    assert (out / "config.yaml").is_file()
    assert yaml.safe_load((out / "config.yaml").read_text())["export"]["enabled"] is False
    assert not (out / "export").exists()


def test_run_rejects_a_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("models: [{name: vae}]\ndata: {n_trian: 5}\n")
    assert main(["run", "--config", str(config), "--out", str(tmp_path / "run")]) == 2
    assert "n_trian" in capsys.readouterr().err


def test_demo_arguments() -> None:
    args = build_parser().parse_args(["demo"])
    assert args.out == Path("demo-run")
    assert not args.force
    args = build_parser().parse_args(["demo", "--out", "x", "--set", "data.n_train=100", "--force"])
    assert (args.out, args.overrides, args.force) == (Path("x"), ["data.n_train=100"], True)

"""Global options: bare ``caloforge`` prints the help; ``-v`` / ``-q`` work before and after the subcommand."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from caloforge.cli.main import main

SIM = ["simulate", "--geometry", "calochallenge-2", "-n", "3", "--seed", "1", "--no-progress"]


def test_bare_caloforge_prints_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("usage: caloforge")
    assert "simulate" in captured.out
    assert captured.err == ""


@pytest.mark.parametrize(
    ("flags", "level"),
    [
        ([], logging.INFO),
        (["-v"], logging.DEBUG),
        (["-q"], logging.WARNING),
    ],
)
@pytest.mark.parametrize("where", ["before", "after"])
def test_verbosity_before_and_after_the_subcommand(
    flags: list[str], level: int, where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [*flags, *SIM] if where == "before" else [*SIM, *flags]
    assert main([*argv, "-o", str(tmp_path / "s.h5")]) == 0
    assert logging.getLogger("caloforge").level == level
    err = capsys.readouterr().err
    assert ("DEBUG caloforge.data.producer: wrote 3 showers" in err) == (level == logging.DEBUG)
    assert ("INFO caloforge.cli.simulate: simulated 3 showers" in err) == (level <= logging.INFO)


def test_result_line_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*SIM, "-o", str(tmp_path / "s.h5")]) == 0
    err = capsys.readouterr().err
    assert len([line for line in err.splitlines() if "s.h5" in line]) == 1  # logged once, not also by the writer

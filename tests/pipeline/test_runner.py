"""Stage bookkeeping: stamps, skipping, clean re-runs and optional stages."""

from __future__ import annotations

from pathlib import Path

import pytest

from caloforge.pipeline import PipelineConfig, PipelineContext
from caloforge.pipeline.stamp import file_signature, input_key, read_stamp


def _writer(calls: list[str], text: str = "x"):  # type: ignore[no-untyped-def]
    def body(directory: Path) -> tuple[list[str], dict[str, int]]:
        calls.append(text)
        (directory / "out.txt").write_text(text)
        return ["out.txt"], {"n": len(calls)}

    return body


def test_stage_runs_once_until_its_inputs_change(tmp_path: Path) -> None:
    ctx = PipelineContext(PipelineConfig(), tmp_path, progress=False)
    calls: list[str] = []
    first = ctx.run_stage("a", {"x": 1}, [], _writer(calls))
    again = ctx.run_stage("a", {"x": 1}, [], _writer(calls))
    assert (first.skipped, again.skipped, calls) == (False, True, ["x"])
    assert again.info == {"n": 1}
    down = ctx.run_stage("b", {}, ["a"], _writer(calls, "b"))
    ctx.run_stage("a", {"x": 2}, [], _writer(calls, "changed"))  # upstream change → new key
    rerun = ctx.run_stage("b", {}, ["a"], _writer(calls, "b"))
    assert not rerun.skipped
    assert rerun.key != down.key
    assert (tmp_path / "a" / "out.txt").read_text() == "changed"


def test_missing_output_or_force_reruns(tmp_path: Path) -> None:
    calls: list[str] = []
    ctx = PipelineContext(PipelineConfig(), tmp_path, progress=False)
    ctx.run_stage("a", {}, [], _writer(calls))
    (tmp_path / "a" / "out.txt").unlink()
    assert not ctx.run_stage("a", {}, [], _writer(calls)).skipped
    forced = PipelineContext(PipelineConfig(), tmp_path, force=True, progress=False)
    assert not forced.run_stage("a", {}, [], _writer(calls)).skipped
    assert len(calls) == 3


def test_stage_must_produce_its_outputs(tmp_path: Path) -> None:
    ctx = PipelineContext(PipelineConfig(), tmp_path, progress=False)
    with pytest.raises(RuntimeError, match="did not produce"):
        ctx.run_stage("a", {}, [], lambda d: (["missing.txt"], {}))
    assert read_stamp(tmp_path / "a") is None


def test_optional_stage_failure_is_recorded_not_raised(tmp_path: Path) -> None:
    def broken(directory: Path) -> tuple[list[str], dict[str, int]]:
        msg = "no exporter for this model"
        raise ValueError(msg)

    ctx = PipelineContext(PipelineConfig(), tmp_path, progress=False)
    result = ctx.run_stage("export", {}, [], broken, optional=True)
    assert not result.ok
    assert result.error == "ValueError: no exporter for this model"
    assert read_stamp(tmp_path / "export") is None
    with pytest.raises(ValueError, match="no exporter"):
        ctx.run_stage("export", {}, [], broken)


def test_input_key_and_file_signature(tmp_path: Path) -> None:
    assert input_key({"a": 1, "b": 2}) == input_key({"b": 2, "a": 1})
    assert input_key({"a": 1}, ["k1"]) != input_key({"a": 1}, ["k2"])
    path = tmp_path / "f.h5"
    path.write_bytes(b"12345")
    assert file_signature(path)["size"] == 5
    with pytest.raises(FileNotFoundError):
        file_signature(tmp_path / "nope.h5")

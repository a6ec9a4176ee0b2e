"""ONNX Runtime's own warnings stay off the terminal; caloforge's do not."""

from __future__ import annotations

import logging

import pytest

from caloforge.export.runtime import quiet_onnxruntime


def test_onnxruntime_warnings_are_dropped_and_others_kept(caplog: pytest.LogCaptureFixture) -> None:
    quantization = pytest.importorskip("onnxruntime.quantization.quantize")
    root = logging.getLogger()

    def emit(pathname: str, message: str) -> None:
        root.handle(logging.LogRecord("root", logging.WARNING, pathname, 1, message, None, None))

    with caplog.at_level(logging.WARNING), quiet_onnxruntime():
        emit(quantization.__file__, "Please consider to run pre-processing before quantization")
        emit(__file__, "a warning of our own")
    assert [r.getMessage() for r in caplog.records] == ["a warning of our own"]
    emit(quantization.__file__, "after the block")
    assert caplog.records[-1].getMessage() == "after the block"  # the filter is removed again

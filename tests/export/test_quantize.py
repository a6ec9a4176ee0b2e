"""Tests of the int8 and fp16 variants."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from caloforge.export.onnx import export_onnx
from caloforge.export.quantize import quantize_onnx
from caloforge.export.runtime import OnnxGenerator
from caloforge.models import GenerativeModel


@pytest.mark.parametrize("precision", ["int8", "fp16"])
def test_variant_runs_close_to_float32(
    precision: str, fitted_model: Callable[..., GenerativeModel], tmp_path: Path
) -> None:
    src = tmp_path / "m.onnx"
    export_onnx(fitted_model(), src)
    result = quantize_onnx(src, tmp_path / f"m-{precision}.onnx", precision, n_check=64)  # type: ignore[arg-type]
    assert result.size_bytes < result.reference_size_bytes
    gen = OnnxGenerator(result.path, threads=1)
    assert gen.card.precision == precision
    data = gen.generate(np.full(16, 2e4, np.float32), seed=0)
    assert np.isfinite(data.showers).all()
    assert (data.showers >= 0).all()
    assert abs(result.energy_shift) < 0.2
    assert result.deviation.n_showers == 64
    assert result.deviation.max_abs > 0


def test_unknown_precision(fitted_model: Callable[..., GenerativeModel], tmp_path: Path) -> None:
    export_onnx(fitted_model(), tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="precision"):
        quantize_onnx(tmp_path / "m.onnx", tmp_path / "q.onnx", "int4")  # type: ignore[arg-type]

"""Deployment: ONNX / TorchScript export with a parity check, ONNX Runtime generation, quantisation.

Names are imported on first access, so ``caloforge.export.runtime`` (and ``quantize``) work on an
install without PyTorch: only :func:`export_onnx` and :func:`export_torchscript` need torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ExportResult",
    "ModelCard",
    "OnnxGenerator",
    "OnnxProducer",
    "Par04Settings",
    "ParityError",
    "ParityReport",
    "QuantizeResult",
    "check_onnx",
    "export_onnx",
    "export_torchscript",
    "quantize_onnx",
]

_WHERE = {
    "ExportResult": "onnx",
    "export_onnx": "onnx",
    "export_torchscript": "torchscript",
    "ModelCard": "metadata",
    "OnnxGenerator": "runtime",
    "OnnxProducer": "runtime",
    "ParityError": "check",
    "ParityReport": "check",
    "check_onnx": "check",
    "Par04Settings": "graph",
    "QuantizeResult": "quantize",
    "quantize_onnx": "quantize",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        msg = f"module 'caloforge.export' has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(importlib.import_module(f"caloforge.export.{_WHERE[name]}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)

"""Generation-speed and memory benchmarks: ms/shower against batch size per backend (``caloforge bench``).

Names are imported on first access, so an ONNX-only benchmark runs without PyTorch.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["BenchConfig", "BenchRow", "BenchTable", "bench_figure", "benchmark", "save_bench_plot"]

_WHERE = {
    "BenchConfig": "speed",
    "BenchRow": "speed",
    "BenchTable": "speed",
    "benchmark": "suite",
    "bench_figure": "plot",
    "save_bench_plot": "plot",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        msg = f"module 'caloforge.bench' has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(importlib.import_module(f"caloforge.bench.{_WHERE[name]}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)

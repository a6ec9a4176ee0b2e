"""The benchmark entry point: builds the requested backends for a model and times them.

With a PyTorch model, the ONNX files are exported (with their parity check) and quantised into a
working directory; with ONNX files only, just the ONNX Runtime backends run, without PyTorch.

Example:
    >>> table = benchmark(model, config=BenchConfig(batch_sizes=(1, 100)), workdir=tmp)  # doctest: +SKIP
    >>> print(table.to_markdown())  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from caloforge.bench.backends import OrtBackend, torch_backend
from caloforge.bench.speed import BenchConfig, BenchTable, run_backends
from caloforge.export.runtime import OnnxGenerator

__all__ = ["benchmark", "cuda_available"]

logger = logging.getLogger(__name__)

_PRECISION = {"onnxruntime-fp32": "fp32", "onnxruntime-int8": "int8", "onnxruntime-fp16": "fp16"}


def cuda_available(onnx_only: bool = False) -> bool:
    """True when a CUDA device can run the benchmark (PyTorch's view, or ONNX Runtime's for ONNX-only runs)."""
    if onnx_only:
        import onnxruntime

        return "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    import torch

    return bool(torch.cuda.is_available())


def _onnx_files(model: Any, wanted: list[str], given: Mapping[str, Path], workdir: Path) -> dict[str, Path]:
    files = {k: Path(v) for k, v in given.items()}
    missing = [b for b in wanted if b not in files]
    if not missing or model is None:
        return files
    from caloforge.export.onnx import export_onnx
    from caloforge.export.quantize import quantize_onnx

    workdir.mkdir(parents=True, exist_ok=True)
    fp32 = files.get("onnxruntime-fp32") or workdir / "model.onnx"
    if not fp32.exists():
        export_onnx(model, fp32)
    files["onnxruntime-fp32"] = fp32
    for backend in missing:
        if backend != "onnxruntime-fp32":
            target = workdir / f"model-{_PRECISION[backend]}.onnx"
            files[backend] = quantize_onnx(fp32, target, _PRECISION[backend], overwrite=True).path  # type: ignore[arg-type]
    return files


def benchmark(
    model: Any = None,
    *,
    onnx_files: Mapping[str, str | Path] | None = None,
    config: BenchConfig | None = None,
    workdir: str | Path = "bench-models",
    progress: bool = False,
) -> BenchTable:
    """Times generation for every requested backend, thread count, device and batch size.

    Arguments:
        model: A fitted :class:`~caloforge.models.GenerativeModel` (``None``: ONNX files only).
        onnx_files: Existing ONNX models by backend (``{"onnxruntime-fp32": "m.onnx", ...}``).
        config: What to measure.
        workdir: Where exported and quantised models are written when needed.
        progress: Show a progress bar.

    Returns:
        The :class:`BenchTable` (with model file sizes).

    Raises:
        ValueError: If neither a model nor ONNX files are given, or a backend has nothing to run.
    """
    config = config or BenchConfig()
    given = {k: Path(v) for k, v in (onnx_files or {}).items()}
    if model is None and not given:
        msg = "benchmark needs a model or ONNX files"
        raise ValueError(msg)
    ort_wanted = [b for b in config.backends if b.startswith("onnxruntime")]
    torch_wanted = [b for b in config.backends if not b.startswith("onnxruntime")]
    if model is None and torch_wanted:
        logger.info("no PyTorch model given: skipping %s", ", ".join(torch_wanted))
        torch_wanted = []
    files = _onnx_files(model, ort_wanted, given, Path(workdir))
    devices = [d for d in config.devices if d == "cpu" or cuda_available(onnx_only=model is None)]
    backends: list[Any] = []
    for device in devices:
        backends += [torch_backend(name, model, device) for name in torch_wanted]
        backends += [OrtBackend(name, files[name], device) for name in ort_wanted if name in files]
    if not backends:
        msg = f"nothing to run for backends {list(config.backends)}"
        raise ValueError(msg)
    rows = run_backends(backends, config, progress=progress)
    if model is not None:
        model.cpu()
    any_file = next(iter(files.values()), None)
    card = OnnxGenerator(any_file, threads=1).card if any_file is not None else None
    name = card.model if card else type(model).__name__
    geometry = card.geometry.name if card else model.geometry.name
    sizes = {k: v.stat().st_size for k, v in files.items()}
    return BenchTable(name, geometry, rows, config.geant4_ms, sizes)

"""The inference backends the benchmark times, behind one small interface.

A backend prepares the inputs of a batch (not timed), runs one generation call (timed), and sets
its CPU thread count. PyTorch is imported only by the PyTorch backends, so an ONNX-only benchmark
runs without it.

Example:
    >>> backend = OrtBackend("onnxruntime-fp32", "model.onnx")  # doctest: +SKIP
    >>> backend.set_threads(1); backend(backend.inputs(100, np.random.default_rng(0)))  # doctest: +SKIP
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from caloforge.export.runtime import OnnxGenerator

__all__ = ["OrtBackend", "TorchBackend", "torch_backend"]


def _energies(n: int, rng: np.random.Generator) -> np.ndarray:
    return np.exp(rng.uniform(math.log(1e3), math.log(1e5), n)).astype(np.float32)


class OrtBackend:
    """An exported ``.onnx`` model run by ONNX Runtime.

    Arguments:
        name: Backend name for the table (``"onnxruntime-int8"``, ...).
        path: The model file.
        device: ``"cpu"`` or ``"cuda"`` (CUDA execution provider).
    """

    def __init__(self, name: str, path: str | Path, device: str = "cpu") -> None:
        self.name, self.path, self.device = name, Path(path), device
        self.providers = ["CUDAExecutionProvider"] if device == "cuda" else ["CPUExecutionProvider"]
        self.generator = OnnxGenerator(self.path, threads=1, providers=self.providers)

    def set_threads(self, threads: int) -> None:
        """Rebuilds the session with ``threads`` intra-op threads."""
        self.generator = OnnxGenerator(self.path, threads=threads, providers=self.providers)

    def inputs(self, batch: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """The feeds of one batch (energies 1–100 GeV, angles 0–0.3 rad, normal noise)."""
        noise = rng.standard_normal((batch, self.generator.card.noise_dim), dtype=np.float32)
        angles = rng.uniform(0.0, 0.3, batch).astype(np.float32)
        return self.generator.feeds(_energies(batch, rng), angles, noise)

    def __call__(self, feeds: dict[str, np.ndarray]) -> Any:
        """One generation call."""
        return self.generator.session.run(None, feeds)


class TorchBackend:
    """A PyTorch module with the export-graph signature (eager, traced or compiled).

    Arguments:
        name: Backend name for the table.
        module: Callable on the graph inputs.
        graph: The :class:`~caloforge.export.graph.GenerationGraph` (draws the inputs).
        device: ``"cpu"`` or ``"cuda"``.
    """

    def __init__(self, name: str, module: Any, graph: Any, device: str = "cpu") -> None:
        self.name, self.module, self.graph, self.device = name, module, graph, device

    def set_threads(self, threads: int) -> None:
        """Sets PyTorch's intra-op thread count (process-wide)."""
        import torch

        torch.set_num_threads(threads)

    def inputs(self, batch: int, rng: np.random.Generator) -> tuple[Any, ...]:
        """The graph inputs of one batch on the backend's device."""
        import torch

        generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
        return tuple(t.to(self.device) for t in self.graph.example_inputs(batch, generator=generator))

    def __call__(self, inputs: tuple[Any, ...]) -> Any:
        """One generation call (synchronised on a GPU)."""
        import torch

        with torch.inference_mode():
            out = self.module(*inputs)
        if self.device == "cuda":
            torch.cuda.synchronize()
        return out


def torch_backend(name: str, model: Any, device: str = "cpu") -> TorchBackend:
    """The PyTorch backend ``name`` (``pytorch``, ``torchscript`` or ``torch-compile``) of a fitted model.

    Raises:
        ValueError: On an unknown name.
    """
    import torch

    from caloforge.export.graph import GenerationGraph
    from caloforge.export.torchscript import trace_graph

    graph = GenerationGraph(model.to(device)).eval()
    if name == "pytorch":
        return TorchBackend(name, graph, graph, device)
    if name == "torchscript":
        return TorchBackend(name, trace_graph(graph), graph, device)
    if name == "torch-compile":
        return TorchBackend(name, torch.compile(graph, dynamic=True), graph, device)
    msg = f"{name!r} is not a PyTorch backend"
    raise ValueError(msg)

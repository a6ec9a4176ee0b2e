"""TorchScript export of the generation path (for LibTorch applications), verified before writing.

The graph of :mod:`caloforge.export.graph` is traced (``torch.jit.trace``; a traced graph keeps the
dynamic batch axis of every operation caloforge models use), saved with the model card as the
extra file ``caloforge.json``, loaded back and compared with the eager model on a seeded batch whose
size differs from the tracing batch. Only a passing model is renamed into place.

Example:
    >>> import tempfile, pathlib, torch
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.models import build_model, MODELS
    >>> g = Geometry.regular("toy", n_layers=3, n_alpha=4, r_edges=[0, 1, 2, 4, 8, 16])
    >>> model = build_model("wgan", g, MODELS.get("wgan").smoke_config())
    >>> model.fit_preprocessing(torch.rand(16, 60) * 50, torch.full((16, 1), 1e4))
    >>> result = export_torchscript(model, pathlib.Path(tempfile.mkdtemp()) / "toy.pt")
    >>> result.parity.passed
    True
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path
from typing import Any

import torch

from caloforge.atomic import AtomicFile, prepare_target
from caloforge.export.check import DEFAULT_ATOL, DEFAULT_RTOL, ParityError, check_torchscript
from caloforge.export.graph import GenerationGraph, Par04Graph, Par04Settings, Signature, build_graph
from caloforge.export.onnx import ExportResult, exportable_attention, model_card
from caloforge.models.base import GenerativeModel

__all__ = ["CARD_FILE", "export_torchscript", "load_torchscript", "trace_graph"]

logger = logging.getLogger(__name__)

#: Name of the extra file holding the model card inside a TorchScript archive.
CARD_FILE = "caloforge.json"


def trace_graph(graph: GenerationGraph | Par04Graph) -> torch.jit.ScriptModule:
    """Traces ``graph`` on a seeded batch of 8 showers."""
    device = next(iter(graph.parameters()), torch.empty(0)).device
    inputs = tuple(t.to(device) for t in graph.example_inputs(8, generator=torch.Generator().manual_seed(1)))
    with warnings.catch_warnings(), torch.no_grad(), exportable_attention():
        warnings.simplefilter("ignore")  # tracer and deprecation warnings
        # torch.jit.trace and torch.jit.load are untyped in torch's stubs.
        traced: torch.jit.ScriptModule = torch.jit.trace(graph, inputs, check_trace=False)  # type: ignore[no-untyped-call]
        return traced


def load_torchscript(path: str | Path) -> tuple[torch.jit.ScriptModule, dict[str, Any]]:
    """Loads a TorchScript export and its model card (as the JSON dict of ``ModelCard.to_props``)."""
    files = {CARD_FILE: ""}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = torch.jit.load(str(path), map_location="cpu", _extra_files=files)  # type: ignore[no-untyped-call]
    return module, json.loads(files[CARD_FILE] or "{}")


def export_torchscript(
    model: GenerativeModel,
    path: str | Path,
    *,
    signature: Signature = "caloforge",
    par04: Par04Settings | None = None,
    n_check: int = 64,
    seed: int = 0,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    overwrite: bool = False,
) -> ExportResult:
    """Exports the generation path of a fitted model to TorchScript, refusing one that fails parity.

    Arguments are those of :func:`caloforge.export.onnx.export_onnx` (without ``opset``).

    Raises:
        ParityError: If the reloaded TorchScript module does not reproduce the eager model.
        FileExistsError: If ``path`` exists and ``overwrite`` is false.
    """
    path = Path(path)
    prepare_target(path, overwrite=overwrite)
    graph = build_graph(model.cpu(), signature, par04)
    traced = trace_graph(graph)
    card = model_card(model, graph)
    with AtomicFile(path, overwrite=overwrite) as out:
        stream = out.open("wb")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.jit.save(traced, stream, _extra_files={CARD_FILE: json.dumps(card.to_props())})
        stream.flush()
        reloaded, _ = load_torchscript(out.tmp_path)
        report = check_torchscript(graph, reloaded, n=n_check, seed=seed, rtol=rtol, atol=atol)
        if not report.passed:
            msg = f"{path}: refused to write the TorchScript model: {report}"
            raise ParityError(msg)
    logger.info("wrote %s (%.1f kB); %s", path, path.stat().st_size / 1e3, report)
    return ExportResult(path, "torchscript", signature, report, path.stat().st_size)

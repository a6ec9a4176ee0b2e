"""ONNX export of the generation path, verified against PyTorch before the file is written.

The whole generation path — condition encoding, decoder (any fixed-step sampler unrolled) and the
inverse preprocessing — becomes one graph with a dynamic batch axis (see
:mod:`caloforge.export.graph` for the input and output names). The model card
(:class:`~caloforge.export.metadata.ModelCard`) goes into the ONNX metadata. The graph is written to
a temporary file beside the target, run through ONNX Runtime on a seeded batch and compared with
PyTorch; only a model that passes is renamed into place, otherwise :class:`ParityError` is raised
and nothing is left behind.

Example:
    >>> import tempfile, pathlib, torch
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.models import build_model, MODELS
    >>> g = Geometry.regular("toy", n_layers=3, n_alpha=4, r_edges=[0, 1, 2, 4, 8, 16])
    >>> model = build_model("wgan", g, MODELS.get("wgan").smoke_config())
    >>> model.fit_preprocessing(torch.rand(16, 60) * 50, torch.full((16, 1), 1e4))
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "toy.onnx"
    >>> result = export_onnx(model, out)
    >>> result.parity.passed, out.exists()
    (True, True)
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from caloforge import __version__
from caloforge.atomic import atomic_output, prepare_target
from caloforge.export.check import DEFAULT_ATOL, DEFAULT_RTOL, ParityError, ParityReport, check_onnx
from caloforge.export.graph import GenerationGraph, Par04Graph, Par04Settings, Signature, build_graph
from caloforge.export.metadata import ModelCard
from caloforge.models.base import GenerativeModel

__all__ = ["DEFAULT_OPSET", "ExportError", "ExportResult", "attach_card", "export_onnx", "exportable_attention", "model_card", "registry_name"]

logger = logging.getLogger(__name__)

DEFAULT_OPSET = 17
#: Batch size the graph is traced with; the parity batch differs, so a frozen batch size is caught.
TRACE_BATCH = 4


class ExportError(ValueError):
    """The model's generation path cannot be converted (unsupported operation); nothing was written."""


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote.

    Attributes:
        path: The model file.
        format: ``"onnx"`` or ``"torchscript"``.
        signature: ``"caloforge"`` or ``"par04"``.
        parity: The parity check against PyTorch.
        size_bytes: File size, bytes.
        macro: The Geant4 macro written next to a ``par04`` export (``model.mac``), else ``None``.
        latent_kde: The latent KDE written next to the model (``model.kde.npz``) when it samples one, else ``None``.
    """

    path: Path
    format: str
    signature: str
    parity: ParityReport
    size_bytes: int
    macro: Path | None = None
    latent_kde: Path | None = None


def registry_name(model: GenerativeModel) -> str:
    """The ``MODELS`` name of the model's class (its class name if it is not registered)."""
    from caloforge.models import MODELS

    for name in MODELS:
        if MODELS.get(name) is type(model):
            return name
    return type(model).name or type(model).__name__


def model_card(model: GenerativeModel, graph: GenerationGraph | Par04Graph, **extra: str) -> ModelCard:
    """The :class:`ModelCard` describing ``graph`` (exported from ``model``)."""
    info = {"caloforge_version": __version__, **extra}
    if isinstance(graph, Par04Graph):
        info["par04"] = json.dumps(asdict(graph.settings))
    return ModelCard(
        model=registry_name(model),
        signature=graph.signature,
        geometry=model.geometry,
        noise_dim=model.noise_dim,
        n_conditions=model.n_conditions,
        extra=info,
    )


def attach_card(path: str | Path, card: ModelCard) -> None:
    """Writes ``card`` into the ``metadata_props`` of the ONNX file at ``path`` (in place: call it on a temporary file)."""
    import onnx

    proto = onnx.load(str(path))
    keep = [p for p in proto.metadata_props if p.key not in card.to_props()]
    del proto.metadata_props[:]
    proto.metadata_props.extend(keep)
    for key, value in card.to_props().items():
        proto.metadata_props.add(key=key, value=value)
    proto.doc_string = f"caloforge {card.model} shower generator ({card.signature} signature, {card.precision})"
    onnx.save(proto, str(path))


def _write_graph(graph: GenerationGraph | Par04Graph, path: Path, opset: int) -> None:
    """Traces ``graph`` into an ONNX file with a dynamic batch axis on every input and output."""
    inputs = graph.example_inputs(TRACE_BATCH, generator=torch.Generator().manual_seed(1))
    axes = {name: {0: "batch"} for name in (*graph.input_names, *graph.output_names)}
    with warnings.catch_warnings(), torch.no_grad(), exportable_attention(), readout_threshold_symbolic(opset):
        warnings.simplefilter("ignore")  # legacy-exporter deprecation and tracer warnings
        try:
            torch.onnx.export(
                graph,
                inputs,
                str(path),
                dynamo=False,
                input_names=list(graph.input_names),
                output_names=list(graph.output_names),
                dynamic_axes=axes,
                opset_version=opset,
                do_constant_folding=True,
            )
        except (torch.onnx.errors.OnnxExporterError, RuntimeError) as err:
            first = next((line for line in str(err).splitlines() if line.strip()), repr(err))[:300]
            msg = f"cannot export the {type(graph.model).__name__} generation path to ONNX: {first}"
            raise ExportError(msg) from None


def _threshold_symbolic(g: Any, self: Any, threshold: Any, value: Any) -> Any:
    """``threshold(x, t, v)`` = ``x if x > t else v`` for any ``t`` (the stock conversion needs ``t = 0``)."""
    return g.op("Where", g.op("Greater", self, threshold), self, g.op("CastLike", value, self))


@contextmanager
def readout_threshold_symbolic(opset: int) -> Iterator[None]:
    """Exports ``threshold`` with a non-zero threshold (a readout cut) inside the block.

    The stock conversion only handles ``threshold(x, 0, v)``; this one writes ``Where(x > t, x, v)``.
    """
    symbolics = {"aten::threshold": _threshold_symbolic}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, function in symbolics.items():
            # Public in torch.onnx but missing from its __all__, so strict mypy sees a private name.
            torch.onnx.register_custom_op_symbolic(name, function, opset)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name in symbolics:
                torch.onnx.unregister_custom_op_symbolic(name, opset)  # type: ignore[attr-defined]


@contextmanager
def exportable_attention() -> Iterator[None]:
    """Disables PyTorch's fused multi-head-attention fast path (not traceable to ONNX) inside the block."""
    mha = getattr(torch.backends, "mha", None)
    if mha is None:  # pragma: no cover - old torch
        yield
        return
    before = mha.get_fastpath_enabled()
    mha.set_fastpath_enabled(False)
    try:
        yield
    finally:
        mha.set_fastpath_enabled(before)


def export_onnx(
    model: GenerativeModel,
    path: str | Path,
    *,
    signature: Signature = "caloforge",
    par04: Par04Settings | None = None,
    opset: int | None = None,
    n_check: int = 64,
    seed: int = 0,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    overwrite: bool = False,
) -> ExportResult:
    """Exports the generation path of a fitted model to ONNX, refusing a model that fails parity.

    Arguments:
        model: A fitted model; it is moved to the CPU and put in eval mode.
        path: Target ``.onnx`` file.
        signature: ``"caloforge"`` (named MeV inputs) or ``"par04"`` (Geant4 Par04 layout).
        par04: Condition encoding of the Par04 signature.
        opset: ONNX opset version (``None``: :data:`DEFAULT_OPSET`, or for ``par04`` the
            ONNX Runtime 1.11.1-compatible :data:`~caloforge.export.par04.PAR04_OPSET`, 15).
        n_check: Showers in the parity batch.
        seed: Seed of the parity batch.
        rtol: Relative parity tolerance.
        atol: Absolute parity tolerance, MeV.
        overwrite: Replace an existing file (and, for ``par04``, its ``.mac``).

    Returns:
        The :class:`ExportResult` (with the parity report). A ``par04`` export also writes the Geant4
        macro ``<model>.mac`` beside the model (:mod:`caloforge.export.par04`).

    Raises:
        ParityError: If ONNX Runtime does not reproduce PyTorch; no file is written.
        ExportError: If the graph uses an operation ONNX cannot express.
        FileExistsError: If ``path`` exists and ``overwrite`` is false.
        ValueError: If the model is not fitted, or the signature does not fit its geometry.
    """
    from caloforge.export.latent_sampler import CARD_KEY, kde_of, sidecar_path, write_kde
    from caloforge.export.par04 import PAR04_OPSET, macro_for_graph, write_par04_macro

    path = Path(path)
    prepare_target(path, overwrite=overwrite)
    kde = kde_of(model) if signature == "caloforge" else None  # a KDE latent: drawn by the runtime, saved beside
    if kde is not None:
        prepare_target(sidecar_path(path), overwrite=overwrite)
    if signature == "par04":
        prepare_target(path.with_suffix(".mac"), overwrite=overwrite)
    opset = opset if opset is not None else (PAR04_OPSET if signature == "par04" else DEFAULT_OPSET)
    graph = build_graph(model.cpu(), signature, par04)
    with atomic_output(path, overwrite=overwrite) as tmp:
        _write_graph(graph, tmp, opset)
        report = check_onnx(graph, tmp, n=n_check, seed=seed, rtol=rtol, atol=atol)
        if not report.passed:
            msg = f"{path}: refused to write the ONNX model: {report}"
            raise ParityError(msg)
        sampler = {CARD_KEY: sidecar_path(path).name} if kde is not None else {}
        attach_card(tmp, model_card(model, graph, parity=json.dumps(report.to_dict()), opset=str(opset), **sampler))
        if kde is not None:
            write_kde(kde, sidecar_path(path), overwrite=overwrite)
    logger.info("wrote %s (%.1f kB); %s", path, path.stat().st_size / 1e3, report)
    macro = None
    if isinstance(graph, Par04Graph):
        with torch.no_grad():
            n_out = int(graph(*graph.example_inputs(2)).shape[1])
        header = [f"{registry_name(model)} on {model.geometry.name}, exported by caloforge {_version()}, ONNX opset {opset}"]
        macro = write_par04_macro(path, macro_for_graph(graph, f"./{path.name}", n_out, header), overwrite=overwrite)
        logger.info("wrote %s (Geant4 Par04 macro)", macro)
    kde_file = sidecar_path(path) if kde is not None else None
    return ExportResult(path, "onnx", signature, report, path.stat().st_size, macro, kde_file)


def _version() -> str:
    from caloforge import __version__

    return __version__

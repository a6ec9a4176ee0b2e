"""Numerical parity between PyTorch and an exported model (ONNX Runtime or TorchScript).

An element passes when ``|exported − torch| ≤ atol + rtol · |torch|`` (``numpy.allclose``). The
defaults, ``rtol = 1e-3`` and ``atol = 1e-2`` MeV (10 keV, below the 15 keV cell threshold of the
CaloChallenge datasets), accept float32 reordering differences and reject any real change of the
graph. A model with a readout threshold zeroes every voxel below it: a voxel that lies at the threshold
within float32 rounding can be zeroed on one side only. Such threshold flips — zero on one side, on the other
no larger than the reference's smallest non-zero voxel (within the tolerances), at most one in 10⁴ voxels —
are accepted and counted (``n_threshold_flips``). PyTorch is imported only by the functions that run it, so comparisons work on a light install. Reduced-precision variants (fp16, int8) are checked with their own, looser tolerances.

Example:
    >>> import numpy as np
    >>> ref = np.array([[0.0, 100.0, 2000.0]], np.float32)
    >>> compare_outputs(ref, ref + 1e-3).passed
    True
    >>> report = compare_outputs(ref, ref * 1.01)
    >>> report.passed, round(report.max_rel, 3)
    (False, 0.01)
    >>> big = np.full((1, 20000), 50.0, np.float32); big[0, :2] = 0.02
    >>> flipped = big.copy(); flipped[0, 0] = 0.0
    >>> report = compare_outputs(big, flipped)
    >>> report.passed, report.n_threshold_flips
    (True, 1)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = ["ParityError", "ParityReport", "check_onnx", "check_torchscript", "compare_outputs"]

DEFAULT_RTOL = 1e-3
DEFAULT_ATOL = 1e-2


class ParityError(ValueError):
    """An exported model does not reproduce PyTorch within tolerance; nothing was written."""


@dataclass(frozen=True)
class ParityReport:
    """Result of a parity check.

    Attributes:
        n_showers: Showers compared.
        max_abs: Largest absolute difference, MeV.
        max_rel: Largest relative difference ``|Δ| / max(|ref|, atol)``.
        rtol: Relative tolerance used.
        atol: Absolute tolerance used, MeV.
        passed: True when every element is within ``atol + rtol · |ref|`` (or a threshold flip) and all
            outputs are finite.
        n_threshold_flips: Voxels at the readout threshold zeroed on one side only (see the module docstring).
    """

    n_showers: int
    max_abs: float
    max_rel: float
    rtol: float
    atol: float
    passed: bool
    n_threshold_flips: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)

    def __str__(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return (
            f"parity {verdict} on {self.n_showers} showers: max |Δ| = {self.max_abs:.3g} MeV, "
            f"max rel = {self.max_rel:.3g} (rtol {self.rtol:g}, atol {self.atol:g} MeV)"
            + (f"; {self.n_threshold_flips} voxel(s) at the readout threshold zeroed on one side only"
               if self.n_threshold_flips else "")
        )


def compare_outputs(
    reference: NDArray[Any], exported: NDArray[Any], *, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL
) -> ParityReport:
    """Compares exported outputs with the PyTorch reference, both (B, n_voxels) MeV.

    Raises:
        ValueError: If the shapes differ.
    """
    ref = np.asarray(reference, np.float64)
    out = np.asarray(exported, np.float64)
    if ref.shape != out.shape:
        msg = f"exported output has shape {out.shape}, PyTorch gives {ref.shape}"
        raise ValueError(msg)
    finite = bool(np.all(np.isfinite(out)) and np.all(np.isfinite(ref)))
    diff = np.abs(out - ref)
    diff = np.where(np.isfinite(diff), diff, np.inf)
    max_abs = float(diff.max(initial=0.0))
    max_rel = float((diff / np.maximum(np.abs(ref), atol)).max(initial=0.0))
    bad = ~(diff <= atol + rtol * np.abs(ref))
    flips = 0
    if finite and bad.any():
        positive = ref[ref > 0]
        cut = float(positive.min()) * (1 + rtol) + atol if positive.size else atol
        one_side = ((ref == 0) & (out > 0) & (out <= cut)) | ((out == 0) & (ref > 0) & (ref <= cut))
        n_bad = int(bad.sum())
        if bool(np.all(one_side[bad])) and n_bad <= max(1, bad.size // 10_000):
            flips, bad = n_bad, np.zeros_like(bad)
    passed = finite and not bool(bad.any())
    return ParityReport(len(ref), max_abs, max_rel, rtol, atol, passed, flips)


def _reference(graph: nn.Module, inputs: tuple[torch.Tensor, ...]) -> NDArray[np.float32]:
    import torch

    with torch.no_grad():
        return graph(*inputs).detach().cpu().numpy()  # type: ignore[no-any-return]


def _batch(graph: nn.Module, n: int, seed: int) -> tuple[torch.Tensor, ...]:
    import torch

    generator = torch.Generator().manual_seed(seed)
    return graph.example_inputs(n, generator=generator)  # type: ignore[operator, no-any-return]


def check_onnx(
    graph: nn.Module,
    path: str | Path,
    *,
    n: int = 64,
    seed: int = 0,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
) -> ParityReport:
    """Runs ``graph`` (PyTorch) and the ONNX file at ``path`` (ONNX Runtime, CPU) on one batch.

    Arguments:
        graph: The exported :class:`~caloforge.export.graph.GenerationGraph` or ``Par04Graph``
            (whose energy-normalised outputs are compared after scaling back to MeV).
        path: The ``.onnx`` file.
        n: Batch size (energies log-uniform 1–100 GeV, seeded noise).
        seed: Seed of the batch.
        rtol: Relative tolerance.
        atol: Absolute tolerance, MeV.

    Returns:
        The :class:`ParityReport`.
    """
    from caloforge.export.runtime import onnx_session

    inputs = _batch(graph, n, seed)
    session = onnx_session(path, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    feeds = {name: tensor.numpy() for name, tensor in zip(names, inputs, strict=True)}
    try:
        out = session.run(None, feeds)[0]
    except Exception as err:  # noqa: BLE001  (onnxruntime raises its own Fail/InvalidArgument types)
        msg = (
            f"ONNX Runtime cannot run the exported graph on a batch of {n}: {str(err).strip()[:300]}. "
            "If decode uses the batch size as a Python number (len(x), int(x.shape[0]), a size list), "
            "tracing froze it into the graph: use x.shape[0] or tensor operations such as expand_as"
        )
        raise ParityError(msg) from None
    scale = graph.output_mev(inputs).numpy()  # type: ignore[operator]
    return compare_outputs(_reference(graph, inputs) * scale, out * scale, rtol=rtol, atol=atol)


def check_torchscript(
    graph: nn.Module,
    scripted: torch.jit.ScriptModule,
    *,
    n: int = 64,
    seed: int = 0,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
) -> ParityReport:
    """Compares ``graph`` with its TorchScript version on one seeded batch (see :func:`check_onnx`)."""
    import torch

    inputs = _batch(graph, n, seed)
    try:
        with torch.no_grad():
            out = scripted(*inputs).detach().cpu().numpy()
    except RuntimeError as err:
        msg = (
            f"the traced graph cannot run on a batch of {n}: {str(err).strip().splitlines()[-1][:300]}. "
            "If decode uses the batch size as a Python number, tracing froze it: use x.shape[0]"
        )
        raise ParityError(msg) from None
    scale = graph.output_mev(inputs).numpy()  # type: ignore[operator]
    return compare_outputs(_reference(graph, inputs) * scale, out * scale, rtol=rtol, atol=atol)

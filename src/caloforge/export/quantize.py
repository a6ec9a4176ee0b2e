"""Reduced-precision variants of an exported ONNX model: dynamic int8 and mixed fp16.

* ``int8``: ONNX Runtime dynamic quantisation (``onnxruntime.quantization.quantize_dynamic``):
  weights of ``MatMul`` / ``Gemm`` stored as signed int8 with one scale per output channel and a
  7-bit range (``reduce_range``: avoids the saturation of x86 u8×s8 kernels), activations quantised
  on the fly. On a calochallenge-2 VAE the default per-tensor 8-bit setting shifted the mean total
  shower energy by −7 % (errors are exponentiated by the inverse preprocessing); this one by −0.1 %.
* ``fp16``: the weights of dense and convolution nodes stored and run in half precision, with casts
  around them; inputs, outputs and every other node — condition encoding and inverse preprocessing,
  whose values in MeV overflow float16 above 65 504 — stay float32. (The generic converter
  ``onnxruntime.transformers.float16`` routes blocked nodes' values through float16 casts and
  overflows on MeV-scale values, so the conversion is done node by node here.)

Like the runtime, this module needs no PyTorch. The variant carries the original model card with its
``precision`` changed, and its deviation from the float32 model on a seeded batch is reported (not
enforced: the physics cost is measured with the validation suite on generated files).

Example:
    >>> result = quantize_onnx("model.onnx", "model-int8.onnx", "int8")  # doctest: +SKIP
    >>> result.size_bytes < result.reference_size_bytes  # doctest: +SKIP
    True
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from caloforge.atomic import atomic_output, prepare_target
from caloforge.export.check import ParityReport, compare_outputs
from caloforge.export.metadata import ModelCard
from caloforge.export.runtime import OnnxGenerator, quiet_onnxruntime

__all__ = ["FP16_OPS", "Precision", "QuantizeResult", "quantize_onnx"]

logger = logging.getLogger(__name__)

Precision = Literal["int8", "fp16"]

#: Node types run in float16 by the ``fp16`` variant (all others stay float32).
FP16_OPS = frozenset({"MatMul", "Gemm", "Conv", "ConvTranspose"})


@dataclass(frozen=True)
class QuantizeResult:
    """A reduced-precision variant.

    Attributes:
        path: The written model.
        precision: ``"int8"`` or ``"fp16"``.
        size_bytes: Its file size, bytes.
        reference_size_bytes: File size of the float32 model, bytes.
        deviation: Difference from the float32 model on a seeded batch (informative tolerances).
        energy_shift: Mean relative change of the total shower energy, (E_q − E_32) / E_32.
    """

    path: Path
    precision: str
    size_bytes: int
    reference_size_bytes: int
    deviation: ParityReport
    energy_shift: float


def _int8(src: Path, dst: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with quiet_onnxruntime():  # its "consider pre-processing" warning is not for our users
        quantize_dynamic(
            src, dst, op_types_to_quantize=["MatMul", "Gemm"], weight_type=QuantType.QInt8,
            per_channel=True, reduce_range=True,
        )


def _fp16(src: Path, dst: Path) -> None:
    """Stores the weights of ``FP16_OPS`` nodes in float16 and runs those nodes in float16.

    Each such node gets its activation inputs cast to float16 and its output cast back to float32,
    so every other node (and every value in MeV) stays float32.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    inits = {init.name: init for init in graph.initializer}
    half: dict[str, str] = {}
    nodes = []
    for node in graph.node:
        if node.op_type not in FP16_OPS:
            nodes.append(node)
            continue
        for i, name in enumerate(node.input):
            if name in inits:
                if name not in half:
                    half[name] = f"{name}_fp16"
                    array = numpy_helper.to_array(inits[name]).astype(np.float16)
                    graph.initializer.append(numpy_helper.from_array(array, half[name]))
                node.input[i] = half[name]
            elif name:
                cast = f"{name}_to_fp16_{node.name or id(node)}"
                nodes.append(helper.make_node("Cast", [name], [cast], to=TensorProto.FLOAT16))
                node.input[i] = cast
        out = node.output[0]
        node.output[0] = f"{out}_fp16"
        nodes.extend([node, helper.make_node("Cast", [node.output[0]], [out], to=TensorProto.FLOAT)])
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for node in graph.node for name in node.input}
    keep = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    del graph.value_info[:]
    onnx.save(model, str(dst))


def _restamp(path: Path, card: ModelCard) -> None:
    import onnx

    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    for key, value in card.to_props().items():
        proto.metadata_props.add(key=key, value=value)
    onnx.save(proto, str(path))


def _probe(gen: OnnxGenerator, n: int, seed: int) -> tuple[Any, Any, Any]:
    rng = np.random.default_rng(seed)
    energies = np.exp(rng.uniform(math.log(1e3), math.log(1e5), n)).astype(np.float32)
    angles = rng.uniform(0.0, 0.3, n).astype(np.float32)
    noise = rng.standard_normal((n, gen.card.noise_dim), dtype=np.float32)
    return energies, noise, angles


def quantize_onnx(
    src: str | Path,
    dst: str | Path,
    precision: Precision = "int8",
    *,
    n_check: int = 256,
    seed: int = 0,
    overwrite: bool = False,
) -> QuantizeResult:
    """Writes the ``precision`` variant of the float32 model ``src`` to ``dst``.

    Arguments:
        src: A float32 model from ``caloforge export``.
        dst: Output ``.onnx`` file.
        precision: ``"int8"`` (dynamic quantisation) or ``"fp16"`` (mixed half precision).
        n_check: Showers in the comparison batch (energies log-uniform 1–100 GeV).
        seed: Seed of the comparison batch.
        overwrite: Replace an existing ``dst``.

    Raises:
        FileExistsError: If ``dst`` exists and ``overwrite`` is false.
        ValueError: On an unknown precision.
    """
    src, dst = Path(src), Path(dst)
    prepare_target(dst, overwrite=overwrite)
    writers = {"int8": _int8, "fp16": _fp16}
    if precision not in writers:
        msg = f"unknown precision {precision!r}; choices are {sorted(writers)}"
        raise ValueError(msg)
    reference = OnnxGenerator(src, threads=1)
    with atomic_output(dst, overwrite=overwrite) as tmp:
        writers[precision](src, tmp)
        _restamp(tmp, dataclasses.replace(reference.card, precision=precision, extra=dict(reference.card.extra)))
        variant = OnnxGenerator(tmp, threads=1)
        energies, noise, angles = _probe(reference, n_check, seed)
        ref = reference.decode(energies, noise, angles)
        out = variant.decode(energies, noise, angles)
    deviation = compare_outputs(ref, out, rtol=0.05, atol=0.1)
    e_ref, e_out = ref.sum(axis=1), out.sum(axis=1)
    shift = float(np.mean((e_out - e_ref) / np.maximum(e_ref, 1e-6)))
    result = QuantizeResult(dst, precision, dst.stat().st_size, src.stat().st_size, deviation, shift)
    logger.info(
        "%s: %s variant, %.1f kB (float32 %.1f kB), total-energy shift %+.2e, max |Δ| %.3g MeV",
        dst, precision, result.size_bytes / 1e3, result.reference_size_bytes / 1e3, shift, deviation.max_abs,
    )
    return result

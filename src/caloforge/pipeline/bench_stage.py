"""The pipeline's benchmark stage: generation time per shower vs batch size, PyTorch and ONNX Runtime.

Times in-memory generation (no file I/O) of ``n_showers`` showers at the reference energies' range after one
warm-up batch, on this machine's CPU threads, and writes ``bench/<label>/bench.json``. The fastest time over
batch sizes enters the report's speed-up column.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from caloforge.atomic import atomic_write_text
from caloforge.config import to_dict
from caloforge.data import ShowerFile
from caloforge.pipeline.config import PipelineModel
from caloforge.pipeline.runner import PipelineContext, StageResult

__all__ = ["bench_stage", "time_per_shower"]

logger = logging.getLogger(__name__)


def time_per_shower(run: Callable[[np.ndarray, int], Any], energies: np.ndarray, batch_size: int) -> float:
    """Milliseconds per shower of ``run(energies_batch, batch_size)`` over all ``energies``, after a warm-up.

    Arguments:
        run: Generates one batch: ``run(energies (B,) MeV, batch_size)``.
        energies: Incident energies, (N,), MeV (or (N, 2) rows of energy and angle; ``run`` gets the rows).
        batch_size: Showers per call.

    Returns:
        Wall time per shower, ms.
    """
    run(energies[:batch_size], batch_size)
    start = time.perf_counter()
    for i in range(0, len(energies), batch_size):
        run(energies[i : i + batch_size], batch_size)
    return 1e3 * (time.perf_counter() - start) / len(energies)


def _energies(ctx: PipelineContext, n: int, *, with_angles: bool = False) -> np.ndarray:
    """``n`` reference energies (N,), MeV, or with ``with_angles`` (N, 2) rows of energy and angle (rad)."""
    with ShowerFile(ctx.results["data"].info["reference"]) as ref:
        e = ref.energies
        a = ref.angles
    if not with_angles:
        return np.resize(e, n).astype(np.float32)
    if a is None:
        msg = f"{ref.path}: the model is angle-conditioned but the reference has no angles to time it at"
        raise ValueError(msg)
    return np.resize(np.stack([e, a], axis=1), (n, 2)).astype(np.float32)


def _split(c: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Energies and angles (``None`` for an energy-only model) of the rows ``_energies`` returned."""
    return (c[:, 0], c[:, 1]) if c.ndim == 2 else (c, None)


def bench_stage(ctx: PipelineContext, spec: PipelineModel) -> StageResult:
    """Times generation with the trained model (and its ONNX export) in ``bench/<label>/``."""
    cfg = ctx.config.bench
    export = ctx.results.get(f"export/{spec.label}")
    onnx = cfg.onnx and export is not None and export.ok
    upstream = [f"train/{spec.label}", *([f"export/{spec.label}"] if onnx else [])]

    def bench(directory: Path) -> tuple[list[str], dict[str, Any]]:
        import torch

        from caloforge.models import load_model
        from caloforge.sampling import generate

        model = load_model(ctx.results[f"train/{spec.label}"].path("model.pt"))
        energies = _energies(ctx, cfg.n_showers, with_angles=model.n_conditions == 2)
        rows: list[dict[str, Any]] = []
        for batch in cfg.batch_sizes:
            n = min(len(energies), max(batch * 5, min(len(energies), 200)))
            ms = time_per_shower(
                lambda c, b: generate(model, _split(c)[0], angles=_split(c)[1], batch_size=b, seed=0, device="cpu"),
                energies[:n], batch,
            )
            rows.append({"backend": "torch", "batch_size": batch, "ms_per_shower": ms, "n": n})
        if onnx:
            from caloforge.export import OnnxGenerator

            gen = OnnxGenerator(ctx.results[f"export/{spec.label}"].path("model.onnx"))
            for batch in cfg.batch_sizes:
                n = min(len(energies), max(batch * 5, min(len(energies), 200)))
                ms = time_per_shower(lambda c, b: gen.generate(*_split(c), batch_size=b, seed=0), energies[:n], batch)
                rows.append({"backend": "onnxruntime", "batch_size": batch, "ms_per_shower": ms, "n": n})
        best = {
            backend: min((r["ms_per_shower"] for r in rows if r["backend"] == backend), default=None)
            for backend in ("torch", "onnxruntime")
        }
        info = {
            "torch_ms_per_shower": best["torch"], "onnx_ms_per_shower": best["onnxruntime"],
            "threads": torch.get_num_threads(), "rows": rows,
        }
        atomic_write_text(directory / "bench.json", json.dumps(info, indent=2) + "\n")
        return ["bench.json"], info

    return ctx.run_stage(f"bench/{spec.label}", to_dict(cfg), upstream, bench)

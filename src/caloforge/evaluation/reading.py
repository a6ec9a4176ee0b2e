"""The reading phase of an evaluation: open and check the files, then scan each one once.

:func:`open_files` opens the reference and every generated file, checks their geometries and flags
different sizes or incident-energy spectra; :func:`scan_all` streams every file once (features, average
shower, voxel spectrum, the classifier's voxel subset) and the reference a second time for its voxel
spectrum, in a thread beside the generated passes. :func:`input_files` records what was read
(:mod:`~caloforge.evaluation.provenance`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from caloforge.data.io import ShowerFile
from caloforge.evaluation.binning import log_edges
from caloforge.evaluation.config import EvaluationConfig
from caloforge.evaluation.histograms import Histogram
from caloforge.evaluation.provenance import FileInfo, file_info
from caloforge.evaluation.scan import SampleScan, scan_showers, voxel_histogram

__all__ = ["input_files", "open_files", "scan_all"]

logger = logging.getLogger(__name__)

_CHUNK_BYTES = 256 << 20


def _chunks(f: ShowerFile, config: EvaluationConfig, label: str) -> Any:
    """Chunks of at most ``config.chunk_size`` showers and 256 MiB of voxels (bounded memory on dataset 3)."""
    from tqdm.auto import tqdm

    size = max(1, min(config.chunk_size, _CHUNK_BYTES // (4 * f.geometry.n_voxels)))
    total = math.ceil(len(f) / size)
    return tqdm(f.iter_chunks(size, validate=False), total=total, desc=label, disable=not config.progress)


def _keep_rows(n: int, config: EvaluationConfig, n_voxels: int, rng: np.random.Generator) -> np.ndarray | None:
    cls = config.classifier_config()
    if cls is None or not ({"low", "low-normed"} & set(config.classifier_inputs)):
        return None
    cap = min(cls.max_events or n, (config.classifier_memory_mb << 20) // (4 * n_voxels), n)
    if cap < min(cls.max_events or n, n):
        logger.warning("classifier: %d of %d showers per sample kept for the voxel tests (the %d MiB cap, "
                       "--classifier-max-mib)", cap, n, config.classifier_memory_mb)
    return np.sort(rng.choice(n, cap, replace=False))


def open_files(reference: str | Path, generated: Mapping[str, str | Path], config: EvaluationConfig) -> tuple[
    ShowerFile, dict[str, ShowerFile], list[str]
]:
    if not generated:
        msg = "give at least one generated file"
        raise ValueError(msg)
    if "reference" in generated:
        msg = "'reference' is reserved for the reference sample; label the generated file otherwise"
        raise ValueError(msg)
    ref = ShowerFile(reference, config.geometry)
    gens: dict[str, ShowerFile] = {}
    flags: list[str] = []
    try:
        for label, path in generated.items():
            gen = ShowerFile(path, config.geometry or ref.geometry)
            gens[label] = gen
            if not gen.geometry.same_binning(ref.geometry):
                msg = f"{path}: geometry {gen.geometry.name!r} differs from the reference's {ref.geometry.name!r}"
                raise ValueError(msg)
            if len(gen) != len(ref):
                flags.append(f"{label}: {len(gen)} showers vs {len(ref)} in the reference (histograms are "
                             "normalised; the classifier uses equal numbers per class)")
            ks = stats.ks_2samp(ref.energies, gen.energies)
            if ks.pvalue < 1e-3:
                flags.append(f"{label}: incident-energy spectrum differs from the reference (KS p = {ks.pvalue:.2g}); "
                             "feature comparisons assume the same conditions")
    except BaseException:
        for f in (ref, *gens.values()):
            f.close()
        raise
    return ref, gens, flags


def scan_all(
    ref: ShowerFile, gens: dict[str, ShowerFile], config: EvaluationConfig, threshold: float,
    on_chunk: Mapping[str, Callable[[np.ndarray, np.ndarray], None]] | None = None,
) -> tuple[SampleScan, dict[str, SampleScan], np.ndarray, Histogram]:
    """Scans every file once (``on_chunk``: per label, ``"reference"`` included, a callback of the scan)."""
    hooks = on_chunk or {}
    rng = np.random.default_rng(config.seed)
    geometry = ref.geometry
    keep = _keep_rows(len(ref), config, geometry.n_voxels, rng)
    ref_scan = scan_showers(_chunks(ref, config, "reference"), geometry, threshold, keep=keep, invalid="error",
                            negative="error", label=f"reference {ref.path}", on_chunk=hooks.get("reference"))
    low = threshold if threshold > 0 else (ref_scan.min_positive_voxel if math.isfinite(ref_scan.min_positive_voxel) else 1e-6)
    edges = log_edges(low, ref_scan.max_voxel, 50)
    scans = {}
    # the reference's second (voxel-spectrum) pass runs in a thread beside the generated passes: numpy
    # releases the GIL, so two cores are used
    with ThreadPoolExecutor(max_workers=1) as pool:
        ref_voxels = pool.submit(voxel_histogram, _chunks(ref, config, "reference voxels"), edges, threshold)
        for label, f in gens.items():
            keep = _keep_rows(len(f), config, geometry.n_voxels, rng)
            scans[label] = scan_showers(_chunks(f, config, label), geometry, threshold, voxel_edges=edges, keep=keep,
                                        invalid=config.invalid, label=f"{label} ({f.path})",
                                        on_chunk=hooks.get(label))
        counts, outside = ref_voxels.result()
    return ref_scan, scans, edges, Histogram(counts, overflow=outside)




def input_files(ref: ShowerFile, gens: Mapping[str, ShowerFile]) -> dict[str, FileInfo]:
    """Path, size, showers, SHA-256 prefix and stored attributes of every input file (``"reference"`` first)."""
    files = {"reference": ref, **gens}
    return {label: file_info(f.path, len(f), f.attrs) for label, f in files.items()}

"""Reweighting shower files: fit on a reference and a generated file, write a weighted copy (``caloforge reweight``).

:func:`reweight_file` reads the showers ``start:stop`` of both files (the same rows of each: a generated
file made for the reference's conditions, e.g. ``caloforge generate --like``), computes their high-level
features, fits :func:`~caloforge.evaluation.reweight.fit_reweighter`, and writes a copy of the file to
weight (``apply``; default the generated file) with a ``weights`` dataset beside its showers, atomically
and checksummed (:class:`~caloforge.data.ShowerWriter`). Provenance goes into the file attributes
(``reweight_*``).

Keep the evaluation showers out of the fit: give ``start:stop`` rows that exclude them, or weight a
separate file with ``apply``. Weights of showers the classifier was trained on are biased towards the
training sample; a weighted copy that contains training rows is flagged in its attributes
(``reweight_training_rows``) and in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from caloforge.atomic import prepare_target
from caloforge.data.io import ShowerFile
from caloforge.data.showers import ShowerData
from caloforge.data.writer import DEFAULT_COMPRESSION, ShowerWriter
from caloforge.evaluation.binning import default_threshold
from caloforge.evaluation.features import FeatureTable, _layer_moments, apply_threshold, features_of
from caloforge.evaluation.reweight import (
    FitInfo,
    ReweightConfig,
    effective_sample_size,
    fit_reweighter,
    normalise_weights,
    reweight_inputs,
)

__all__ = ["ReweightResult", "reweight_file"]

logger = logging.getLogger(__name__)

_CHUNK = 2_000


@dataclass(frozen=True)
class ReweightResult:
    """Outcome of :func:`reweight_file`.

    Attributes:
        output: The weighted file written.
        fit: How the classifier was fitted.
        n_weighted: Showers in the output (all carry a weight).
        n_clipped: Weights clipped at ``clip`` × median.
        ess: Effective sample size (Σw)²/Σw² of the output's weights.
        weight_min: Smallest weight.
        weight_max: Largest weight.
        training_rows_in_output: Whether the output holds showers the classifier was fitted on.
    """

    output: Path
    fit: FitInfo
    n_weighted: int
    n_clipped: int
    ess: float
    weight_min: float
    weight_max: float
    training_rows_in_output: bool


def _rows(f: ShowerFile, start: int, stop: int | None) -> tuple[int, int]:
    end = len(f) if stop is None else min(stop, len(f))
    if start < 0 or end <= start:
        msg = f"{f.path}: no showers in rows {start}:{end} (the file holds {len(f)})"
        raise ValueError(msg)
    return start, end


def _chunks(f: ShowerFile, start: int, end: int, desc: str, progress: bool) -> Iterator[ShowerData]:
    from tqdm.auto import tqdm

    for a in tqdm(range(start, end, _CHUNK), desc=desc, unit="chunk", disable=not progress):
        yield f.read(a, min(a + _CHUNK, end))


def _inputs(f: ShowerFile, rows: tuple[int, int], threshold: float, desc: str, progress: bool) -> NDArray[np.float32]:
    moments = _layer_moments(f.geometry)
    tables: list[FeatureTable] = []
    angles: list[NDArray[np.float32]] = []
    for chunk in _chunks(f, *rows, desc, progress):
        tables.append(features_of(apply_threshold(chunk.showers, threshold), chunk.energies, f.geometry, moments=moments))
        if chunk.angles is not None:
            angles.append(chunk.angles)
    return reweight_inputs(FeatureTable.concatenate(tables), np.concatenate(angles) if angles else None)


def _open(path: str | Path, geometry: Any) -> ShowerFile:
    return ShowerFile(path, geometry)


def _check_pair(ref: ShowerFile, gen: ShowerFile) -> None:
    if not gen.geometry.same_binning(ref.geometry):
        msg = f"{gen.path}: geometry {gen.geometry.name!r} differs from the reference's {ref.geometry.name!r}"
        raise ValueError(msg)
    if (gen.angles is None) != (ref.angles is None):
        msg = f"{gen.path}: one of the files has incident angles and the other not ({ref.path})"
        raise ValueError(msg)


def reweight_file(
    reference: str | Path,
    generated: str | Path,
    output: str | Path,
    config: ReweightConfig | None = None,
    *,
    start: int = 0,
    stop: int | None = None,
    apply: str | Path | None = None,
    geometry: str | None = None,
    overwrite: bool = False,
    progress: bool = False,
    compression: str | None = DEFAULT_COMPRESSION,
) -> ReweightResult:
    """Fits the reweighting classifier on rows ``start:stop`` of both files and writes a weighted copy.

    Arguments:
        reference: Reference (Geant4) shower file.
        generated: Generated shower file (same geometry; made for the reference's conditions).
        output: The weighted copy to write (refused if it exists, unless ``overwrite``).
        config: Classifier, calibration and clipping settings.
        start: First row of both files used for the fit.
        stop: End of those rows (exclusive; ``None``: the end of each file).
        apply: File whose showers are weighted and copied (default: ``generated``, every row).
        geometry: Geometry name (default: stored in the files or guessed).
        overwrite: Replace an existing ``output``.
        progress: Show progress bars.
        compression: Compression of the copy (:data:`~caloforge.data.COMPRESSIONS`).

    Raises:
        ShowerFileError: Unreadable or inconsistent files (the message names the file).
        ValueError: Different geometries, empty row ranges, too few showers.
        FileExistsError: If ``output`` exists and ``overwrite`` is false.
    """
    cfg = config or ReweightConfig()
    apply_path = Path(generated if apply is None else apply)
    same = Path(output).resolve() in {Path(p).resolve() for p in (reference, generated, apply_path)}
    if same:
        msg = f"{output}: the output must be a new file, not one of the inputs"
        raise ValueError(msg)
    prepare_target(output, overwrite=overwrite)  # refuse an existing output before the fit, not after
    with _open(reference, geometry) as ref, _open(generated, geometry or ref.geometry) as gen, \
            _open(apply_path, geometry or ref.geometry) as target:
        _check_pair(ref, gen)
        _check_pair(ref, target)
        threshold = default_threshold(ref.geometry) if cfg.threshold is None else cfg.threshold
        ref_rows, gen_rows = _rows(ref, start, stop), _rows(gen, start, stop)
        x_ref = _inputs(ref, ref_rows, threshold, "reference features", progress)
        x_gen = _inputs(gen, gen_rows, threshold, "generated features", progress)
        reweighter, info = fit_reweighter(x_gen, x_ref, cfg)
        x_out = _inputs(target, (0, len(target)), threshold, "weighting", progress) if apply is not None else None
        if x_out is None:  # the generated file itself: its fit rows were read already
            x_out = x_gen if gen_rows == (0, len(gen)) else _inputs(gen, (0, len(gen)), threshold, "weighting", progress)
        weights, n_clipped = normalise_weights(reweighter.ratio(x_out), cfg.clip)
        overlap = apply is None or target.path.resolve() == gen.path.resolve()
        if overlap:
            logger.warning("%s holds the %d generated showers the classifier was fitted on (rows %d:%d); evaluate "
                           "on other showers", output, gen_rows[1] - gen_rows[0], *gen_rows)
        attrs = {**target.attrs, "reweight_reference": str(reference), "reweight_generated": str(generated),
                 "reweight_rows": list(gen_rows), "reweight_calibration": cfg.calibration, "reweight_clip": cfg.clip,
                 "reweight_seed": cfg.seed, "reweight_validation_auc": info.validation_auc,
                 "reweight_training_rows": list(gen_rows) if overlap else [0, 0]}
        attrs.pop("geometry_name", None)
        _write_copy(target, Path(output), weights, attrs, overwrite, progress, compression)
    ess = effective_sample_size(weights)
    logger.info("wrote %s: %d weighted showers, ESS %.0f, %d clipped", output, len(weights), ess, n_clipped)
    return ReweightResult(Path(output), info, len(weights), n_clipped, ess, float(weights.min()),
                          float(weights.max()), overlap)


def _write_copy(
    source: ShowerFile, output: Path, weights: NDArray[np.float32], attrs: dict[str, Any], overwrite: bool,
    progress: bool, compression: str | None,
) -> None:
    with ShowerWriter(output, source.geometry, with_angles=source.angles is not None, with_weights=True,
                      overwrite=overwrite, attrs=attrs, expected_events=len(source), compression=compression) as writer:
        for chunk in _chunks(source, 0, len(source), "writing", progress):
            end = len(chunk.energies)
            offset = writer.n_written
            writer.write(ShowerData(chunk.energies, chunk.showers, chunk.geometry, chunk.angles,
                                    weights=weights[offset : offset + end]))

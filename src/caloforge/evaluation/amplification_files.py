"""Amplification of shower files: read the observables, split truth into reference and pool, measure.

The truth file (optionally a range of its showers) gives the reference that defines the bins. The Geant4
curve needs truth showers independent of the reference: a separate ``pool`` file (or range), or else a
random ``pool_fraction`` of the truth showers, split off before anything else. Generated files are read
whole. All files must share the truth's geometry; voxels below the threshold (default: the dataset's
CaloChallenge value) are zero.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from caloforge.atomic import atomic_write_text
from caloforge.data import ShowerData, ShowerFile, ShowerFileError
from caloforge.evaluation.amplification import AmplificationConfig, AmplificationResult, amplification
from caloforge.evaluation.binning import default_threshold
from caloforge.evaluation.features import FeatureTable, compute_features
from caloforge.evaluation.observables import default_observables, observable_values
from caloforge.geometry import Geometry

__all__ = ["ShowerSource", "amplification_from_files", "check_outputs", "write_amplification"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShowerSource:
    """Showers ``start:stop`` of a file (``stop=None``: to the end)."""

    path: Path
    start: int = 0
    stop: int | None = None

    def describe(self) -> str:
        """``file.h5`` or ``file.h5[8500:9500]``."""
        if self.start == 0 and self.stop is None:
            return str(self.path)
        return f"{self.path}[{self.start}:{'' if self.stop is None else self.stop}]"


def _chunks(f: ShowerFile, start: int, stop: int, size: int, label: str, progress: bool) -> Iterator[ShowerData]:
    from tqdm.auto import tqdm

    starts = range(start, stop, size)
    for s in tqdm(starts, desc=label, unit="chunk", disable=not progress):
        yield f.read(s, min(s + size, stop))


def _read_features(source: ShowerSource, geometry: str | Geometry | None, threshold: float | None,
                   chunk_size: int, label: str, progress: bool) -> tuple[FeatureTable, Geometry, float]:
    with ShowerFile(source.path, geometry) as f:
        stop = f.n_events if source.stop is None else source.stop
        if not 0 <= source.start < stop <= f.n_events:
            msg = f"{source.path}: showers {source.start}:{stop} are not within the file's {f.n_events}"
            raise ShowerFileError(msg)
        thr = default_threshold(f.geometry) if threshold is None else threshold
        table = compute_features(_chunks(f, source.start, stop, chunk_size, label, progress), f.geometry, thr)
        return table, f.geometry, thr


def _split(table: FeatureTable, fraction: float, rng: np.random.Generator) -> tuple[FeatureTable, FeatureTable]:
    if not 0 < fraction < 1:
        msg = f"pool_fraction must be in (0, 1), got {fraction}"
        raise ValueError(msg)
    order = rng.permutation(len(table))
    n_pool = round(fraction * len(table))
    return table.subset(np.sort(order[n_pool:])), table.subset(np.sort(order[:n_pool]))


def amplification_from_files(
    truth: ShowerSource,
    generated: Mapping[str, ShowerSource],
    train_size: int,
    config: AmplificationConfig | None = None,
    *,
    pool: ShowerSource | None = None,
    pool_fraction: float = 0.5,
    observables: tuple[str, ...] | None = None,
    geometry: str | Geometry | None = None,
    threshold: float | None = None,
    chunk_size: int = 5_000,
    progress: bool = False,
) -> AmplificationResult:
    """Reads the files and measures the amplification (:func:`~caloforge.evaluation.amplification.amplification`).

    Arguments:
        truth: Truth (Geant4) showers: the reference, and the pool unless ``pool`` is given.
        generated: Label → generated showers.
        train_size: Geant4 showers the model was trained on.
        config: Measurement settings.
        pool: Truth showers for the Geant4 curve, independent of ``truth``.
        pool_fraction: Without ``pool``, the fraction of ``truth`` split off as the pool.
        observables: Observable names (:mod:`caloforge.evaluation.observables`; default: chosen from the
            reference by :func:`~caloforge.evaluation.observables.default_observables`).
        geometry: Geometry name or object (default: stored in the truth file or guessed).
        threshold: Voxel threshold in MeV (default: the dataset's CaloChallenge value).
        chunk_size: Showers read per chunk.
        progress: Show progress bars.

    Raises:
        ShowerFileError: On an unreadable file, a bad range or a file of another geometry.
        ValueError: On bad settings or observables (see the core function).
    """
    config = config or AmplificationConfig()
    rng = np.random.default_rng(config.seed)
    ref_table, geom, thr = _read_features(truth, geometry, threshold, chunk_size, "truth", progress)
    if pool is None:
        ref_table, pool_table = _split(ref_table, pool_fraction, rng)
    else:
        pool_table = _read_features(pool, geom, thr, chunk_size, "pool", progress)[0]
    names = observables or default_observables(ref_table)
    logger.info("amplification: %d reference, %d pool showers; observables %s", len(ref_table), len(pool_table),
                ", ".join(names))
    gen_values: dict[str, dict[str, NDArray[np.float64]]] = {}
    for label, source in generated.items():
        table = _read_features(source, geom, thr, chunk_size, label, progress)[0]
        gen_values[label] = observable_values(table, names, geom)
    result = amplification(observable_values(ref_table, names, geom), observable_values(pool_table, names, geom),
                           gen_values, train_size, config, observables=names)
    _check_pool(result)
    result.sources = {"truth": truth.describe(), "pool": pool.describe() if pool else f"{pool_fraction:g} of truth",
                      "geometry": geom.name, "threshold_mev": f"{thr:g}",
                      **{f"generated:{k}": v.describe() for k, v in generated.items()}}
    return result


def _check_pool(result: AmplificationResult) -> None:
    """Warns where the largest Geant4 draws lie above the expected curve by more than 3 standard deviations of
    a χ² with B − 1 degrees of freedom: the pool and the reference then differ beyond statistics, and m* of
    that observable is only meaningful well below the size where the draws leave the curve."""
    for name, g4 in result.geant4.items():
        expected = float(g4.expected(float(g4.sizes[-1])))
        if g4.mse[-1] > expected * (1 + 3 * (2 / max(g4.n_bins - 1, 1)) ** 0.5):
            logger.warning("%s: Geant4 draws of %d showers have MSE %.3g, %.1f times the expected %.3g: the pool and "
                           "the reference differ beyond statistics", name, g4.sizes[-1], g4.mse[-1],
                           g4.mse[-1] / expected, expected)


def check_outputs(out_dir: str | Path, *, plot: bool = True, force: bool = False) -> list[Path]:
    """The output paths of :func:`write_amplification`, checked before any work is done.

    Raises:
        FileExistsError: If an output exists and ``force`` is not set.
    """
    out = Path(out_dir)
    targets = [out / "amplification.json", *([out / "amplification.png"] if plot else [])]
    existing = [str(t) for t in targets if t.exists()]
    if existing and not force:
        msg = f"{existing[0]} exists (use --force to overwrite)"
        raise FileExistsError(msg)
    return targets


def write_amplification(result: AmplificationResult, out_dir: str | Path, *, plot: bool = True,
                        force: bool = False) -> list[Path]:
    """Writes ``amplification.json`` and (with matplotlib, the ``plot`` extra) ``amplification.png``.

    Returns:
        The written paths. Without matplotlib the figure is skipped with a warning.

    Raises:
        FileExistsError: If an output exists and ``force`` is not set.
    """
    targets = check_outputs(out_dir, plot=plot, force=force)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(targets[0], json.dumps(result.to_dict(), indent=2) + "\n")
    if not plot:
        return targets
    try:
        from caloforge.evaluation.plots.amplification import amplification_figure
        from caloforge.evaluation.plots.canvas import save_figure

        save_figure(amplification_figure(result), out / "amplification", formats=("png",), dpi=80)
    except ImportError as err:
        logger.warning("%s; amplification.json is still written", err)
        return targets[:1]
    return targets

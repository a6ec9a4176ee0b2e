"""One streaming pass over a shower file: features, average shower, voxel spectrum, bad-input flags.

Memory is bounded by the chunk size plus the per-shower features (about 3 kB per shower for 45 layers)
and the optional subset of voxels kept for the classifier test.

Example:
    >>> import numpy as np
    >>> from caloforge.data import ShowerData
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=1, n_alpha=1, r_edges=[0, 1, 2])
    >>> bad = ShowerData(np.array([1.0, 2.0]), [[1.0, 0.5], [np.nan, 1.0]], g)
    >>> s = scan_showers([bad], g, threshold=0.0)
    >>> s.n_events, s.n_invalid, len(s.features)
    (2, 1, 1)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from caloforge.data.showers import ShowerData
from caloforge.evaluation.features import FeatureTable, _layer_moments, apply_threshold, features_of
from caloforge.geometry import Geometry

__all__ = ["InvalidShowersError", "SampleScan", "scan_showers", "voxel_histogram"]

logger = logging.getLogger(__name__)


class InvalidShowersError(ValueError):
    """Showers contain NaN or inf and the policy is ``"error"``."""


@dataclass
class SampleScan:
    """What one pass over a sample yields.

    Attributes:
        n_events: Showers read (including invalid ones).
        n_invalid: Showers dropped because a voxel was NaN or inf.
        n_negative_voxels: Negative voxel values seen (zeroed by the threshold, as in CaloChallenge).
        features: Features of the valid showers.
        mean_shower: Average thresholded shower of the valid showers, (n_voxels,), MeV.
        max_voxel: Largest thresholded voxel energy, MeV.
        min_positive_voxel: Smallest non-zero thresholded voxel energy, MeV (inf if none).
        voxel_counts: Voxel-energy histogram counts for ``voxel_edges`` (``None`` if no edges were given).
        voxel_outside: Non-zero voxels outside ``voxel_edges``.
        kept_voxels: Thresholded showers of the requested subset, (K, n_voxels), MeV (or ``None``).
        kept_index: Positions of the kept showers in ``features``, (K,).
        weights: Per-shower weights of the valid showers, (N_valid,), when the chunks carry them
            (a reweighted file), else ``None``.
        voxel_sumw: Σw of the voxel-energy histogram (each voxel weighted by its shower), or ``None``.
        voxel_sumw2: Σw² of the voxel-energy histogram, or ``None``.
    """

    n_events: int
    n_invalid: int
    n_negative_voxels: int
    features: FeatureTable
    mean_shower: NDArray[np.float64]
    max_voxel: float
    min_positive_voxel: float
    voxel_counts: NDArray[np.int64] | None = None
    voxel_outside: int = 0
    kept_voxels: NDArray[np.float32] | None = None
    kept_index: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    weights: NDArray[np.float64] | None = None
    voxel_sumw: NDArray[np.float64] | None = None
    voxel_sumw2: NDArray[np.float64] | None = None


def _log_bin_index(values: NDArray[np.floating], edges: NDArray[np.float64]) -> NDArray[np.int64]:
    """Exact bin index of ``values`` for increasing log-spaced ``edges`` (-1 / len(edges)-1 outside)."""
    n_bins = len(edges) - 1
    logs = np.log(edges)
    guess = np.floor((np.log(values) - logs[0]) / (logs[-1] - logs[0]) * n_bins).astype(np.int64)
    guess = np.clip(guess, 0, n_bins - 1)
    guess -= values < edges[guess]
    guess = np.clip(guess, 0, n_bins - 1)
    guess += (values >= edges[guess + 1]) & (guess < n_bins - 1)
    inside = (values >= edges[0]) & (values <= edges[-1])
    return np.where(inside, guess, -1)


def _fill_voxels(values: NDArray[np.floating], edges: NDArray[np.float64], counts: NDArray[np.int64]) -> int:
    """Adds the non-zero voxel ``values`` (1-D) to ``counts``; returns how many fall outside ``edges``."""
    idx = _log_bin_index(values, edges)
    counts += np.bincount(idx[idx >= 0], minlength=len(counts))
    return int(np.count_nonzero(idx < 0))


def _fill_weighted_voxels(values: NDArray[np.floating], w: NDArray[np.float64], edges: NDArray[np.float64],
                          sumw: NDArray[np.float64], sumw2: NDArray[np.float64]) -> None:
    """Adds the non-zero voxel ``values`` with their showers' weights ``w`` to ``sumw`` and ``sumw2``."""
    idx = _log_bin_index(values, edges)
    inside = idx >= 0
    sumw += np.bincount(idx[inside], weights=w[inside], minlength=len(sumw))
    sumw2 += np.bincount(idx[inside], weights=w[inside] ** 2, minlength=len(sumw2))


def voxel_histogram(
    chunks: Iterable[ShowerData], edges: NDArray[np.float64], threshold: float
) -> tuple[NDArray[np.int64], int]:
    """Counts of non-zero thresholded voxel energies in log-spaced ``edges`` (streamed).

    Returns:
        The counts, (len(edges) - 1,), and the number of non-zero voxels outside the edges. Showers
        with NaN/inf are skipped.
    """
    counts = np.zeros(len(edges) - 1, dtype=np.int64)
    outside = 0
    for chunk in chunks:
        showers = chunk.showers[np.isfinite(chunk.showers).all(axis=1)]
        showers = apply_threshold(showers, threshold)
        outside += _fill_voxels(showers[showers > 0], edges, counts)
    return counts, outside


def _check_invalid(chunk: ShowerData, offset: int, policy: str, label: str) -> NDArray[np.bool_]:
    # a float64 row sum is finite exactly when every voxel is (no overflow from finite float32 values)
    valid: NDArray[np.bool_] = np.isfinite(chunk.showers.sum(axis=1, dtype=np.float64))
    if not valid.all() and policy == "error":
        first = offset + int(np.argmin(valid))
        msg = f"{label}: showers contain NaN or inf (first in event {first})"
        raise InvalidShowersError(msg)
    return valid


def scan_showers(
    chunks: Iterable[ShowerData],
    geometry: Geometry,
    threshold: float,
    *,
    voxel_edges: NDArray[np.float64] | None = None,
    keep: NDArray[np.integer] | None = None,
    invalid: Literal["flag", "error"] = "flag",
    negative: Literal["flag", "error"] = "flag",
    label: str = "sample",
    on_chunk: Callable[[NDArray[np.floating], NDArray[np.floating]], None] | None = None,
) -> SampleScan:
    """Computes everything the evaluation needs from one pass over ``chunks``.

    Arguments:
        chunks: Consecutive :class:`~caloforge.data.ShowerData` chunks, read without validation.
        geometry: The readout geometry.
        threshold: Voxel threshold, MeV.
        voxel_edges: Log-spaced voxel-energy edges to histogram into (optional).
        keep: Sorted event numbers whose thresholded voxels are kept (classifier subset).
        invalid: ``"flag"`` drops showers with NaN/inf and counts them; ``"error"`` raises.
        negative: ``"flag"`` counts negative voxels (the threshold zeroes them, as in CaloChallenge);
            ``"error"`` raises (a reference must not have any, as ``inspect`` and ``train`` require).
        label: Name used in messages.
        on_chunk: Called with the valid showers of every chunk (before the voxel threshold) and their
            incident energies, e.g. a :class:`~caloforge.evaluation.hits.HitAccumulator`.

    Raises:
        InvalidShowersError: On NaN/inf with ``invalid="error"``, or negative voxels with ``negative="error"``.
        ValueError: If no valid shower remains.
    """
    moments = _layer_moments(geometry)
    keep = np.zeros(0, dtype=np.int64) if keep is None else np.asarray(keep, dtype=np.int64)
    parts: list[FeatureTable] = []
    kept: list[NDArray[np.float32]] = []
    kept_index: list[NDArray[np.int64]] = []
    total = np.zeros(geometry.n_voxels)
    counts = None if voxel_edges is None else np.zeros(len(voxel_edges) - 1, dtype=np.int64)
    weights: list[NDArray[np.float64]] | None = []
    n_voxel_bins = 0 if voxel_edges is None else len(voxel_edges) - 1
    sumw, sumw2 = np.zeros(n_voxel_bins), np.zeros(n_voxel_bins)
    n_events = n_invalid = n_negative = outside = n_valid = 0
    vmax, vmin = 0.0, np.inf
    for chunk in chunks:
        valid = _check_invalid(chunk, n_events, invalid, label)
        sel = np.flatnonzero(valid)
        showers = chunk.showers if valid.all() else chunk.showers[sel]
        if showers.size and showers.min() < 0:
            if negative == "error":
                first = n_events + int(sel[np.argmax((showers < 0).any(axis=1))])
                msg = f"{label}: showers contain negative energies (first in event {first})"
                raise InvalidShowersError(msg)
            n_negative += int(np.count_nonzero(showers < 0))
        if on_chunk is not None:
            on_chunk(showers, chunk.energies[sel])
        showers = apply_threshold(showers, threshold)
        parts.append(features_of(showers, chunk.energies[sel], geometry, moments=moments))
        total += showers.sum(axis=0, dtype=np.float64)
        positive = showers[showers > 0]
        if positive.size:
            vmax, vmin = max(vmax, float(positive.max())), min(vmin, float(positive.min()))
        if counts is not None and voxel_edges is not None:
            outside += _fill_voxels(positive, voxel_edges, counts)
        if chunk.weights is None or weights is None:
            weights = None
        else:
            w = chunk.weights[sel].astype(np.float64)
            weights.append(w)
            if voxel_edges is not None:
                _fill_weighted_voxels(positive, w[np.nonzero(showers > 0)[0]], voxel_edges, sumw, sumw2)
        rows = np.flatnonzero(np.isin(n_events + sel, keep))
        if rows.size:
            kept.append(showers[rows].astype(np.float32))
            kept_index.append(n_valid + rows)
        n_events += len(chunk)
        n_invalid += int(len(chunk) - len(sel))
        n_valid += len(sel)
    if n_valid == 0:
        msg = f"{label}: no valid showers to evaluate ({n_events} read, {n_invalid} with NaN/inf)"
        raise ValueError(msg)
    if n_invalid:
        logger.warning("%s: dropped %d of %d showers containing NaN/inf", label, n_invalid, n_events)
    return SampleScan(
        n_events=n_events,
        n_invalid=n_invalid,
        n_negative_voxels=n_negative,
        features=FeatureTable.concatenate(parts),
        mean_shower=total / n_valid,
        max_voxel=vmax,
        min_positive_voxel=vmin,
        voxel_counts=counts,
        voxel_outside=outside,
        kept_voxels=np.concatenate(kept) if kept else None,
        kept_index=np.concatenate(kept_index) if kept_index else np.zeros(0, dtype=np.int64),
        weights=np.concatenate(weights) if weights else None,
        voxel_sumw=sumw if weights and voxel_edges is not None else None,
        voxel_sumw2=sumw2 if weights and voxel_edges is not None else None,
    )

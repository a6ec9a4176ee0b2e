"""Evaluation by incidence angle: the response, the profiles and the classifier AUCs per angle bin.

When the reference has angles (θ from the layer normal, rad), :func:`angle_report` bins every sample by
angle as well as energy: a few angle bins (:func:`angle_edges`: one per distinct angle when there are at
most 8, else quantile bins of the reference), and per bin the response table over the reference's
energy bins, the mean response and resolution, the separation power of the response histogram, the mean
longitudinal (energy per layer) and radial (energy per radius) profiles, and the AUC of each classifier
test trained on that bin's showers alone. It reads each file once more for the per-bin mean showers
(:func:`scan_angles`). :class:`AngleReport` is ``"by_angle"`` in ``metrics.json``; a reference without
angles gives no report, so such evaluations write exactly what they wrote before.

Example:
    >>> import numpy as np
    >>> angle_edges(np.radians([0.0, 20.0, 20.0, 40.0])).round(3).tolist()
    [-0.001, 0.175, 0.524, 0.699]
    >>> angle_index(np.radians([0.0, 20.0, 40.0, 60.0]), angle_edges(np.radians([0.0, 20.0, 40.0]))).tolist()
    [0, 1, 2, -1]
    >>> len(angle_edges(np.linspace(0.0, 0.7, 100))) - 1
    4
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from caloforge.data.io import ShowerFile
from caloforge.evaluation.compare import ResponseTable, response_table
from caloforge.evaluation.config import EvaluationConfig
from caloforge.evaluation.features import apply_threshold
from caloforge.evaluation.histograms import HistSpec, fill
from caloforge.evaluation.metrics import separation_power
from caloforge.evaluation.scan import SampleScan
from caloforge.geometry import Geometry

__all__ = [
    "MAX_DISTINCT_ANGLES",
    "AngleReport",
    "AngleSample",
    "AngleScan",
    "angle_edges",
    "angle_index",
    "angle_report",
    "scan_angles",
]

#: At most this many distinct reference angles get one bin each; more get quantile bins.
MAX_DISTINCT_ANGLES = 8
_QUANTILE_BINS = 4
_TOLERANCE = 1e-3  # rad: half-width of a bin around a distinct angle at the outer edges


def angle_edges(angles: NDArray[np.floating], n_quantile_bins: int = _QUANTILE_BINS) -> NDArray[np.float64]:
    """Angle bin edges, rad: one bin per distinct angle (≤ 8 of them), else ``n_quantile_bins`` quantile bins."""
    a = np.asarray(angles, dtype=np.float64)
    values = np.unique(a)
    if len(values) <= MAX_DISTINCT_ANGLES:
        mids = (values[1:] + values[:-1]) / 2
        return np.concatenate([[values[0] - _TOLERANCE], mids, [values[-1] + _TOLERANCE]])
    edges = np.unique(np.quantile(a, np.linspace(0.0, 1.0, n_quantile_bins + 1)))
    edges[-1] = np.nextafter(edges[-1], np.inf)
    return edges


def angle_index(angles: NDArray[np.floating], edges: NDArray[np.float64]) -> NDArray[np.int64]:
    """Bin of each angle, (N,) (−1 outside the edges; a bin holds [low, high))."""
    idx = np.searchsorted(edges, np.asarray(angles, dtype=np.float64), side="right") - 1
    return np.where((idx >= 0) & (idx < len(edges) - 1), idx, -1).astype(np.int64)


@dataclass
class AngleScan:
    """Angles and per-bin mean showers of the valid showers of one file.

    Attributes:
        angles: Angles of the valid showers (no NaN/inf voxel), in file order, (N_valid,), rad.
        mean_showers: Mean thresholded shower per angle bin, (n_bins, n_voxels), MeV (0 for empty bins).
        counts: Showers per angle bin, (n_bins,).
    """

    angles: NDArray[np.float64]
    mean_showers: NDArray[np.float64]
    counts: NDArray[np.int64]


def scan_angles(path: str | Path, geometry: Geometry, edges: NDArray[np.float64], threshold: float,
                chunk_size: int = 10_000) -> AngleScan | None:
    """One pass over a file: its angles and mean showers per angle bin (``None``: the file has no angles)."""
    n_bins = len(edges) - 1
    sums = np.zeros((n_bins, geometry.n_voxels))
    counts = np.zeros(n_bins, dtype=np.int64)
    with ShowerFile(path, geometry) as f:
        if f.angles is None:
            return None
        size = max(1, min(chunk_size, (256 << 20) // (4 * geometry.n_voxels)))
        angles = []
        for chunk in f.iter_chunks(size, validate=False):
            valid = np.isfinite(chunk.showers.sum(axis=1, dtype=np.float64))  # as the evaluation's scan
            showers = apply_threshold(chunk.showers[valid], threshold)
            a = np.asarray(chunk.angles, dtype=np.float64)[valid]
            angles.append(a)
            idx = angle_index(a, edges)
            for b in np.unique(idx[idx >= 0]):
                sums[b] += showers[idx == b].sum(axis=0, dtype=np.float64)
            counts += np.bincount(idx[idx >= 0], minlength=n_bins)
    mean = sums / np.maximum(counts, 1)[:, None]
    return AngleScan(np.concatenate(angles), mean, counts)


@dataclass(frozen=True)
class AngleSample:
    """One sample's numbers per angle bin (every list has one entry per bin; NaN where a bin is too small).

    Attributes:
        n: Showers per bin.
        response_mean: Mean E_tot/E_inc per bin.
        resolution: σ/μ of the response per bin.
        response_separation: Separation power of the response histogram vs the reference's in the bin
            (NaN for the reference itself).
        response: Per bin, the response table over the reference's incident-energy bins.
        longitudinal: Per bin, the mean energy per layer, MeV.
        radial: Per bin, the mean energy per radius (summed over layers and angular bins), MeV.
        classifier_auc: Per classifier input kind, the AUC of the test on each bin's showers alone
            (NaN: not run in that bin, see ``classifier_skipped``).
        classifier_skipped: Per kind, why a bin's test did not run (``""``: it ran).
    """

    n: list[int]
    response_mean: list[float]
    resolution: list[float]
    response_separation: list[float]
    response: list[ResponseTable]
    longitudinal: list[list[float]]
    radial: list[list[float]]
    classifier_auc: dict[str, list[float]] = field(default_factory=dict)
    classifier_skipped: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "n": self.n, "response_mean": self.response_mean, "resolution": self.resolution,
            "response_separation": self.response_separation, "response": [r.to_dict() for r in self.response],
            "longitudinal_profile": self.longitudinal, "radial_profile": self.radial,
            "classifier_auc": self.classifier_auc, "classifier_skipped": self.classifier_skipped,
        }


@dataclass(frozen=True)
class AngleReport:
    """Every sample binned by angle (``"by_angle"`` in ``metrics.json``).

    Attributes:
        edges: Angle bin edges, (n_bins + 1,), rad from the layer normal.
        distinct: Whether each bin holds one distinct reference angle (else quantile bins).
        centres_deg: Bin centres in degrees (the distinct angle, or the mean reference angle of the bin).
        layers: Layer ids of the longitudinal profiles.
        radii_mm: Radii of the radial profiles, mm.
        reference: The reference's numbers.
        generated: Per generated label, its numbers (samples without angles are left out, and flagged).
    """

    edges: list[float]
    distinct: bool
    centres_deg: list[float]
    layers: list[int]
    radii_mm: list[float]
    reference: AngleSample
    generated: dict[str, AngleSample]

    @property
    def labels(self) -> list[str]:
        """One label per bin: ``"20°"``, or ``"10.0–20.0°"`` for quantile bins."""
        if self.distinct:
            return [f"{c:.3g}°" for c in self.centres_deg]
        deg = np.degrees(self.edges)
        return [f"{max(lo, 0.0):.1f}–{hi:.1f}°" for lo, hi in itertools.pairwise(deg)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "edges_rad": self.edges, "binning": "distinct" if self.distinct else "quantile",
            "centres_deg": self.centres_deg, "labels": self.labels, "layers": self.layers, "radii_mm": self.radii_mm,
            "reference": self.reference.to_dict(), "generated": {k: v.to_dict() for k, v in self.generated.items()},
        }


def _radial(geometry: Geometry, mean: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    radii, inverse = np.unique(np.round(geometry.r_centres, 6), return_inverse=True)
    return radii.astype(np.float64), np.bincount(inverse, weights=mean, minlength=len(radii)).astype(np.float64)


def _layer_sums(geometry: Geometry, mean: NDArray[np.float64]) -> list[float]:
    bounds = np.cumsum([0, *(layer.n_voxels for layer in geometry.layers)])
    return [float(mean[a:b].sum()) for a, b in itertools.pairwise(bounds)]


def _sample(scan: SampleScan, angles: AngleScan, edges: NDArray[np.float64], geometry: Geometry,
            energy_edges: NDArray[np.float64], response_spec: HistSpec | None,
            ref_response: list[NDArray[np.float64]] | None) -> AngleSample:
    idx = angle_index(angles.angles, edges)
    resp = scan.features.response
    e_inc = scan.features.e_inc
    out: dict[str, list[Any]] = {k: [] for k in ("n", "mean", "res", "sep", "table", "long", "rad")}
    for b in range(len(edges) - 1):
        r = resp[idx == b]
        ok = len(r) >= 2
        mean = float(r.mean()) if ok else math.nan
        out["n"].append(len(r))
        out["mean"].append(mean)
        out["res"].append(float(r.std(ddof=1)) / mean if ok and mean != 0 else math.nan)
        sep = math.nan
        if response_spec is not None and ref_response is not None:
            sep = separation_power(fill(ref_response[b], response_spec.edges).contents,
                                   fill(r, response_spec.edges).contents)
        out["sep"].append(sep)
        out["table"].append(response_table(e_inc[idx == b], r, energy_edges))
        out["long"].append(_layer_sums(geometry, angles.mean_showers[b]))
        out["rad"].append(_radial(geometry, angles.mean_showers[b])[1].tolist())
    return AngleSample(out["n"], out["mean"], out["res"], out["sep"], out["table"], out["long"], out["rad"])


def _classifier_by_angle(ref: SampleScan, gen: SampleScan, ref_idx: NDArray[np.int64], gen_idx: NDArray[np.int64],
                         n_bins: int, geometry: Geometry, config: EvaluationConfig) -> tuple[dict[str, list[float]],
                                                                                            dict[str, list[str]]]:
    """Per input kind and angle bin, the AUC of a classifier test on that bin's showers only."""
    cls = config.classifier_config()
    if cls is None:
        return {}, {}
    from caloforge.evaluation.classifier import classifier_test
    from caloforge.evaluation.inputs import classifier_inputs

    cls = replace(cls, repeats=1)
    aucs: dict[str, list[float]] = {}
    skipped: dict[str, list[str]] = {}
    for kind in config.classifier_inputs:
        aucs[kind], skipped[kind] = [], []
        if kind == "high":
            x_ref = classifier_inputs("high", None, None, geometry, ref.features)
            x_gen = classifier_inputs("high", None, None, geometry, gen.features)
            b_ref, b_gen = ref_idx, gen_idx
        elif ref.kept_voxels is None or gen.kept_voxels is None:
            aucs[kind], skipped[kind] = [math.nan] * n_bins, ["no voxels kept for the classifier"] * n_bins
            continue
        else:
            x_ref = classifier_inputs(kind, ref.kept_voxels, ref.features.e_inc[ref.kept_index], geometry)
            x_gen = classifier_inputs(kind, gen.kept_voxels, gen.features.e_inc[gen.kept_index], geometry)
            b_ref, b_gen = ref_idx[ref.kept_index], gen_idx[gen.kept_index]
        for b in range(n_bins):
            n_min = min(int(np.sum(b_ref == b)), int(np.sum(b_gen == b)))
            if n_min < config.min_classifier_events:
                aucs[kind].append(math.nan)
                skipped[kind].append(f"needs at least {config.min_classifier_events} showers per sample, got {n_min}")
                continue
            aucs[kind].append(classifier_test(x_gen[b_gen == b], x_ref[b_ref == b], cls).auc)
            skipped[kind].append("")
    return aucs, skipped


def angle_report(
    reference: str | Path, generated: Mapping[str, str | Path], ref_scan: SampleScan, scans: Mapping[str, SampleScan],
    geometry: Geometry, *, threshold: float, energy_edges: NDArray[np.float64], specs: list[HistSpec],
    config: EvaluationConfig,
) -> tuple[AngleReport | None, list[str]]:
    """The evaluation by angle, and its flags; ``(None, [])`` when the reference has no angles.

    Arguments:
        reference: The reference file.
        generated: Generated files by label.
        ref_scan: The evaluation's scan of the reference.
        scans: Its scans of the generated files.
        geometry: The readout geometry.
        threshold: The voxel threshold, MeV.
        energy_edges: The reference's incident-energy bin edges, MeV.
        specs: The evaluation's histogram binnings (the ``"response"`` one is used).
        config: The evaluation settings (classifier tests and their minimum sample size).
    """
    with ShowerFile(reference, geometry) as f:
        if f.angles is None:
            return None, []
        distinct = len(np.unique(f.angles)) <= MAX_DISTINCT_ANGLES
        edges = angle_edges(f.angles)
    ref_angles = scan_angles(reference, geometry, edges, threshold, config.chunk_size)
    if ref_angles is None:  # pragma: no cover - checked above
        return None, []
    spec = next((s for s in specs if s.name == "response"), None)
    ref_idx = angle_index(ref_angles.angles, edges)
    ref_resp = [ref_scan.features.response[ref_idx == b] for b in range(len(edges) - 1)]
    ref_sample = _sample(ref_scan, ref_angles, edges, geometry, energy_edges, None, None)
    flags: list[str] = []
    samples: dict[str, AngleSample] = {}
    for label, path in generated.items():
        gen_angles = scan_angles(path, geometry, edges, threshold, config.chunk_size)
        if gen_angles is None:
            flags.append(f"{label}: no incidence angles in {path}; not evaluated by angle")
            continue
        sample = _sample(scans[label], gen_angles, edges, geometry, energy_edges, spec, ref_resp)
        gen_idx = angle_index(gen_angles.angles, edges)
        outside = int(np.sum(gen_idx < 0))
        if outside:
            flags.append(f"{label}: {outside} showers at angles outside the reference's angle bins")
        aucs, skipped = _classifier_by_angle(ref_scan, scans[label], ref_idx, gen_idx, len(edges) - 1, geometry, config)
        samples[label] = replace(sample, classifier_auc=aucs, classifier_skipped=skipped)
    centres = [float(np.degrees(ref_angles.angles[ref_idx == b].mean())) if np.any(ref_idx == b) else math.nan
               for b in range(len(edges) - 1)]
    radii = _radial(geometry, ref_angles.mean_showers[0])[0]
    layers = [int(i) for i in ref_scan.features.layer_ids] or list(range(len(geometry.layers)))
    report = AngleReport(edges.tolist(), distinct, centres, layers,
                         radii.tolist(), ref_sample, samples)
    return report, flags

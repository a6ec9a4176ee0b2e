"""Typed results of an evaluation: :class:`EvaluationReport` holds one :class:`SampleReport` per generated file.

Code reads the attributes (``report.generated["gen"].summary.separation_power_mean``); the results become
JSON only when written: :meth:`EvaluationReport.to_dict` produces the ``metrics.json`` layout (NaN and
inf become ``null``).

Example:
    >>> from caloforge.evaluation.compare import ComparisonSummary, ResponseTable
    >>> summary = ComparisonSummary(1, 0, 0.02, 0.02, 0.02, 1.1, {"response": 0.02})
    >>> table = ResponseTable([1e3], [1e4], [100.0], [1.0], [0.01], [0.1], [0.007])
    >>> sample = SampleReport("gen.h5", 100, summary, table)
    >>> sample.to_dict()["summary"]["separation_power_mean"]
    0.02
    >>> sample.classifier_result("high") is None
    True
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from caloforge import __version__
from caloforge.atomic import atomic_write_text
from caloforge.evaluation.angles import AngleReport
from caloforge.evaluation.classifier import ClassifierResult
from caloforge.evaluation.compare import ComparisonSummary, HistComparison, ResponseTable
from caloforge.evaluation.diagnosis import Diagnosis
from caloforge.evaluation.ensemble import EnsembleSummary
from caloforge.evaluation.hit_comparison import HitsReport
from caloforge.evaluation.metrics import DistanceResult
from caloforge.evaluation.provenance import Provenance
from caloforge.evaluation.weighted import WeightedReport

__all__ = ["BaselineReport", "EvaluationReport", "ReferenceInfo", "SampleReport", "SkippedTest"]


@dataclass(frozen=True)
class SkippedTest:
    """A classifier test that did not run.

    Attributes:
        reason: Why (e.g. too few showers, no voxels kept).
    """

    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"skipped": self.reason}


@dataclass(frozen=True)
class ReferenceInfo:
    """The reference file.

    Attributes:
        path: Its path as given.
        n_events: Showers in it.
        geometry: Geometry name.
    """

    path: str
    n_events: int
    geometry: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"path": self.path, "n_events": self.n_events, "geometry": self.geometry}


def _distances(fpd: DistanceResult | None, kpd: DistanceResult | None) -> dict[str, Any]:
    out = {} if fpd is None else {"fpd": fpd.to_dict()}
    return out if kpd is None else {**out, "kpd": kpd.to_dict()}


@dataclass
class SampleReport:
    """Every number of one generated sample compared with the reference.

    Attributes:
        path: The generated file.
        n_events: Showers read (valid or not).
        summary: Summary of every histogram comparison.
        response: Response and resolution per incident-energy bin.
        histograms: Per histogram name, its comparison.
        n_invalid: Showers with NaN/inf, excluded.
        n_negative_voxels: Negative voxel values set to zero by the threshold.
        n_classifier_voxel_subset: Showers whose voxels were kept for the classifier.
        flags: Warnings about this sample.
        fpd: Fréchet physics distance (``None``: not computed).
        kpd: Kernel physics distance (``None``: not computed).
        classifier: Per classifier input kind (``"low"``, ``"low-normed"``, ``"high"``), its result or
            why it was skipped.
        diagnosis: What gives the sample away (``None``: not diagnosed).
        weighted: The same comparison with the file's per-shower weights applied (``None``: the file
            has no weights); the other attributes are the unweighted numbers.
        hits: The hit-level comparison (``"hits"`` in ``metrics.json``; ``None``: not computed).
    """

    path: str
    n_events: int
    summary: ComparisonSummary
    response: ResponseTable
    histograms: dict[str, HistComparison] = field(default_factory=dict)
    n_invalid: int = 0
    n_negative_voxels: int = 0
    n_classifier_voxel_subset: int = 0
    flags: list[str] = field(default_factory=list)
    fpd: DistanceResult | None = None
    kpd: DistanceResult | None = None
    classifier: dict[str, ClassifierResult | SkippedTest] = field(default_factory=dict)
    diagnosis: Diagnosis | None = None
    weighted: WeightedReport | None = None
    hits: HitsReport | None = None

    @property
    def invalid_fraction(self) -> float:
        """Fraction of the showers that contain NaN/inf."""
        return self.n_invalid / self.n_events if self.n_events else math.nan

    def classifier_result(self, kind: str) -> ClassifierResult | None:
        """The result of the classifier test on ``kind`` inputs, ``None`` if it was skipped or not run."""
        result = self.classifier.get(kind)
        return result if isinstance(result, ClassifierResult) else None

    def to_dict(self) -> dict[str, Any]:
        """The sample's entry of ``metrics.json`` (``generated.<label>``; the diagnosis is written apart)."""
        return {
            "path": self.path, "n_events": self.n_events, "n_invalid": self.n_invalid,
            "invalid_fraction": self.invalid_fraction, "n_negative_voxels": self.n_negative_voxels,
            "n_classifier_voxel_subset": self.n_classifier_voxel_subset, "flags": list(self.flags),
            "summary": self.summary.to_dict(), "histograms": {n: c.to_dict() for n, c in self.histograms.items()},
            "response": self.response.to_dict(), **_distances(self.fpd, self.kpd),
            "classifier": {kind: r.to_dict() for kind, r in self.classifier.items()},
            **({} if self.weighted is None else {"weighted": self.weighted.to_dict()}),
            **({} if self.hits is None else {"hits": self.hits.to_dict()}),
        }


@dataclass(frozen=True)
class BaselineReport:
    """Reference half vs reference half: the statistical floor of the numbers.

    Attributes:
        n_per_half: Showers per half.
        summary: Summary of every histogram comparison of the halves.
        fpd: FPD of the halves (``None``: not computed).
        kpd: KPD of the halves (``None``: not computed).
    """

    n_per_half: int
    summary: ComparisonSummary
    fpd: DistanceResult | None = None
    kpd: DistanceResult | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"n_per_half": self.n_per_half, "summary": self.summary.to_dict(), **_distances(self.fpd, self.kpd)}


@dataclass
class EvaluationReport:
    """Every number of an evaluation.

    Attributes:
        settings: The configuration, threshold, dataset kind, classifier and FPD/KPD settings used.
        reference: The reference file.
        generated: Per generated label, its :class:`SampleReport`.
        baseline: Reference-half vs reference-half numbers (``None``: not computed).
        flags: Warnings of the whole evaluation (those of every sample included).
        timing: Seconds spent per stage.
        ensembles: Per ensemble name, the spread of its members' metrics (``"ensembles"`` in
            ``metrics.json``, written only when there are ensembles).
        provenance: caloforge version, date, command line and input files (``None``: not recorded).
        by_angle: The evaluation by incidence angle (``"by_angle"`` in ``metrics.json``; ``None``: the
            reference has no angles, and nothing is written).
    """

    settings: dict[str, Any]
    reference: ReferenceInfo
    generated: dict[str, SampleReport]
    baseline: BaselineReport | None = None
    flags: list[str] = field(default_factory=list)
    timing: dict[str, float] = field(default_factory=dict)
    ensembles: dict[str, EnsembleSummary] = field(default_factory=dict)
    provenance: Provenance | None = None
    by_angle: AngleReport | None = None

    @property
    def diagnosis(self) -> dict[str, Diagnosis]:
        """Per generated label (those diagnosed), what gives it away."""
        return {label: s.diagnosis for label, s in self.generated.items() if s.diagnosis is not None}

    def to_dict(self) -> dict[str, Any]:
        """The ``metrics.json`` content; NaN and inf become ``null``."""
        raw = {
            "caloforge_version": __version__,
            **({} if self.provenance is None else {"provenance": self.provenance.to_dict()}),
            "settings": self.settings,
            "reference": self.reference.to_dict(),
            "generated": {label: s.to_dict() for label, s in self.generated.items()},
            "baseline": None if self.baseline is None else self.baseline.to_dict(),
            "flags": self.flags,
            "timing_s": self.timing,
            "diagnosis": {label: d.to_dict() for label, d in self.diagnosis.items()},
        }
        if self.ensembles:
            raw["ensembles"] = {name: e.to_dict() for name, e in self.ensembles.items()}
        if self.by_angle is not None:
            raw["by_angle"] = self.by_angle.to_dict()
        cleaned: dict[str, Any] = _clean(raw)
        return cleaned

    def write_json(self, path: str | Path) -> None:
        """Writes :meth:`to_dict` as strict JSON."""
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n")


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj

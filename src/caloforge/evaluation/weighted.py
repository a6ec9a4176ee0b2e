"""The "after reweighting" numbers of a generated sample whose file carries per-shower ``weights``.

When a generated file has a ``weights`` dataset (``caloforge reweight``), :func:`weighted_report`
recomputes the sample's comparison with every shower counted ``w`` times: weighted feature histograms
with √Σw² errors (and the weighted voxel spectrum), their separation powers and χ² (with those errors),
the weighted response and resolution per incident energy, and — when the classifier tests run — the
classifier tests with the generated showers weighted (:func:`~caloforge.evaluation.classifier.classifier_test`
with ``generated_weights``). The unweighted numbers of the sample stay as they are ("before"); these are
the "after" rows. FPD/KPD and the diagnosis are unweighted only.

The effective sample size (Σw)²/Σw² says how many unweighted showers the weighted sample is worth.

Example:
    >>> import numpy as np
    >>> stats = WeightStats.of(np.array([0.5, 0.5, 1.0, 2.0]))
    >>> stats.n, round(stats.ess, 3), stats.max
    (4, 2.909, 2.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from caloforge.evaluation.classifier import ClassifierConfig, ClassifierResult, classifier_test
from caloforge.evaluation.compare import (
    ComparisonSummary,
    HistComparison,
    ResponseTable,
    compare_histogram,
    fill_all,
    response_table,
    summarise_comparisons,
)
from caloforge.evaluation.histograms import Histogram, HistSpec
from caloforge.evaluation.inputs import InputKind, classifier_inputs
from caloforge.evaluation.scan import SampleScan
from caloforge.geometry import Geometry

__all__ = ["WeightStats", "WeightedReport", "effective_sample_size", "weighted_histograms", "weighted_report"]


def effective_sample_size(weights: NDArray[np.floating]) -> float:
    """Kish's effective sample size (Σw)² / Σw² (N for equal weights; 0 for an empty sample)."""
    w = np.asarray(weights, dtype=np.float64)
    sq = float(np.sum(w * w))
    return float(np.sum(w) ** 2 / sq) if sq > 0 else 0.0


@dataclass(frozen=True)
class WeightStats:
    """The distribution of a sample's weights.

    Attributes:
        n: Showers.
        ess: Effective sample size (Σw)²/Σw².
        mean: Mean weight.
        median: Median weight.
        min: Smallest weight.
        max: Largest weight.
        quantiles: The 1 %, 16 %, 84 % and 99 % quantiles.
        n_zero: Showers of weight 0.
    """

    n: int
    ess: float
    mean: float
    median: float
    min: float
    max: float
    quantiles: dict[str, float] = field(default_factory=dict)
    n_zero: int = 0

    @classmethod
    def of(cls, weights: NDArray[np.floating]) -> WeightStats:
        """The statistics of ``weights`` (N,)."""
        w = np.asarray(weights, dtype=np.float64)
        q = np.quantile(w, [0.01, 0.16, 0.84, 0.99])
        return cls(n=len(w), ess=effective_sample_size(w), mean=float(w.mean()),
                   median=float(np.median(w)), min=float(w.min()), max=float(w.max()),
                   quantiles={k: float(v) for k, v in zip(("q01", "q16", "q84", "q99"), q, strict=True)},
                   n_zero=int(np.count_nonzero(w == 0)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


@dataclass
class WeightedReport:
    """The numbers of one generated sample with its weights applied (``"weighted"`` in ``metrics.json``).

    Attributes:
        weights: The weight distribution (with the effective sample size).
        summary: Summary of every weighted histogram comparison.
        response: Weighted response and resolution per incident-energy bin.
        histograms: Per histogram name, its weighted comparison.
        classifier: Per classifier input kind, the weighted classifier test (or why it was skipped).
    """

    weights: WeightStats
    summary: ComparisonSummary
    response: ResponseTable
    histograms: dict[str, HistComparison] = field(default_factory=dict)
    classifier: dict[str, Any] = field(default_factory=dict)

    def classifier_result(self, kind: str) -> ClassifierResult | None:
        """The weighted classifier result on ``kind`` inputs, ``None`` if skipped or not run."""
        result = self.classifier.get(kind)
        return result if isinstance(result, ClassifierResult) else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "weights": self.weights.to_dict(), "summary": self.summary.to_dict(),
            "histograms": {n: c.to_dict() for n, c in self.histograms.items()}, "response": self.response.to_dict(),
            "classifier": {kind: r.to_dict() for kind, r in self.classifier.items()},
        }


def weighted_histograms(specs: list[HistSpec], scan: SampleScan) -> dict[str, Histogram]:
    """Weighted histograms of every spec, plus ``"voxel_energy"`` when the scan filled it weighted.

    Raises:
        ValueError: If the scan has no weights.
    """
    if scan.weights is None:
        msg = "the sample has no weights"
        raise ValueError(msg)
    hists = fill_all(specs, scan.features, scan.weights)
    if scan.voxel_counts is not None and scan.voxel_sumw is not None:
        hists["voxel_energy"] = Histogram(scan.voxel_counts, overflow=scan.voxel_outside, sumw=scan.voxel_sumw,
                                          sumw2=scan.voxel_sumw2)
    return hists


def _classifiers(
    ref: SampleScan, gen: SampleScan, geometry: Geometry, kinds: tuple[InputKind, ...], config: ClassifierConfig,
    skipped: Any,
) -> dict[str, Any]:
    assert gen.weights is not None  # checked by the caller
    out: dict[str, Any] = {}
    for kind in kinds:
        if kind == "high":
            x_ref = classifier_inputs("high", None, None, geometry, ref.features)
            x_gen = classifier_inputs("high", None, None, geometry, gen.features)
            w = gen.weights
        elif ref.kept_voxels is None or gen.kept_voxels is None:
            out[kind] = skipped("no voxels kept for the classifier")
            continue
        else:
            x_ref = classifier_inputs(kind, ref.kept_voxels, ref.features.e_inc[ref.kept_index], geometry)
            x_gen = classifier_inputs(kind, gen.kept_voxels, gen.features.e_inc[gen.kept_index], geometry)
            w = gen.weights[gen.kept_index]
        out[kind] = classifier_test(x_gen, x_ref, config, generated_weights=w)
    return out


def weighted_report(
    specs: list[HistSpec],
    ref_hists: Mapping[str, Histogram],
    reference: SampleScan,
    scan: SampleScan,
    response_edges: NDArray[np.float64],
    *,
    geometry: Geometry,
    classifier: ClassifierConfig | None = None,
    classifier_kinds: tuple[InputKind, ...] = (),
    skipped: Any = None,
) -> tuple[WeightedReport, dict[str, Histogram]]:
    """The "after reweighting" numbers of ``scan`` (which must carry weights) against the reference.

    Arguments:
        specs: Feature-histogram binnings.
        ref_hists: Reference histograms by name (``"voxel_energy"`` included).
        reference: The reference scan.
        scan: The weighted generated scan.
        response_edges: Incident-energy bin edges of the response table, MeV.
        geometry: The readout geometry.
        classifier: Classifier settings (``None``: no classifier test).
        classifier_kinds: Which classifier inputs to test.
        skipped: Factory of the "skipped test" result, called with the reason.

    Returns:
        The report and the weighted histograms by name.
    """
    hists = weighted_histograms(specs, scan)
    names = [s.name for s in specs] + (["voxel_energy"] if "voxel_energy" in hists else [])
    families = {s.name: s.family for s in specs} | {"voxel_energy": "voxel_energy"}
    comps = {n: compare_histogram(n, families[n], ref_hists[n], hists[n]) for n in names}
    assert scan.weights is not None  # weighted_histograms checked it
    resp = response_table(scan.features.e_inc, scan.features.response, response_edges, scan.weights)
    report = WeightedReport(WeightStats.of(scan.weights), summarise_comparisons(comps), resp, comps)
    if classifier is not None and classifier_kinds:
        report.classifier = _classifiers(reference, scan, geometry, classifier_kinds, classifier, skipped)
    return report, hists

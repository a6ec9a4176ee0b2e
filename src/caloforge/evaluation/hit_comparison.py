"""Hit-level comparison of a generated sample with the reference (the ``hits`` section of ``metrics.json``).

Every observable of :mod:`.hits` is histogrammed in a binning fixed by the reference (:func:`hit_specs`) and
compared with the separation power and χ² test of :mod:`.compare`; the distributions of all hits over layers
(``hit_layer``) and radial bins (``hit_radius``) and the cell-energy spectrum (``cell_energy``) are compared the
same way (their entries are hits, not showers). On top: the correlation matrices of the shower moments
(reference, generated, difference) and, per incident-energy bin, linearity mean90(E_vis)/⟨E_inc⟩ and resolution
rms90/mean90 (:class:`LinearityTable`).

Example:
    >>> import numpy as np
    >>> from caloforge.evaluation.hits import HitAccumulator
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=3, n_alpha=2, r_edges=[0, 5, 10])
    >>> rng = np.random.default_rng(0)
    >>> samples = []
    >>> for seed in (1, 2):
    ...     acc = HitAccumulator(g, 0.1, e_max=1e3)
    ...     acc.add(rng.exponential(1.0, (200, 12)), np.full(200, 100.0))
    ...     samples.append(acc.result())
    >>> specs = hit_specs(samples[0])
    >>> report = compare_hits(specs, samples[0], samples[1], np.array([50.0, 200.0]))
    >>> report.histograms["n_hits"].separation_power < 0.1
    True
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from caloforge.evaluation.binning import log_edges
from caloforge.evaluation.compare import HistComparison, compare_histogram
from caloforge.evaluation.histograms import Histogram, HistSpec, fill
from caloforge.evaluation.hits import MOMENTS, CellThreshold, HitSample, correlation_matrix, mean90_rms90

__all__ = [
    "HIT_LABELS",
    "START_LAYER_DEFINITION",
    "CorrelationComparison",
    "HitsReport",
    "LinearityTable",
    "compare_correlations",
    "compare_hits",
    "hit_histograms",
    "hit_specs",
    "linearity_table",
]

#: Axis labels of the hit-level histograms.
HIT_LABELS = {
    "n_hits": "number of hits",
    "e_vis": "visible energy [MeV]",
    "cog_x": "centre of gravity x [mm]",
    "cog_y": "centre of gravity y [mm]",
    "cog_z": "centre of gravity z [layers]",
    "width_z": "longitudinal rms [layers]",
    "r_rms": "radial rms [mm]",
    "start_layer": "shower-start layer (−1: none)",
    "cell_energy": "cell energy [MeV]",
    "hit_layer": "layer of the hit",
    "hit_radius": "radial bin of the hit",
}
#: How the shower start is defined (written beside the numbers).
START_LAYER_DEFINITION = ("first layer (0-based) from the front such that it and the next layer each hold at least "
                          "3 hits; -1 if none")
_SHOWER_OBSERVABLES = ("n_hits", "e_vis", "cog_x", "cog_y", "cog_z", "width_z", "r_rms", "start_layer")
_KIND = {"n_hits": "count", "e_vis": "energy", "start_layer": "layer"}


def _edges(values: NDArray[np.float64], kind: str, n_layers: int) -> tuple[NDArray[np.float64], bool]:
    """Bin edges from the reference values: integer bins for small counts, log bins for wide positive ranges."""
    if kind == "layer":
        return np.arange(-1.5, n_layers + 0.5), False
    v = values[np.isfinite(values)]
    lo, hi = (float(np.quantile(v, 0.001)), float(np.quantile(v, 0.999))) if v.size else (0.0, 1.0)
    if kind == "count":
        lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 1.0)
        if hi - lo <= 80:
            return np.arange(math.floor(lo) - 0.5, math.ceil(hi) + 1.5), False
    if kind in ("count", "energy") and lo > 0 and hi / lo > 30:
        return log_edges(lo / 1.05, hi * 1.05, 51), True
    if hi <= lo:
        lo, hi = lo - 1.0, hi + 1.0
    pad = 0.05 * (hi - lo)
    return np.linspace(lo - pad, hi + pad, 51), False


def hit_specs(ref: HitSample) -> list[HistSpec]:
    """The binnings of the hit-level histograms, fixed by the reference sample."""
    n_layers = len(ref.hits_per_layer)
    specs = []
    for name in _SHOWER_OBSERVABLES:
        edges, log_x = _edges(getattr(ref, name), _KIND.get(name, "position"), n_layers)
        specs.append(HistSpec(name, name, None, edges, log_x))
    specs.append(HistSpec("cell_energy", "cell_energy", None, ref.spectrum_edges, True))
    specs.append(HistSpec("hit_layer", "hit_layer", None, np.arange(n_layers + 1, dtype=np.float64) - 0.5))
    specs.append(HistSpec("hit_radius", "hit_radius", None,
                          np.arange(len(ref.radial_centres) + 1, dtype=np.float64) - 0.5))
    return specs


def hit_histograms(specs: list[HistSpec], sample: HitSample) -> dict[str, Histogram]:
    """Histograms of every spec for one sample (the aggregated ones count hits)."""
    out = {s.name: fill(getattr(sample, s.name), s.edges) for s in specs if s.name in _SHOWER_OBSERVABLES}
    out["cell_energy"] = Histogram(sample.spectrum_counts.copy(), underflow=sample.spectrum_underflow,
                                   overflow=sample.spectrum_overflow)
    out["hit_layer"] = Histogram(np.rint(sample.hits_per_layer).astype(np.int64))
    out["hit_radius"] = Histogram(np.rint(sample.hits_per_radial_bin).astype(np.int64))
    return out


@dataclass(frozen=True)
class LinearityTable:
    """Per incident-energy bin, mean90 / rms90 of the visible energy (every list holds one value per bin).

    Attributes:
        e_low: Lower bin edges, MeV.
        e_high: Upper bin edges, MeV.
        n: Showers per bin.
        e_inc_mean: Mean incident energy in the bin, MeV.
        mean90: Mean of E_vis over the shortest interval holding 90 % of the bin's showers, MeV.
        rms90: Their rms, MeV.
        linearity: mean90 / ⟨E_inc⟩.
        resolution: rms90 / mean90.
    """

    e_low: list[float]
    e_high: list[float]
    n: list[float]
    e_inc_mean: list[float]
    mean90: list[float]
    rms90: list[float]
    linearity: list[float]
    resolution: list[float]

    def to_dict(self) -> dict[str, list[float]]:
        """JSON-able form."""
        return asdict(self)


def linearity_table(sample: HitSample, edges: NDArray[np.float64]) -> LinearityTable:
    """Linearity and resolution of the visible energy from mean90 / rms90 per incident-energy bin (``edges``, MeV)."""
    idx = np.digitize(sample.e_inc, edges) - 1
    cols: dict[str, list[float]] = {k: [] for k in LinearityTable.__dataclass_fields__}
    for b in range(len(edges) - 1):
        sel = idx == b
        mean, rms = mean90_rms90(sample.e_vis[sel])
        e_mean = float(sample.e_inc[sel].mean()) if sel.any() else math.nan
        for key, value in (("e_low", edges[b]), ("e_high", edges[b + 1]), ("n", sel.sum()), ("e_inc_mean", e_mean),
                           ("mean90", mean), ("rms90", rms), ("linearity", mean / e_mean if e_mean > 0 else math.nan),
                           ("resolution", rms / mean if mean > 0 else math.nan)):
            cols[key].append(float(value))
    return LinearityTable(**cols)


@dataclass(frozen=True)
class CorrelationComparison:
    """Correlation matrices of the shower moments (:data:`~caloforge.evaluation.hits.MOMENTS`).

    Attributes:
        moments: The moments, in matrix order.
        reference: Pearson correlations of the reference, (K, K).
        generated: Of the generated sample, (K, K).
        difference: generated − reference, (K, K).
        mean_abs_difference: Mean |difference| over the finite off-diagonal elements (NaN if none).
        max_abs_difference: Their maximum.
    """

    moments: tuple[str, ...]
    reference: NDArray[np.float64]
    generated: NDArray[np.float64]
    difference: NDArray[np.float64]
    mean_abs_difference: float
    max_abs_difference: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (matrices as nested lists)."""
        return {"moments": list(self.moments), "reference": self.reference.tolist(),
                "generated": self.generated.tolist(), "difference": self.difference.tolist(),
                "mean_abs_difference": self.mean_abs_difference, "max_abs_difference": self.max_abs_difference}


def compare_correlations(ref: HitSample, gen: HitSample) -> CorrelationComparison:
    """The moments' correlation matrices of both samples and their difference."""
    c_ref, c_gen = correlation_matrix(ref.moments()), correlation_matrix(gen.moments())
    diff = c_gen - c_ref
    upper = np.abs(diff[np.triu_indices(len(MOMENTS), k=1)])
    upper = upper[np.isfinite(upper)]
    return CorrelationComparison(MOMENTS, c_ref, c_gen, diff, float(upper.mean()) if upper.size else math.nan,
                                 float(upper.max()) if upper.size else math.nan)


def _rel_diff(gen: list[float], ref: list[float]) -> list[float]:
    return [g / r - 1.0 if r and math.isfinite(r) else math.nan for g, r in zip(gen, ref, strict=True)]


def _max_abs(values: list[float]) -> float:
    finite = [abs(v) for v in values if math.isfinite(v)]
    return max(finite) if finite else math.nan


@dataclass
class HitsReport:
    """Every hit-level number of one generated sample (``generated.<label>.hits`` in ``metrics.json``).

    Attributes:
        threshold: The cell threshold used.
        histograms: Per hit-level histogram, its comparison.
        correlation: The moments' correlation matrices.
        linearity_reference: Linearity / resolution of the reference.
        linearity_generated: Of the generated sample.
        means: Per sample (``"reference"``, ``"generated"``), the mean of every shower observable.
    """

    threshold: CellThreshold
    histograms: dict[str, HistComparison]
    correlation: CorrelationComparison
    linearity_reference: LinearityTable
    linearity_generated: LinearityTable
    means: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def separation_power_mean(self) -> float:
        """Mean separation power over the finite hit-level histograms (NaN if none)."""
        seps = [c.separation_power for c in self.histograms.values() if math.isfinite(c.separation_power)]
        return float(np.mean(seps)) if seps else math.nan

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        lin_ref, lin_gen = self.linearity_reference, self.linearity_generated
        lin_diff = _rel_diff(lin_gen.linearity, lin_ref.linearity)
        res_diff = _rel_diff(lin_gen.resolution, lin_ref.resolution)
        return {
            "cell_threshold_mev": self.threshold.mev, "threshold_source": self.threshold.source,
            "mip_mev": self.threshold.mip_mev, "start_layer_definition": START_LAYER_DEFINITION,
            "separation_power": {n: c.separation_power for n, c in self.histograms.items()},
            "separation_power_mean": self.separation_power_mean,
            "histograms": {n: c.to_dict() for n, c in self.histograms.items()},
            "means": self.means,
            "correlation": self.correlation.to_dict(),
            "linearity": {"reference": lin_ref.to_dict(), "generated": lin_gen.to_dict(),
                          "linearity_rel_diff": lin_diff, "resolution_rel_diff": res_diff,
                          "max_abs_linearity_rel_diff": _max_abs(lin_diff),
                          "max_abs_resolution_rel_diff": _max_abs(res_diff)},
        }


def _means(sample: HitSample) -> dict[str, float]:
    return {name: float(np.mean(getattr(sample, name))) for name in _SHOWER_OBSERVABLES}


def compare_hits(
    specs: list[HistSpec], ref: HitSample, gen: HitSample, energy_edges: NDArray[np.float64],
    *, ref_hists: dict[str, Histogram] | None = None, gen_hists: dict[str, Histogram] | None = None,
) -> HitsReport:
    """Compares the hit-level observables of a generated sample with the reference's.

    Arguments:
        specs: The binnings (:func:`hit_specs` of the reference).
        ref: Reference observables.
        gen: Generated observables (same geometry and cell threshold).
        energy_edges: Incident-energy bin edges of the linearity tables, MeV.
        ref_hists: The reference's :func:`hit_histograms` (computed when omitted).
        gen_hists: The generated sample's (computed when omitted).
    """
    ref_hists = hit_histograms(specs, ref) if ref_hists is None else ref_hists
    gen_hists = hit_histograms(specs, gen) if gen_hists is None else gen_hists
    comps = {s.name: compare_histogram(s.name, "hits", ref_hists[s.name], gen_hists[s.name]) for s in specs}
    return HitsReport(threshold=ref.threshold, histograms=comps, correlation=compare_correlations(ref, gen),
                      linearity_reference=linearity_table(ref, energy_edges),
                      linearity_generated=linearity_table(gen, energy_edges),
                      means={"reference": _means(ref), "generated": _means(gen)})

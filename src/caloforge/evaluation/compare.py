"""Comparisons of a generated sample with the reference: every feature histogram, summaries, linearity.

Example:
    >>> import numpy as np
    >>> t = response_table(np.array([1e3, 1e3, 1e4, 1e4]), np.array([0.9, 1.1, 0.95, 1.05]),
    ...                    np.array([1e3, 5e3, 2e4]))
    >>> [round(v, 3) for v in t.mean], [round(v, 3) for v in t.resolution]
    ([1.0, 1.0], [0.141, 0.071])
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from caloforge.evaluation.features import FeatureTable
from caloforge.evaluation.histograms import Histogram, HistSpec, feature_values, feature_weights, fill
from caloforge.evaluation.metrics import Chi2Result, chi2_ndf, separation_power

__all__ = [
    "ComparisonSummary",
    "HistComparison",
    "ResponseTable",
    "WorstFeature",
    "compare_histogram",
    "energy_bins",
    "response_table",
    "summarise_comparisons",
    "weighted_chi2",
]


def _errors_next_to_values(out: dict[str, Any], pairs: dict[str, str]) -> dict[str, Any]:
    """``out`` with each error key (``pairs``: error key → value key) right after its value in ``metrics.json``."""
    errors = {key: out.pop(key) for key in pairs}
    ordered: dict[str, Any] = {}
    for key, value in out.items():
        ordered[key] = value
        ordered.update({err: errors[err] for err, of in pairs.items() if of == key})
    return ordered


@dataclass(frozen=True)
class HistComparison:
    """Agreement of one feature histogram.

    Attributes:
        name: Histogram key (e.g. ``"ec_r_7"``).
        family: Feature family.
        separation_power: Separation power of the unit-normalised histograms (0 = identical, 1 = disjoint).
        chi2: χ² of the two-histogram test with statistical errors.
        ndf: Its degrees of freedom.
        chi2_ndf: χ²/NDF.
        p_value: χ² p-value.
        outside_reference: Fraction of reference entries outside the binning (not compared).
        outside_generated: Fraction of generated entries outside the binning (not compared).
        separation_power_err: Bootstrap error of the separation power (NaN: not resampled).
        chi2_ndf_err: Bootstrap error of χ²/NDF (NaN: not resampled).
    """

    name: str
    family: str
    separation_power: float
    chi2: float
    ndf: int
    chi2_ndf: float
    p_value: float
    outside_reference: float
    outside_generated: float
    separation_power_err: float = float("nan")
    chi2_ndf_err: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (without name)."""
        out = asdict(self)
        out.pop("name")
        return _errors_next_to_values(out, {"separation_power_err": "separation_power", "chi2_ndf_err": "chi2_ndf"})


def compare_histogram(name: str, family: str, ref: Histogram, gen: Histogram) -> HistComparison:
    """Separation power and χ² test of two histograms of one binning (weighted ones: contents Σw, errors √Σw²)."""
    weighted = ref.sumw is not None or gen.sumw is not None
    chi = weighted_chi2(ref, gen) if weighted else chi2_ndf(ref.counts, gen.counts)
    return HistComparison(
        name=name,
        family=family,
        separation_power=separation_power(ref.contents, gen.contents),
        chi2=chi.chi2,
        ndf=chi.ndf,
        chi2_ndf=chi.chi2_ndf,
        p_value=chi.p_value,
        outside_reference=ref.outside_fraction,
        outside_generated=gen.outside_fraction,
    )


def weighted_chi2(ref: Histogram, gen: Histogram) -> Chi2Result:
    """χ² of two unit-normalised histograms with statistical errors √Σw² (√N when unweighted).

    ``χ² = Σ (p₁ − p₂)² / (σ₁² + σ₂²)`` over bins with entries, NDF = (such bins) − 1.
    """
    c1, c2 = ref.contents, gen.contents
    t1, t2 = float(c1.sum()), float(c2.sum())
    if t1 <= 0 or t2 <= 0:
        return Chi2Result(float("nan"), 0)
    var = ref.variances / t1**2 + gen.variances / t2**2
    used = var > 0
    return Chi2Result(float(np.sum((c1 / t1 - c2 / t2)[used] ** 2 / var[used])), int(used.sum()) - 1)


def fill_all(specs: list[HistSpec], table: FeatureTable, weights: NDArray[np.floating] | None = None) -> dict[
    str, Histogram
]:
    """Histograms of every spec for one sample (weighted when per-shower ``weights`` (N,) are given)."""
    return {spec.name: fill(feature_values(table, spec), spec.edges,
                            None if weights is None else feature_weights(table, spec, weights)) for spec in specs}


@dataclass(frozen=True)
class WorstFeature:
    """One of the most separating histograms.

    Attributes:
        name: Histogram key.
        separation_power: Its separation power.
    """

    name: str
    separation_power: float


@dataclass(frozen=True)
class ComparisonSummary:
    """Summary of every histogram comparison of one sample (``"summary"`` in ``metrics.json``).

    Attributes:
        n_histograms: Histograms compared.
        n_empty: Histograms without a finite separation power (empty in both samples).
        separation_power_mean: Mean separation power over the finite ones (NaN if none).
        separation_power_median: Their median.
        separation_power_max: Their maximum.
        chi2_ndf_median: Median χ²/NDF over the histograms where it is finite.
        separation_power_by_family: Mean separation power per feature family.
        worst: The most separating histograms, the worst first.
        separation_power_mean_err: Bootstrap error of the mean separation power (NaN: not resampled).
        chi2_ndf_median_err: Bootstrap error of the median χ²/NDF.
        separation_power_by_family_err: Per family, the bootstrap error of its mean separation power.
        bootstrap_replicates: Resamplings behind the errors (0: none).
    """

    n_histograms: int
    n_empty: int
    separation_power_mean: float
    separation_power_median: float
    separation_power_max: float
    chi2_ndf_median: float
    separation_power_by_family: dict[str, float] = field(default_factory=dict)
    worst: list[WorstFeature] = field(default_factory=list)
    separation_power_mean_err: float = float("nan")
    chi2_ndf_median_err: float = float("nan")
    separation_power_by_family_err: dict[str, float] = field(default_factory=dict)
    bootstrap_replicates: int = 0

    @property
    def worst_name(self) -> str | None:
        """Name of the most separating histogram (``None`` if none is comparable)."""
        return self.worst[0].name if self.worst else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return _errors_next_to_values(asdict(self), {
            "separation_power_mean_err": "separation_power_mean", "chi2_ndf_median_err": "chi2_ndf_median",
            "separation_power_by_family_err": "separation_power_by_family",
        })


def summarise_comparisons(comparisons: dict[str, HistComparison], n_worst: int = 5) -> ComparisonSummary:
    """Mean / median / max separation power overall and per family, median χ²/NDF, and the worst features."""
    names = [n for n, c in comparisons.items() if np.isfinite(c.separation_power)]
    seps = np.array([comparisons[n].separation_power for n in names])
    chis = np.array([c.chi2_ndf for c in comparisons.values() if np.isfinite(c.chi2_ndf)])
    families: dict[str, list[float]] = {}
    for n in names:
        families.setdefault(comparisons[n].family, []).append(comparisons[n].separation_power)
    worst = sorted(names, key=lambda n: -comparisons[n].separation_power)[:n_worst]
    return ComparisonSummary(
        n_histograms=len(comparisons),
        n_empty=len(comparisons) - len(names),
        separation_power_mean=float(seps.mean()) if seps.size else float("nan"),
        separation_power_median=float(np.median(seps)) if seps.size else float("nan"),
        separation_power_max=float(seps.max()) if seps.size else float("nan"),
        chi2_ndf_median=float(np.median(chis)) if chis.size else float("nan"),
        separation_power_by_family={f: float(np.mean(v)) for f, v in families.items()},
        worst=[WorstFeature(n, comparisons[n].separation_power) for n in worst],
    )


def energy_bins(e_inc: NDArray[np.floating], n_bins: int = 10) -> NDArray[np.float64]:
    """Incident-energy bin edges: one bin per energy for discrete spectra (≤ 20 values), else log bins."""
    values = np.unique(e_inc)
    if len(values) <= 20:
        mids = np.sqrt(values[1:] * values[:-1]) if len(values) > 1 else np.zeros(0)
        return np.concatenate([[values[0] * 0.99], mids, [values[-1] * 1.01]])
    return np.logspace(np.log10(values[0]), np.log10(values[-1] * (1 + 1e-9)), n_bins + 1)


@dataclass(frozen=True)
class ResponseTable:
    """Mean response E_tot/E_inc and resolution σ/μ per incident-energy bin (``"response"`` in ``metrics.json``).

    Every attribute holds one value per bin; NaN where a bin has fewer than 2 showers.

    Attributes:
        e_low: Lower bin edges, MeV.
        e_high: Upper bin edges, MeV.
        n: Showers per bin.
        mean: Mean response.
        mean_error: Its statistical error.
        resolution: σ/μ of the response.
        resolution_error: Its statistical error.
        mean_bootstrap_err: Bootstrap error of the mean response (empty: not resampled).
        resolution_bootstrap_err: Bootstrap error of the resolution (empty: not resampled).
    """

    e_low: list[float]
    e_high: list[float]
    n: list[float]
    mean: list[float]
    mean_error: list[float]
    resolution: list[float]
    resolution_error: list[float]
    mean_bootstrap_err: list[float] = field(default_factory=list)
    resolution_bootstrap_err: list[float] = field(default_factory=list)

    @property
    def edges(self) -> NDArray[np.float64]:
        """The bin edges, (n_bins + 1,), MeV."""
        return np.asarray([*self.e_low, self.e_high[-1]], dtype=np.float64)

    def to_dict(self) -> dict[str, list[float]]:
        """JSON-able form."""
        return _errors_next_to_values(asdict(self), {"mean_bootstrap_err": "mean_error",
                                                     "resolution_bootstrap_err": "resolution_error"})


def response_table(
    e_inc: NDArray[np.floating], response: NDArray[np.floating], edges: NDArray[np.float64],
    weights: NDArray[np.floating] | None = None,
) -> ResponseTable:
    """Mean response E_tot/E_inc and resolution σ/μ per incident-energy bin, with statistical errors.

    Arguments:
        e_inc: Incident energies, (N,), MeV.
        response: E_tot / E_inc, (N,).
        edges: Incident-energy bin edges, MeV.
        weights: Per-shower weights, (N,): weighted means and widths, errors from the effective
            number of showers (Σw)²/Σw² of the bin (``n`` stays the number of showers).
    """
    if weights is not None:
        return _weighted_response_table(e_inc, response, edges, np.asarray(weights, dtype=np.float64))
    idx = np.digitize(e_inc, edges) - 1
    out: dict[str, list[float]] = {k: [] for k in ("e_low", "e_high", "n", "mean", "mean_error", "resolution", "resolution_error")}
    for b in range(len(edges) - 1):
        r = response[idx == b]
        n = len(r)
        mean = float(r.mean()) if n >= 2 else float("nan")
        std = float(r.std(ddof=1)) if n >= 2 else float("nan")
        res = std / mean if n >= 2 and mean != 0 else float("nan")
        out["e_low"].append(float(edges[b]))
        out["e_high"].append(float(edges[b + 1]))
        out["n"].append(float(n))
        out["mean"].append(mean)
        out["mean_error"].append(std / np.sqrt(n) if n >= 2 else float("nan"))
        out["resolution"].append(res)
        out["resolution_error"].append(res / np.sqrt(2 * (n - 1)) if n >= 2 else float("nan"))
    return ResponseTable(**out)


def _weighted_response_table(
    e_inc: NDArray[np.floating], response: NDArray[np.floating], edges: NDArray[np.float64], w: NDArray[np.float64]
) -> ResponseTable:
    idx = np.digitize(e_inc, edges) - 1
    out: dict[str, list[float]] = {k: [] for k in ("e_low", "e_high", "n", "mean", "mean_error", "resolution", "resolution_error")}
    nan = float("nan")
    for b in range(len(edges) - 1):
        sel = idx == b
        r, wb = response[sel], w[sel]
        sw, sw2 = float(wb.sum()), float((wb**2).sum())
        n_eff = sw**2 / sw2 if sw2 > 0 else 0.0
        ok = len(r) >= 2 and n_eff > 1.0
        mean = float(np.sum(wb * r) / sw) if ok else nan
        std = float(np.sqrt(np.sum(wb * (r - mean) ** 2) / sw * n_eff / (n_eff - 1))) if ok else nan
        res = std / mean if ok and mean != 0 else nan
        out["e_low"].append(float(edges[b]))
        out["e_high"].append(float(edges[b + 1]))
        out["n"].append(float(len(r)))
        out["mean"].append(mean)
        out["mean_error"].append(std / np.sqrt(n_eff) if ok else nan)
        out["resolution"].append(res)
        out["resolution_error"].append(res / np.sqrt(2 * (n_eff - 1)) if ok else nan)
    return ResponseTable(**out)

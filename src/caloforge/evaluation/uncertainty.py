"""Bootstrap uncertainties of the histogram metrics and of the response table.

Both samples are resampled with replacement, ``n_replicates`` times, and every metric is recomputed on
each replicate; its error is the standard deviation over the replicates. The resampling is vectorised:
each shower's bin in every feature histogram is computed once (:class:`BinnedSample`, one global bin index
per histogram and shower), a replicate draws one set of shower indices per sample, and its counts in *all*
histograms are one product of the replicate's shower multiplicities (``np.bincount`` of the drawn indices)
with the sparse shower → bin matrix, for a block of replicates at once (the same numbers as
``np.bincount`` of the resampled bin indices, a few times faster). Separation powers and χ² are then
computed for all histograms and replicates at once, so 100 replicates cost little next to reading the files.

What is resampled:

* separation power and χ²/NDF of every feature histogram (not the voxel-energy spectrum, which is filled
  voxel by voxel while streaming; it is held at its value in every replicate);
* their summaries: the mean separation power (overall and per family) and the median χ²/NDF;
* mean response and resolution per incident-energy bin of the generated sample.

FPD and KPD carry their own errors (from their batches, see :mod:`.metrics`) and the classifier's AUC a
spread over re-drawn splits (``classifier_repeats``); they are not resampled here.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> err = bootstrap_mean_error(rng.normal(size=400), n_replicates=200, seed=1)
    >>> bool(abs(err - 1 / np.sqrt(400)) < 0.01)
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from caloforge.evaluation.compare import ComparisonSummary, HistComparison, ResponseTable
from caloforge.evaluation.features import FeatureTable
from caloforge.evaluation.histograms import HistSpec

__all__ = [
    "BinnedSample",
    "BootstrapErrors",
    "bootstrap_errors",
    "bootstrap_mean_error",
    "replicate_std",
    "with_errors",
]

#: Replicates processed at once (bounds the memory of the (replicates, bins) count arrays).
_BLOCK = 25


def replicate_std(values: NDArray[np.floating], axis: int = 0) -> NDArray[np.float64]:
    """Standard deviation (ddof = 1) over the finite replicate values; NaN where fewer than 2 are finite."""
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    n = finite.sum(axis=axis)
    filled = np.where(finite, v, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=axis) / n
        dev = np.where(finite, v - np.expand_dims(mean, axis), 0.0)
        var = (dev**2).sum(axis=axis) / (n - 1)
    return np.where(n >= 2, np.sqrt(np.clip(var, 0.0, None)), np.nan)


def bootstrap_mean_error(values: NDArray[np.floating], *, n_replicates: int = 100, seed: int = 0) -> float:
    """Bootstrap standard error of the mean of ``values`` (the estimator every metric here uses).

    Arguments:
        values: One sample, (N,).
        n_replicates: Resamplings.
        seed: Random seed.
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    rng = np.random.default_rng(seed)
    means = np.array([v[rng.integers(0, len(v), len(v))].mean() for _ in range(n_replicates)])
    return float(replicate_std(means))


def _row_values(table: FeatureTable, spec: HistSpec) -> NDArray[np.float64]:
    """One value per shower (NaN where ``spec`` does not histogram the shower: other energy slice)."""
    if spec.family == "response":
        values = np.array(table.response, dtype=np.float64)
        if spec.energy_range is not None:
            lo, hi = spec.energy_range
            values[(table.e_inc < lo) | (table.e_inc >= hi)] = np.nan
        return values
    array: NDArray[np.float64] = getattr(table, spec.family)
    return np.asarray(array[:, spec.column], dtype=np.float64)


@dataclass(frozen=True)
class BinnedSample:
    """Every shower's bin in every feature histogram, as indices into one concatenated bin axis.

    Attributes:
        index: (N, S) global bin per shower and histogram; ``n_bins`` (one past the last) for entries
            outside the binning or NaN.
        offsets: (S + 1,) start of each histogram's bins on the global axis.
        n_bins: Bins of all histograms together.
        matrix: (n_bins, N) sparse 0/1 matrix, bin ← shower.
    """

    index: NDArray[np.int32]
    offsets: NDArray[np.int64]
    n_bins: int
    matrix: sparse.csr_matrix

    @classmethod
    def build(cls, specs: Sequence[HistSpec], table: FeatureTable) -> BinnedSample:
        """Bins ``table`` into ``specs`` (``np.histogram`` semantics: bins are [a, b), the last one closed)."""
        sizes = np.array([len(s.edges) - 1 for s in specs], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        total = int(offsets[-1])
        index = np.empty((len(table), len(specs)), dtype=np.int32)
        for j, spec in enumerate(specs):
            v = _row_values(table, spec)
            b = np.searchsorted(spec.edges, v, side="right") - 1
            b[v == spec.edges[-1]] = sizes[j] - 1
            outside = ~np.isfinite(v) | (b < 0) | (b >= sizes[j])
            index[:, j] = np.where(outside, total, b + offsets[j])
        flat = index.ravel()
        inside = flat < total
        cols = np.repeat(np.arange(len(table)), len(specs))[inside]
        matrix = sparse.csr_matrix((np.ones(int(inside.sum())), (flat[inside], cols)), shape=(total, len(table)))
        return cls(index, offsets, total, matrix)

    def counts(self, rows: NDArray[np.integer]) -> NDArray[np.float64]:
        """Counts of every bin of every histogram for the showers ``rows`` (repeats count twice), (n_bins,)."""
        return np.bincount(self.index[rows].ravel(), minlength=self.n_bins + 1)[: self.n_bins].astype(np.float64)

    def block_counts(self, rows: Sequence[NDArray[np.integer]]) -> NDArray[np.float64]:
        """:meth:`counts` of several resamplings at once, (len(rows), n_bins)."""
        n = len(self.index)
        mult = np.stack([np.bincount(r, minlength=n) for r in rows]).astype(np.float64)
        return np.ascontiguousarray(np.asarray(self.matrix @ mult.T).T)


def _per_hist(counts: NDArray[np.float64], offsets: NDArray[np.int64]) -> NDArray[np.float64]:
    """Sums over each histogram's bins: (R, n_bins) → (R, S)."""
    out: NDArray[np.float64] = np.add.reduceat(counts, offsets[:-1], axis=1)
    return out


def _metrics(c1: NDArray[np.float64], c2: NDArray[np.float64], offsets: NDArray[np.int64]) -> tuple[
    NDArray[np.float64], NDArray[np.float64]
]:
    """Separation power and χ²/NDF (as in :mod:`.metrics`) of every histogram and replicate, (R, S) each."""
    sizes = np.diff(offsets)
    t1, t2 = _per_hist(c1, offsets), _per_hist(c2, offsets)
    ok = (t1 > 0) & (t2 > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        h1 = c1 / np.repeat(t1, sizes, axis=1)
        h2 = c2 / np.repeat(t2, sizes, axis=1)
        sep = 0.5 * _per_hist(np.nan_to_num((h1 - h2) ** 2 / (h1 + h2 + 1e-16)), offsets)
        both = c1 + c2
        r1, r2 = np.repeat(t1, sizes, axis=1), np.repeat(t2, sizes, axis=1)
        terms = np.where(both > 0, (r2 * c1 - r1 * c2) ** 2 / np.where(both > 0, both, 1.0), 0.0)
        chi2 = _per_hist(terms, offsets) / (t1 * t2)
        ndf = _per_hist((both > 0).astype(np.float64), offsets) - 1
        chi2_ndf = np.where(ndf > 0, chi2 / np.where(ndf > 0, ndf, 1.0), np.nan)
    return np.where(ok, sep, np.nan), np.where(ok, chi2_ndf, np.nan)


def _response_replicates(
    e_inc: NDArray[np.float64], response: NDArray[np.float64], edges: NDArray[np.float64],
    rows: Sequence[NDArray[np.int64]],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean response and σ/μ per energy bin for each replicate's rows, (R, n_ebins) each."""
    n_e = len(edges) - 1
    ebin = np.digitize(e_inc, edges) - 1
    ebin = np.where((ebin >= 0) & (ebin < n_e), ebin, n_e)
    means, res = np.empty((len(rows), n_e)), np.empty((len(rows), n_e))
    for r, idx in enumerate(rows):
        b, x = ebin[idx], response[idx]
        n = np.bincount(b, minlength=n_e + 1)[:n_e].astype(np.float64)
        s1 = np.bincount(b, weights=x, minlength=n_e + 1)[:n_e]
        s2 = np.bincount(b, weights=x * x, minlength=n_e + 1)[:n_e]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = s1 / n
            std = np.sqrt(np.clip((s2 - n * mean**2) / (n - 1), 0.0, None))
            means[r] = np.where(n >= 2, mean, np.nan)
            res[r] = np.where((n >= 2) & (mean != 0), std / mean, np.nan)
    return means, res


@dataclass(frozen=True)
class BootstrapErrors:
    """Bootstrap standard deviations of the metrics of one comparison (``*_err`` in ``metrics.json``).

    Attributes:
        n_replicates: Resamplings of both samples.
        seed: Their seed.
        separation_power: Per histogram name, the error of its separation power.
        chi2_ndf: Per histogram name, the error of its χ²/NDF.
        separation_power_mean: Error of the mean separation power.
        chi2_ndf_median: Error of the median χ²/NDF.
        separation_power_by_family: Per feature family, the error of its mean separation power.
        response_mean: Per incident-energy bin, the error of the generated sample's mean response.
        response_resolution: Per incident-energy bin, the error of its resolution σ/μ.
    """

    n_replicates: int
    seed: int
    separation_power: dict[str, float] = field(default_factory=dict)
    chi2_ndf: dict[str, float] = field(default_factory=dict)
    separation_power_mean: float = float("nan")
    chi2_ndf_median: float = float("nan")
    separation_power_by_family: dict[str, float] = field(default_factory=dict)
    response_mean: list[float] = field(default_factory=list)
    response_resolution: list[float] = field(default_factory=list)


def _summary_errors(
    sep: NDArray[np.float64], chi: NDArray[np.float64], specs: Sequence[HistSpec],
    nominal: Mapping[str, HistComparison] | None,
) -> dict[str, Any]:
    """Errors of the summary statistics over the histograms the summaries use (those finite on the full
    samples); histograms in ``nominal`` but not in ``specs`` are held at their nominal values."""
    names = [s.name for s in specs]
    if nominal is None:
        keep = [j for j in range(len(specs)) if np.isfinite(sep[:, j]).any()]
        keep_chi = [j for j in range(len(specs)) if np.isfinite(chi[:, j]).any()]
        fixed_sep, fixed_chi = np.zeros(0), np.zeros(0)
    else:
        keep = [j for j, n in enumerate(names) if n in nominal and np.isfinite(nominal[n].separation_power)]
        keep_chi = [j for j, n in enumerate(names) if n in nominal and np.isfinite(nominal[n].chi2_ndf)]
        fixed = [c for n, c in nominal.items() if n not in set(names)]
        fixed_sep = np.array([c.separation_power for c in fixed if np.isfinite(c.separation_power)])
        fixed_chi = np.array([c.chi2_ndf for c in fixed if np.isfinite(c.chi2_ndf)])
    r = len(sep)
    all_sep = np.concatenate([sep[:, keep], np.broadcast_to(fixed_sep, (r, len(fixed_sep)))], axis=1)
    all_chi = np.concatenate([chi[:, keep_chi], np.broadcast_to(fixed_chi, (r, len(fixed_chi)))], axis=1)
    with np.errstate(invalid="ignore"):
        out: dict[str, Any] = {
            "separation_power_mean": float(replicate_std(all_sep.mean(axis=1))) if all_sep.shape[1] else float("nan"),
            "chi2_ndf_median": float(replicate_std(np.median(all_chi, axis=1))) if all_chi.shape[1] else float("nan"),
        }
        families: dict[str, list[int]] = {}
        for j in keep:
            families.setdefault(specs[j].family, []).append(j)
        out["separation_power_by_family"] = {
            f: float(replicate_std(sep[:, cols].mean(axis=1))) for f, cols in families.items()
        }
    return out


def bootstrap_errors(
    specs: Sequence[HistSpec],
    reference: FeatureTable,
    generated: FeatureTable,
    *,
    nominal: Mapping[str, HistComparison] | None = None,
    response_edges: NDArray[np.float64] | None = None,
    n_replicates: int = 100,
    seed: int = 0,
    reference_bins: BinnedSample | None = None,
) -> BootstrapErrors:
    """Bootstrap errors of every histogram metric, their summaries and the generated response table.

    Arguments:
        specs: Feature-histogram binnings.
        reference: Reference features (resampled too).
        generated: Generated features.
        nominal: The comparisons on the full samples, by histogram name (the summaries' errors use the
            same histograms as the summaries; those not in ``specs`` are held fixed). Default: ``specs`` only.
        response_edges: Incident-energy bin edges of the response table (``None``: no response errors).
        n_replicates: Resamplings (at least 2).
        seed: Random seed.
        reference_bins: ``BinnedSample.build(specs, reference)``, when already computed.

    Raises:
        ValueError: Fewer than 2 replicates or an empty sample.
    """
    if n_replicates < 2:
        msg = f"the bootstrap needs at least 2 replicates, got {n_replicates}"
        raise ValueError(msg)
    if not len(reference) or not len(generated):
        msg = "the bootstrap needs showers in both samples"
        raise ValueError(msg)
    ref_bins = reference_bins or BinnedSample.build(specs, reference)
    gen_bins = BinnedSample.build(specs, generated)
    rng = np.random.default_rng(seed)
    seps, chis, gen_rows = [], [], []
    for start in range(0, n_replicates, _BLOCK):
        block = range(start, min(start + _BLOCK, n_replicates))
        rows = [(rng.integers(0, len(reference), len(reference)), rng.integers(0, len(generated), len(generated)))
                for _ in block]
        c1 = ref_bins.block_counts([r for r, _ in rows])
        c2 = gen_bins.block_counts([g for _, g in rows])
        sep, chi = _metrics(c1, c2, ref_bins.offsets)
        seps.append(sep)
        chis.append(chi)
        gen_rows += [g for _, g in rows]
    sep_all, chi_all = np.concatenate(seps), np.concatenate(chis)
    names = [s.name for s in specs]
    sep_err, chi_err = replicate_std(sep_all), replicate_std(chi_all)
    resp_mean: list[float] = []
    resp_res: list[float] = []
    if response_edges is not None:
        means, res = _response_replicates(generated.e_inc, generated.response, response_edges, gen_rows)
        resp_mean, resp_res = replicate_std(means).tolist(), replicate_std(res).tolist()
    return BootstrapErrors(
        n_replicates=n_replicates, seed=seed,
        separation_power={n: float(e) for n, e in zip(names, sep_err, strict=True)},
        chi2_ndf={n: float(e) for n, e in zip(names, chi_err, strict=True)},
        **_summary_errors(sep_all, chi_all, specs, nominal),
        response_mean=resp_mean, response_resolution=resp_res,
    )


def with_errors(
    comparisons: Mapping[str, HistComparison], summary: ComparisonSummary, errors: BootstrapErrors,
    response: ResponseTable | None = None,
) -> tuple[dict[str, HistComparison], ComparisonSummary, ResponseTable | None]:
    """The comparisons, summary and response table with the bootstrap errors filled in."""
    comps = {n: replace(c, separation_power_err=errors.separation_power.get(n, float("nan")),
                        chi2_ndf_err=errors.chi2_ndf.get(n, float("nan"))) for n, c in comparisons.items()}
    summ = replace(summary, separation_power_mean_err=errors.separation_power_mean,
                   chi2_ndf_median_err=errors.chi2_ndf_median,
                   separation_power_by_family_err=dict(errors.separation_power_by_family),
                   bootstrap_replicates=errors.n_replicates)
    if response is not None and errors.response_mean:
        response = replace(response, mean_bootstrap_err=list(errors.response_mean),
                           resolution_bootstrap_err=list(errors.response_resolution))
    return comps, summ, response

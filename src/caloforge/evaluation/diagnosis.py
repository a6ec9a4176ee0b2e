"""What gives a generated sample away: the high-level observables that separate it from the reference most.

Three views of one question, all from numbers the evaluation has already computed:

* **Every observable**, overall: the separation power of each feature histogram (energy per layer,
  E_tot/E_inc, centres and widths in x, y, r, sparsity), ranked, and grouped into **families**
  (``"e_layer"``, ``"sparsity"``, ``"width_r"``, ...) with the family mean and the worst member.
* **Per incident-energy bin**: the same histograms (same binning) filled with the showers of each bin,
  from the per-shower features already in memory (no file is read again), and the worst observable.
* **Classifier reliance**: the permutation importance of the high-level classifier (``cls-high``), the
  AUC drop when one family's columns are shuffled (:mod:`.importance`).

Ranking uses the *excess* separation power, the value minus its **statistical floor**. Two finite
samples of one distribution do not give 0: their separation power is about ``c χ²`` with
``c = (1/n_ref + 1/n_gen) / 4`` and χ² distributed with NDF = (bins with entries − 1) degrees of freedom
(exact for equal sizes, where it is χ²/2n), so on average ``c NDF``. The floor is its 99 % quantile,
``c χ²₀.₉₉(NDF)``: a 100-bin histogram does not outrank a 20-bin one on noise alone, and a histogram
with few entries (a deep layer that low-energy showers barely reach) needs a large effect to rank.
Histograms with fewer than ``min_showers`` entries in range in either sample are not ranked at all.

Example:
    >>> import numpy as np
    >>> from caloforge.evaluation.histograms import Histogram
    >>> round(noise_floor(Histogram(np.array([500, 500])), Histogram(np.array([250, 250]))), 5)
    0.00498
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from caloforge.evaluation.compare import energy_bins
from caloforge.evaluation.features import FeatureTable
from caloforge.evaluation.histograms import Histogram, HistSpec, feature_values, fill
from caloforge.evaluation.importance import PermutationImportance
from caloforge.evaluation.metrics import separation_power

__all__ = [
    "RANKED_BY",
    "Diagnosis",
    "EnergyBinDiagnosis",
    "FamilyGiveaway",
    "ObservableSeparation",
    "diagnose",
    "energy_bin_diagnosis",
    "noise_floor",
    "rank_families",
    "rank_observables",
]

#: How observables and families are ordered (stored with the result).
RANKED_BY = ("separation power minus its statistical floor (1/n_ref + 1/n_gen) / 4 * chi2_quantile(0.99, NDF), "
             "largest first")


def noise_floor(ref: Histogram, gen: Histogram, *, quantile: float = 0.99) -> float:
    """The separation power that two samples of one distribution with these counts stay below with
    probability ``quantile``: ``(1/n_ref + 1/n_gen) / 4 · χ²_quantile(NDF)``; NaN if one is empty.

    Arguments:
        ref: Reference histogram.
        gen: Generated histogram (same binning).
        quantile: Quantile of the χ² distribution (0.5 gives about the median, and ``NDF`` degrees of
            freedom mean about the average ``NDF (1/n_ref + 1/n_gen) / 4``).
    """
    n_ref, n_gen = ref.n_in_range, gen.n_in_range
    if n_ref == 0 or n_gen == 0:
        return float("nan")
    ndf = int(np.count_nonzero(ref.counts + gen.counts)) - 1
    if ndf < 1:
        return 0.0
    return float(stats.chi2.ppf(quantile, ndf)) * (1.0 / n_ref + 1.0 / n_gen) / 4.0


@dataclass(frozen=True)
class ObservableSeparation:
    """How well one observable separates the samples.

    Attributes:
        name: Histogram key, e.g. ``"sparsity_12"``.
        family: Feature family, e.g. ``"sparsity"``.
        separation_power: Separation power of the two histograms (0 identical, 1 disjoint).
        noise_floor: What two samples of one distribution stay below in 99 % of cases (:func:`noise_floor`).
    """

    name: str
    family: str
    separation_power: float
    noise_floor: float

    @property
    def excess(self) -> float:
        """Separation power above the statistical floor (the ranking key)."""
        return self.separation_power - self.noise_floor

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


@dataclass(frozen=True)
class FamilyGiveaway:
    """One feature family's share in telling the samples apart.

    Attributes:
        family: Family name.
        n_observables: Observables (histograms) of the family that were ranked.
        separation_power: Mean separation power of its observables.
        noise_floor: Mean statistical floor (:func:`noise_floor`) of its observables.
        worst: The member with the largest excess separation power.
        auc_drop: Drop of the ``cls-high`` AUC when the family's inputs are permuted (``None``: not run).
    """

    family: str
    n_observables: int
    separation_power: float
    noise_floor: float
    worst: ObservableSeparation
    auc_drop: float | None = None

    @property
    def excess(self) -> float:
        """Mean separation power above the statistical floor (the ranking key)."""
        return self.separation_power - self.noise_floor

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (the worst member by name and separation power)."""
        return {
            "family": self.family, "n_observables": self.n_observables, "separation_power": self.separation_power,
            "noise_floor": self.noise_floor, "excess": self.excess, "worst": self.worst.name,
            "worst_separation_power": self.worst.separation_power, "auc_drop": self.auc_drop,
        }


@dataclass(frozen=True)
class EnergyBinDiagnosis:
    """The worst observable and family among the showers of one incident-energy bin.

    Attributes:
        e_low: Lower bin edge, MeV.
        e_high: Upper bin edge, MeV.
        n_reference: Reference showers in the bin.
        n_generated: Generated showers in the bin.
        worst: The observable with the largest excess separation power (``None``: too few showers).
        worst_family: The family with the largest mean excess (``None``: too few showers).
        families: Mean separation power per family.
    """

    e_low: float
    e_high: float
    n_reference: int
    n_generated: int
    worst: ObservableSeparation | None = None
    worst_family: str | None = None
    families: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        out = asdict(self)
        out["worst"] = None if self.worst is None else self.worst.to_dict()
        return out


@dataclass
class Diagnosis:
    """What gives one generated sample away.

    Attributes:
        families: Feature families, the most separating first.
        observables: Every ranked observable (enough entries in range), the most separating first.
        energy_bins: Per incident-energy bin, in increasing energy.
        importance: Permutation importance of the ``cls-high`` classifier (``None``: not run).
        min_showers: Histograms and energy bins with fewer showers in either sample were not ranked.
    """

    families: list[FamilyGiveaway]
    observables: list[ObservableSeparation]
    energy_bins: list[EnergyBinDiagnosis] = field(default_factory=list)
    importance: PermutationImportance | None = None
    min_showers: int = 20

    def top(self, k: int = 3) -> list[FamilyGiveaway]:
        """The ``k`` families that separate the samples most."""
        return self.families[:k]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "ranked_by": RANKED_BY,
            "min_showers": self.min_showers,
            "top": [f.family for f in self.top()],
            "families": [f.to_dict() for f in self.families],
            "observables": [o.to_dict() for o in self.observables],
            "energy_bins": [b.to_dict() for b in self.energy_bins],
            "permutation_importance": None if self.importance is None else self.importance.to_dict(),
        }


def _separation(spec: HistSpec, ref: Histogram, gen: Histogram, min_showers: int) -> ObservableSeparation | None:
    if min(ref.n_in_range, gen.n_in_range) < max(min_showers, 1):
        return None
    return ObservableSeparation(spec.name, spec.family, separation_power(ref.counts, gen.counts), noise_floor(ref, gen))


def rank_observables(
    specs: Sequence[HistSpec], ref: Mapping[str, Histogram], gen: Mapping[str, Histogram], *, min_showers: int = 20
) -> list[ObservableSeparation]:
    """The observables of ``specs`` by decreasing excess separation power.

    Arguments:
        specs: Feature-histogram binnings.
        ref: Reference histograms by name.
        gen: Generated histograms by name.
        min_showers: Histograms with fewer entries in range in either sample are left out.
    """
    found = (_separation(spec, ref[spec.name], gen[spec.name], min_showers) for spec in specs)
    return sorted((o for o in found if o is not None), key=lambda o: (-o.excess, o.name))


def rank_families(
    observables: Sequence[ObservableSeparation], auc_drop: Mapping[str, float] | None = None
) -> list[FamilyGiveaway]:
    """Groups observables into families (mean and worst member), by decreasing mean excess.

    Arguments:
        observables: Observable separations (any order).
        auc_drop: Permutation-importance AUC drop per family, if the classifier ran.
    """
    groups: dict[str, list[ObservableSeparation]] = {}
    for obs in observables:
        groups.setdefault(obs.family, []).append(obs)
    families = [
        FamilyGiveaway(
            family=name, n_observables=len(members),
            separation_power=float(np.mean([m.separation_power for m in members])),
            noise_floor=float(np.mean([m.noise_floor for m in members])),
            worst=max(members, key=lambda m: m.excess),
            auc_drop=None if auc_drop is None else auc_drop.get(name),
        )
        for name, members in groups.items()
    ]
    return sorted(families, key=lambda f: (-f.excess, f.family))


def _bin_rows(e_inc: NDArray[np.float64], edges: NDArray[np.float64]) -> list[NDArray[np.intp]]:
    index = np.digitize(e_inc, edges) - 1
    return [np.flatnonzero(index == b) for b in range(len(edges) - 1)]


def energy_bin_diagnosis(
    specs: Sequence[HistSpec],
    ref: FeatureTable,
    gen: FeatureTable,
    edges: NDArray[np.float64],
    *,
    min_showers: int = 20,
) -> list[EnergyBinDiagnosis]:
    """The worst observable and family per incident-energy bin, in the overall histogram binning.

    Memory stays at one feature column per sample: the histograms of each observable are filled bin
    by bin from the features already computed.

    Arguments:
        specs: Feature-histogram binnings (specs restricted to an energy range are skipped).
        ref: Reference features.
        gen: Generated features.
        edges: Incident-energy bin edges, MeV.
        min_showers: Bins with fewer showers in either sample get no ranking, and histograms with fewer
            entries in range in either sample are left out.
    """
    ref_rows, gen_rows = _bin_rows(ref.e_inc, edges), _bin_rows(gen.e_inc, edges)
    usable = [b for b in range(len(edges) - 1) if min(len(ref_rows[b]), len(gen_rows[b])) >= min_showers]
    found: dict[int, list[ObservableSeparation]] = {b: [] for b in usable}
    for spec in specs:
        if spec.energy_range is not None:
            continue
        ref_values, gen_values = feature_values(ref, spec), feature_values(gen, spec)
        for b in usable:
            h_ref, h_gen = fill(ref_values[ref_rows[b]], spec.edges), fill(gen_values[gen_rows[b]], spec.edges)
            if (obs := _separation(spec, h_ref, h_gen, min_showers)) is not None:
                found[b].append(obs)
    out = []
    for b in range(len(edges) - 1):
        row = EnergyBinDiagnosis(float(edges[b]), float(edges[b + 1]), len(ref_rows[b]), len(gen_rows[b]))
        if found.get(b):
            families = rank_families(found[b])
            row = EnergyBinDiagnosis(
                row.e_low, row.e_high, row.n_reference, row.n_generated,
                worst=max(found[b], key=lambda o: o.excess), worst_family=families[0].family,
                families={f.family: f.separation_power for f in families},
            )
        out.append(row)
    return out


def diagnose(
    specs: Sequence[HistSpec],
    ref_hists: Mapping[str, Histogram],
    gen_hists: Mapping[str, Histogram],
    ref_features: FeatureTable,
    gen_features: FeatureTable,
    *,
    energy_edges: NDArray[np.float64] | None = None,
    importance: PermutationImportance | None = None,
    min_showers: int = 20,
) -> Diagnosis:
    """Ranks what separates a generated sample from the reference, overall and per incident-energy bin.

    Arguments:
        specs: Feature-histogram binnings (:func:`~caloforge.evaluation.histograms.histogram_specs`).
        ref_hists: Reference histograms by name, filled in ``specs``.
        gen_hists: Generated histograms by name, filled in ``specs``.
        ref_features: Reference features (for the per-energy view).
        gen_features: Generated features.
        energy_edges: Incident-energy bin edges, MeV (default: 5 log bins of the reference spectrum, or one
            bin per energy for a discrete spectrum; see :func:`~caloforge.evaluation.compare.energy_bins`).
        importance: Permutation importance of the ``cls-high`` classifier, if it ran.
        min_showers: Energy bins, and histograms, with fewer showers (entries in range) in either sample
            are not ranked.
    """
    observables = rank_observables(specs, ref_hists, gen_hists, min_showers=min_showers)
    families = rank_families(observables, None if importance is None else importance.auc_drop)
    edges = energy_bins(ref_features.e_inc, n_bins=5) if energy_edges is None else energy_edges
    bins = energy_bin_diagnosis(specs, ref_features, gen_features, edges, min_showers=min_showers)
    return Diagnosis(families, observables, bins, importance, min_showers)

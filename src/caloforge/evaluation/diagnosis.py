"""What gives a generated sample away: the high-level observables that separate it from the reference most.

Three views of one question, all from numbers the evaluation has already computed:

* **Every observable**, overall: the separation power of each feature histogram (energy per layer,
  E_tot/E_inc, centres and widths in x, y, r, sparsity), ranked, and grouped into **families**
  (``"e_layer"``, ``"sparsity"``, ``"width_r"``, ...) with the family mean and the worst member.
* **Per incident-energy bin**: the same histograms (same binning) filled with the showers of each bin,
  from the per-shower features already in memory (no file is read again), and the worst observable.
* **Classifier reliance**: the permutation importance of the high-level classifier (``cls-high``), the
  AUC drop when one family's columns are shuffled (:mod:`.importance`).

Ranking uses the *excess* separation power, the value minus its **statistical floor**: two finite
samples of one distribution do not give 0 but on average ``NDF (1/n_ref + 1/n_gen) / 4`` (NDF = bins
with entries − 1; for equal sample sizes the separation power is χ²/2n and E[χ²] = NDF). Without it a
100-bin histogram would outrank a 20-bin one on noise alone, most visibly in the smaller energy bins.

Example:
    >>> import numpy as np
    >>> from caloforge.evaluation.histograms import Histogram
    >>> round(noise_floor(Histogram(np.array([500, 500])), Histogram(np.array([250, 250]))), 6)
    0.00075
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

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
RANKED_BY = "separation power minus its statistical floor NDF (1/n_ref + 1/n_gen) / 4, largest first"


def noise_floor(ref: Histogram, gen: Histogram) -> float:
    """Expected separation power of two samples of one distribution with these counts; NaN if one is empty."""
    n_ref, n_gen = ref.n_in_range, gen.n_in_range
    if n_ref == 0 or n_gen == 0:
        return float("nan")
    ndf = max(int(np.count_nonzero(ref.counts + gen.counts)) - 1, 0)
    return ndf * (1.0 / n_ref + 1.0 / n_gen) / 4.0


@dataclass(frozen=True)
class ObservableSeparation:
    """How well one observable separates the samples.

    Attributes:
        name: Histogram key, e.g. ``"sparsity_12"``.
        family: Feature family, e.g. ``"sparsity"``.
        separation_power: Separation power of the two histograms (0 identical, 1 disjoint).
        noise_floor: Its expected value for two samples of one distribution (:func:`noise_floor`).
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
        n_observables: Observables (histograms) of the family with entries.
        separation_power: Mean separation power of its observables.
        noise_floor: Mean statistical floor of its observables.
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
        observables: Every observable with entries, the most separating first.
        energy_bins: Per incident-energy bin, in increasing energy.
        importance: Permutation importance of the ``cls-high`` classifier (``None``: not run).
    """

    families: list[FamilyGiveaway]
    observables: list[ObservableSeparation]
    energy_bins: list[EnergyBinDiagnosis] = field(default_factory=list)
    importance: PermutationImportance | None = None

    def top(self, k: int = 3) -> list[FamilyGiveaway]:
        """The ``k`` families that separate the samples most."""
        return self.families[:k]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "ranked_by": RANKED_BY,
            "top": [f.family for f in self.top()],
            "families": [f.to_dict() for f in self.families],
            "observables": [o.to_dict() for o in self.observables],
            "energy_bins": [b.to_dict() for b in self.energy_bins],
            "permutation_importance": None if self.importance is None else self.importance.to_dict(),
        }


def _separations(
    specs: Sequence[HistSpec], ref: Mapping[str, Histogram], gen: Mapping[str, Histogram]
) -> list[ObservableSeparation]:
    out = []
    for spec in specs:
        sep = separation_power(ref[spec.name].counts, gen[spec.name].counts)
        if np.isfinite(sep):
            out.append(ObservableSeparation(spec.name, spec.family, sep, noise_floor(ref[spec.name], gen[spec.name])))
    return out


def rank_observables(
    specs: Sequence[HistSpec], ref: Mapping[str, Histogram], gen: Mapping[str, Histogram]
) -> list[ObservableSeparation]:
    """The observables of ``specs`` by decreasing excess separation power (empty histograms left out).

    Arguments:
        specs: Feature-histogram binnings.
        ref: Reference histograms by name.
        gen: Generated histograms by name.
    """
    return sorted(_separations(specs, ref, gen), key=lambda o: (-o.excess, o.name))


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
        min_showers: Bins with fewer showers in either sample get no ranking.
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
            sep = separation_power(h_ref.counts, h_gen.counts)
            if np.isfinite(sep):
                found[b].append(ObservableSeparation(spec.name, spec.family, sep, noise_floor(h_ref, h_gen)))
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
        min_showers: Energy bins with fewer showers in either sample get no ranking.
    """
    observables = rank_observables(specs, ref_hists, gen_hists)
    families = rank_families(observables, None if importance is None else importance.auc_drop)
    edges = energy_bins(ref_features.e_inc, n_bins=5) if energy_edges is None else energy_edges
    bins = energy_bin_diagnosis(specs, ref_features, gen_features, edges, min_showers=min_showers)
    return Diagnosis(families, observables, bins, importance)

"""Histograms of every high-level feature, binned by the CaloChallenge rules (see :mod:`.binning`).

A :class:`HistSpec` fixes the binning from the reference sample; :func:`fill` counts any sample into it,
keeping under- and overflow (which the official evaluation silently drops) so they can be reported.
With per-shower ``weights`` (a reweighted sample) it also keeps the sum of weights and of squared
weights per bin: the bin contents are Σw with statistical errors √Σw².

Example:
    >>> import numpy as np
    >>> h = fill(np.array([0.1, 0.5, 0.5, 2.0]), np.array([0.0, 0.4, 1.0]))
    >>> h.counts.tolist(), h.overflow, h.normalised().tolist()
    ([1, 2], 1, [0.3333333333333333, 0.6666666666666666])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from caloforge.evaluation.binning import DatasetKind, feature_range, log_edges
from caloforge.evaluation.features import FeatureTable

__all__ = ["SPATIAL_FAMILIES", "HistSpec", "Histogram", "feature_values", "feature_weights", "fill", "histogram_specs"]

#: Per-layer spatial feature families, in report order.
SPATIAL_FAMILIES = ("ec_x", "ec_y", "width_x", "width_y", "ec_r", "width_r")

_LABELS = {
    "response": r"$E_\mathrm{tot}/E_\mathrm{inc}$",
    "e_layer": "layer energy [MeV]",
    "ec_x": "centre of energy in x [mm]",
    "ec_y": "centre of energy in y [mm]",
    "width_x": "width in x [mm]",
    "width_y": "width in y [mm]",
    "ec_r": "centre of energy in r [mm]",
    "width_r": "width in r [mm]",
    "sparsity": "fraction of zero voxels",
    "voxel_energy": "voxel energy [MeV]",
}


@dataclass(frozen=True)
class HistSpec:
    """The binning of one feature histogram.

    Attributes:
        name: Unique key, e.g. ``"e_layer_12"`` (layer suffix = CaloChallenge layer id).
        family: Feature family (``"response"``, ``"e_layer"``, ``"ec_x"``, ..., ``"voxel_energy"``).
        column: Column of the family's array (layer position), or ``None`` for per-shower scalars.
        edges: Bin edges, (B + 1,).
        log_x: Whether the bins are log-spaced.
        energy_range: For dataset-1 per-energy response histograms, the E_inc range [lo, hi) in MeV.
    """

    name: str
    family: str
    column: int | None
    edges: NDArray[np.float64]
    log_x: bool = False
    energy_range: tuple[float, float] | None = None

    @property
    def label(self) -> str:
        """Axis label with units."""
        return _LABELS.get(self.family, self.family)


@dataclass
class Histogram:
    """Counts of one sample in a :class:`HistSpec` binning.

    Attributes:
        counts: Entries per bin, (B,).
        underflow: Entries below the first edge.
        overflow: Entries above the last edge.
        n_nan: Non-finite entries (not counted anywhere else).
        sumw: Sum of the weights per bin, (B,) (``None``: unweighted).
        sumw2: Sum of the squared weights per bin, (B,) (``None``: unweighted).
    """

    counts: NDArray[np.int64]
    underflow: int = 0
    overflow: int = 0
    n_nan: int = 0
    sumw: NDArray[np.float64] | None = None
    sumw2: NDArray[np.float64] | None = None

    @property
    def contents(self) -> NDArray[np.float64]:
        """Bin contents: Σw when weighted, else the counts, (B,)."""
        return np.asarray(self.counts if self.sumw is None else self.sumw, dtype=np.float64)

    @property
    def variances(self) -> NDArray[np.float64]:
        """Statistical variances of the contents: Σw² when weighted, else the counts (Poisson), (B,)."""
        return np.asarray(self.counts if self.sumw2 is None else self.sumw2, dtype=np.float64)

    def errors(self) -> NDArray[np.float64]:
        """Statistical errors of :meth:`normalised` (√Σw² or √N over the in-range total), (B,)."""
        total = float(self.contents.sum())
        return np.sqrt(self.variances) / total if total > 0 else np.full(len(self.counts), np.nan)

    @property
    def n_in_range(self) -> int:
        """Entries inside the binning."""
        return int(self.counts.sum())

    @property
    def n_total(self) -> int:
        """All entries, including under/overflow and NaN."""
        return self.n_in_range + self.underflow + self.overflow + self.n_nan

    @property
    def outside_fraction(self) -> float:
        """Fraction of entries outside the binning (or NaN)."""
        total = self.n_total
        return float((total - self.n_in_range) / total) if total else 0.0

    def normalised(self) -> NDArray[np.float64]:
        """Contents divided by the in-range total (sums to 1, like ``density=True`` × bin width); NaN if empty."""
        contents = self.contents
        total = float(contents.sum())
        if self.n_in_range == 0 or total <= 0:
            return np.full(len(self.counts), np.nan)
        return contents / total


def fill(values: NDArray[np.floating], edges: NDArray[np.float64], weights: NDArray[np.floating] | None = None) -> Histogram:
    """Histogram of ``values`` in ``edges`` (``np.histogram`` semantics: last bin closed), optionally weighted.

    Example:
        >>> h = fill(np.array([0.1, 0.5, 0.5]), np.array([0.0, 0.4, 1.0]), weights=np.array([2.0, 1.0, 1.0]))
        >>> h.counts.tolist(), h.sumw.tolist(), h.sumw2.tolist(), h.normalised().tolist()
        ([1, 2], [2.0, 2.0], [4.0, 2.0], [0.5, 0.5])
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    finite = np.isfinite(values)
    v = values[finite]
    counts, _ = np.histogram(v, edges)
    sumw = sumw2 = None
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        if len(w) != len(values):
            msg = f"{len(w)} weights for {len(values)} values"
            raise ValueError(msg)
        sumw = np.histogram(v, edges, weights=w[finite])[0].astype(np.float64)
        sumw2 = np.histogram(v, edges, weights=w[finite] ** 2)[0].astype(np.float64)
    return Histogram(
        counts=counts.astype(np.int64),
        underflow=int(np.count_nonzero(v < edges[0])),
        overflow=int(np.count_nonzero(v > edges[-1])),
        n_nan=int(np.count_nonzero(~finite)),
        sumw=sumw,
        sumw2=sumw2,
    )


def feature_values(table: FeatureTable, spec: HistSpec) -> NDArray[np.float64]:
    """The values of ``table`` that ``spec`` histograms, (N,) or fewer (dataset-1 energy slices)."""
    if spec.family == "response":
        values = table.response
        if spec.energy_range is not None:
            lo, hi = spec.energy_range
            values = values[(table.e_inc >= lo) & (table.e_inc < hi)]
        return values
    array: NDArray[np.float64] = getattr(table, spec.family)
    return array[:, spec.column]


def feature_weights(table: FeatureTable, spec: HistSpec, weights: NDArray[np.floating]) -> NDArray[np.float64]:
    """The per-shower ``weights`` (N,) of the rows :func:`feature_values` returns for ``spec``."""
    w = np.asarray(weights, dtype=np.float64)
    if spec.family == "response" and spec.energy_range is not None:
        lo, hi = spec.energy_range
        return w[(table.e_inc >= lo) & (table.e_inc < hi)]
    return w


def _layer_specs(ref: FeatureTable, kind: DatasetKind, threshold: float) -> list[HistSpec]:
    specs = []
    for col, layer_id in enumerate(ref.layer_ids):
        e = ref.e_layer[:, col]
        positive = e[e > 0]
        low = threshold if threshold > 0 else (float(positive.min()) if positive.size else 1e-3)
        specs.append(HistSpec(f"e_layer_{layer_id}", "e_layer", col, log_edges(low, float(e.max()), 40), True))
    for family in SPATIAL_FAMILIES:
        columns = ref.angular_layers if family in ("ec_x", "ec_y", "width_x", "width_y") else range(len(ref.layer_ids))
        for col, layer in enumerate(columns):
            layer_id = ref.layer_ids[layer]
            lo, hi = feature_range(family, layer_id, kind, getattr(ref, family)[:, col])
            specs.append(HistSpec(f"{family}_{layer_id}", family, col, np.linspace(lo, hi, 101)))
    for col, layer_id in enumerate(ref.layer_ids):
        specs.append(HistSpec(f"sparsity_{layer_id}", "sparsity", col, np.linspace(0.0, 1.0, 21)))
    return specs


def _discrete_response_specs(particle: str | None) -> list[HistSpec]:
    targets = 2.0 ** np.linspace(8, 23, 16)
    specs = []
    for i in range(len(targets) - 1):
        edges = np.linspace(0.9, 1.1, 21) if (i > 3 and particle == "photon") else np.linspace(0.4, 1.4, 21)
        spec = HistSpec(
            f"response_E{int(targets[i])}", "response", None, edges, energy_range=(targets[i], targets[i + 1])
        )
        specs.append(spec)
    return specs


def histogram_specs(
    ref: FeatureTable,
    kind: DatasetKind,
    threshold: float,
    *,
    particle: str | None = None,
) -> list[HistSpec]:
    """Every feature histogram, binned by the CaloChallenge rules from the reference features.

    Arguments:
        ref: Reference features.
        kind: Dataset kind (:func:`~caloforge.evaluation.binning.dataset_kind`).
        threshold: Voxel threshold, MeV (lower edge of the log-binned energies).
        particle: Geometry particle (dataset 1 uses narrower photon response bins).
    """
    specs = [HistSpec("response", "response", None, np.linspace(0.5, 1.5, 101))]
    specs += _layer_specs(ref, kind, threshold)
    if kind == "calochallenge-1":
        specs += _discrete_response_specs(particle)
    return specs

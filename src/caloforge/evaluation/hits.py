"""Hit-level observables of any geometry, as the DESY/ILD fast-simulation papers validate showers.

A *hit* is a cell (voxel) whose energy reaches the **cell threshold** (:func:`cell_threshold`): the
geometry's ``cell_threshold_mev`` where it defines one, else ½ MIP where a MIP is known (the geometry's or the
files' ``mip_mev``), else the voxel threshold of the evaluation, unless ``--cell-threshold`` says otherwise. Per shower (:class:`HitSample`, filled chunk by chunk by
:class:`HitAccumulator`):

* ``n_hits`` — number of hits; ``e_vis`` — visible energy, the sum of the hits' energies (MeV);
* ``cog_x``, ``cog_y`` (mm) and ``cog_z`` (in layers, 0 = front layer) — the energy-weighted centre of
  gravity of the hits; ``width_z`` — the energy-weighted rms of the layer index; ``r_rms`` — the
  energy-weighted rms distance of the hits from the axis (mm);
* ``start_layer`` — the shower start (:func:`start_layers`): the first layer ℓ from the front such that
  layers ℓ … ℓ + N − 1 (N = 2) each hold at least M = 3 hits, i.e. where the hit count rises from the
  one or two hits of a minimum-ionising track to a developing shower (the idea of the CALICE
  interaction-layer searches, e.g. arXiv:1902.06161); −1 when no such layer exists;

and, summed over all showers, the cell-energy spectrum of the hits (log-spaced bins, 20 per decade, from
the threshold up: the MIP peak shows), the number of hits per layer and per radial bin. The moments'
correlation matrix is :func:`correlation_matrix`; linearity and resolution come from
:func:`mean90_rms90` (the mean and rms of the shortest interval holding 90 % of the showers).

Example:
    >>> import numpy as np
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=2, n_alpha=1, r_edges=[0, 2, 4])
    >>> acc = HitAccumulator(g, threshold=0.5, e_max=10.0)
    >>> acc.add(np.array([[1.0, 0.2, 3.0, 0.0]]), np.array([10.0]))
    >>> s = acc.result()
    >>> int(s.n_hits[0]), float(s.e_vis[0]), float(s.cog_z[0])
    (2, 4.0, 0.75)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from caloforge.geometry import Geometry

__all__ = [
    "BINS_PER_DECADE",
    "MIP_FRACTION",
    "MOMENTS",
    "CellThreshold",
    "HitAccumulator",
    "HitSample",
    "cell_threshold",
    "correlation_matrix",
    "mean90_rms90",
    "mip_of",
    "spectrum_edges",
    "start_layers",
]

#: Default cell threshold in MIPs.
MIP_FRACTION = 0.5
#: Log-spaced bins per decade of the cell-energy spectrum.
BINS_PER_DECADE = 20
#: The per-shower moments of the correlation matrix, in order.
MOMENTS = ("n_hits", "e_vis", "cog_x", "cog_y", "cog_z", "width_z", "r_rms", "start_layer")
_EPS = 1e-16
_MAX_RADIAL_BINS = 64
_BLOCK_BYTES = 32 << 20  # voxels per block of HitAccumulator.add: cache-sized temporaries


@dataclass(frozen=True)
class CellThreshold:
    """The cell threshold of the hit-level observables.

    Attributes:
        mev: The threshold, MeV: a cell is a hit when its energy is at least this (and above 0).
        source: ``"option"`` (given), ``"geometry"`` (the geometry's or file's ``cell_threshold_mev``),
            ``"mip"`` (½ MIP) or ``"voxel"`` (the evaluation's voxel threshold).
        mip_mev: The MIP the threshold was derived from, MeV (``None``: no MIP known).
    """

    mev: float
    source: Literal["option", "geometry", "mip", "voxel"]
    mip_mev: float | None = None


def _positive(values: tuple[Any, ...]) -> float | None:
    """The first of ``values`` that is a positive finite number."""
    for value in values:
        try:
            number = float(value) if value is not None else math.nan
        except (TypeError, ValueError):
            continue
        if math.isfinite(number) and number > 0:
            return number
    return None


def mip_of(geometry: Geometry, attrs: Mapping[str, Any] | None = None) -> float | None:
    """The most probable energy of a MIP in one cell, MeV: the geometry's ``mip_mev``, else the file attribute.

    Returns ``None`` when neither is a positive number.
    """
    attrs = attrs or {}
    return _positive((getattr(geometry, "mip_mev", None), attrs.get("mip_mev"), attrs.get("mip")))


def cell_threshold(
    geometry: Geometry, attrs: Mapping[str, Any] | None, *, override: float | None, voxel_threshold: float
) -> CellThreshold:
    """The cell threshold, by priority: ``override``; the geometry's (or file's) ``cell_threshold_mev``;
    ½ MIP where a MIP is known (:func:`mip_of`); else ``voxel_threshold``.

    Example:
        >>> from caloforge.geometry import Geometry
        >>> g = Geometry.regular("toy", n_layers=1, n_alpha=1, r_edges=[0, 1])
        >>> cell_threshold(g, {"mip_mev": 0.3}, override=None, voxel_threshold=0.01)
        CellThreshold(mev=0.15, source='mip', mip_mev=0.3)

    Raises:
        ValueError: A negative or non-finite ``override``.
    """
    mip = mip_of(geometry, attrs)
    if override is not None:
        if not math.isfinite(override) or override < 0:
            msg = f"cell threshold must be a non-negative number of MeV, got {override}"
            raise ValueError(msg)
        return CellThreshold(float(override), "option", mip)
    given = _positive((getattr(geometry, "cell_threshold_mev", None), (attrs or {}).get("cell_threshold_mev")))
    if given is not None:
        return CellThreshold(given, "geometry", mip)
    if mip is not None:
        return CellThreshold(MIP_FRACTION * mip, "mip", mip)
    return CellThreshold(float(voxel_threshold), "voxel", None)


def spectrum_edges(threshold: float, e_max: float) -> NDArray[np.float64]:
    """Log-spaced cell-energy edges, :data:`BINS_PER_DECADE` per decade, from the threshold to ``e_max`` MeV.

    Without a threshold (0) the spectrum starts 8 decades below ``e_max``.
    """
    top = max(float(e_max), 1e-9)
    low = float(threshold) if threshold > 0 else top * 1e-8
    n = max(1, math.ceil(BINS_PER_DECADE * math.log10(max(top / low, 1.0 + 1e-9))))
    return np.asarray(low * 10.0 ** (np.arange(n + 1) / BINS_PER_DECADE), dtype=np.float64)


@dataclass
class HitSample:
    """Hit-level observables of N showers (all arrays (N,) unless noted).

    Attributes:
        e_inc: Incident energies, MeV.
        n_hits: Hits per shower.
        e_vis: Visible energy (sum over hits), MeV.
        cog_x: Energy-weighted centre of gravity in x, mm (0 without hits).
        cog_y: In y, mm.
        cog_z: In z, in layers (0 = front layer).
        width_z: Energy-weighted rms of the layer index, layers.
        r_rms: Energy-weighted rms distance from the axis, mm.
        start_layer: Shower-start layer (:func:`start_layers`), −1 if none.
        threshold: The cell threshold used.
        spectrum_edges: Cell-energy bin edges, (B + 1,), MeV.
        spectrum_counts: Hits per cell-energy bin, (B,).
        spectrum_overflow: Hits above the last edge.
        spectrum_underflow: Hits below the first edge (only without a threshold).
        hits_per_layer: Hits per layer summed over showers, (L,).
        radial_centres: Radial bin centres of the hit-radius distribution, (R,), mm.
        hits_per_radial_bin: Hits per radial bin summed over showers, (R,).
    """

    e_inc: NDArray[np.float64]
    n_hits: NDArray[np.float64]
    e_vis: NDArray[np.float64]
    cog_x: NDArray[np.float64]
    cog_y: NDArray[np.float64]
    cog_z: NDArray[np.float64]
    width_z: NDArray[np.float64]
    r_rms: NDArray[np.float64]
    start_layer: NDArray[np.float64]
    threshold: CellThreshold
    spectrum_edges: NDArray[np.float64]
    spectrum_counts: NDArray[np.int64]
    spectrum_overflow: int = 0
    spectrum_underflow: int = 0
    hits_per_layer: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    radial_centres: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    hits_per_radial_bin: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    def __len__(self) -> int:
        return len(self.e_inc)

    def moments(self) -> NDArray[np.float64]:
        """The :data:`MOMENTS` as columns, (N, len(MOMENTS))."""
        return np.stack([getattr(self, name) for name in MOMENTS], axis=1)


def start_layers(hits_per_layer: NDArray[np.floating], min_hits: int = 3, n_consecutive: int = 2) -> NDArray[np.int64]:
    """Shower-start layer: the first layer ℓ where layers ℓ … ℓ + n − 1 all hold at least ``min_hits`` hits.

    Arguments:
        hits_per_layer: Hits per layer and shower, (N, L), front layer first.
        min_hits: Hits a layer needs to count as showering (M).
        n_consecutive: Consecutive such layers needed (N; fewer where the calorimeter has fewer layers).

    Returns:
        The start layer per shower, (N,), 0-based; −1 where no layer qualifies.

    Example:
        >>> start_layers(np.array([[1, 1, 4, 2, 5, 6, 0], [3, 3, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 9]]))
        array([ 4,  0, -1])
    """
    h = np.asarray(hits_per_layer) >= min_hits
    n = max(1, min(n_consecutive, h.shape[1]))
    window = h[:, : h.shape[1] - n + 1].copy()
    for k in range(1, n):
        window &= h[:, k : h.shape[1] - n + 1 + k]
    found = window.any(axis=1)
    return np.where(found, np.argmax(window, axis=1), -1).astype(np.int64)


def _radial_bins(geometry: Geometry) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Per voxel its radial bin, and the bins' centres: the distinct voxel radii, or 40 equal bins."""
    r = np.round(geometry.r_centres, 6)
    values, index = np.unique(r, return_inverse=True)
    if len(values) <= _MAX_RADIAL_BINS:
        return index.astype(np.int64), values.astype(np.float64)
    edges = np.linspace(0.0, float(r.max()) * (1 + 1e-9), 41)
    return np.clip(np.digitize(r, edges) - 1, 0, 39).astype(np.int64), 0.5 * (edges[1:] + edges[:-1])


class HitAccumulator:
    """Collects the hit-level observables of a sample chunk by chunk (call it as ``acc.add(showers, energies)``).

    Arguments:
        geometry: The readout geometry.
        threshold: Cell threshold, MeV (a :class:`CellThreshold` or a number).
        e_max: Upper end of the cell-energy spectrum, MeV (e.g. the largest incident energy).
        min_hits: Hits per layer of the shower-start definition.
        n_consecutive: Consecutive layers of the shower-start definition.
    """

    def __init__(self, geometry: Geometry, threshold: CellThreshold | float, e_max: float, *, min_hits: int = 3,
                 n_consecutive: int = 2) -> None:
        self.geometry = geometry
        self.threshold = threshold if isinstance(threshold, CellThreshold) else CellThreshold(float(threshold), "option")
        self.edges = spectrum_edges(self.threshold.mev, e_max)
        self._start = (min_hits, n_consecutive)
        layer = geometry.voxel_layer
        n_layers = geometry.n_layers
        r_index, self._r_centres = _radial_bins(geometry)
        # hits: per layer, then per radial bin; energies: per layer, then x, y, r² moments
        self._count_matrix = np.zeros((geometry.n_voxels, n_layers + len(self._r_centres)), dtype=np.float32)
        self._count_matrix[np.arange(geometry.n_voxels), layer] = 1.0
        self._count_matrix[np.arange(geometry.n_voxels), n_layers + r_index] = 1.0
        self._energy_matrix = np.zeros((geometry.n_voxels, n_layers + 3), dtype=np.float32)
        self._energy_matrix[np.arange(geometry.n_voxels), layer] = 1.0
        self._energy_matrix[:, n_layers] = geometry.x_centres
        self._energy_matrix[:, n_layers + 1] = geometry.y_centres
        self._energy_matrix[:, n_layers + 2] = geometry.r_centres**2
        self._parts: list[NDArray[np.float64]] = []
        self._counts = np.zeros(len(self.edges) - 1, dtype=np.int64)
        self._overflow = self._underflow = 0
        self._per_layer = np.zeros(n_layers)
        self._per_radial = np.zeros(len(self._r_centres))

    def __call__(self, showers: NDArray[np.floating], energies: NDArray[np.floating]) -> None:
        """Same as :meth:`add`."""
        self.add(showers, energies)

    def add(self, showers: NDArray[np.floating], energies: NDArray[np.floating]) -> None:
        """Adds a chunk of finite showers, (n, n_voxels) MeV, before any voxel threshold, and their E_inc (n,).

        The chunk is processed in blocks of at most 32 MiB of voxels, so the temporaries stay small.
        """
        energies = np.asarray(energies).reshape(-1)
        block = max(1, _BLOCK_BYTES // (4 * max(1, self.geometry.n_voxels)))
        for start in range(0, len(showers), block):
            self._add_block(showers[start : start + block], energies[start : start + block])

    def _add_block(self, showers: NDArray[np.floating], energies: NDArray[np.floating]) -> None:
        thr = self.threshold.mev
        mask = showers >= thr if thr > 0 else showers > 0
        e = np.multiply(showers, mask, dtype=np.float32)
        counts = mask.astype(np.float32) @ self._count_matrix
        sums = (e @ self._energy_matrix).astype(np.float64)
        n_layers = self.geometry.n_layers
        hits_layer = counts[:, :n_layers].astype(np.float64)
        self._per_layer += hits_layer.sum(axis=0)
        self._per_radial += counts[:, n_layers:].sum(axis=0, dtype=np.float64)
        e_layer = sums[:, :n_layers]
        e_vis = e_layer.sum(axis=1)
        z = np.arange(n_layers, dtype=np.float64)
        cog_z = e_layer @ z / (e_vis + _EPS)
        width_z = np.sqrt(np.clip(e_layer @ z**2 / (e_vis + _EPS) - cog_z**2, 0.0, None))
        part = np.stack([
            np.asarray(energies, dtype=np.float64).reshape(-1), hits_layer.sum(axis=1), e_vis,
            sums[:, n_layers] / (e_vis + _EPS), sums[:, n_layers + 1] / (e_vis + _EPS), cog_z, width_z,
            np.sqrt(sums[:, n_layers + 2] / (e_vis + _EPS)), start_layers(hits_layer, *self._start).astype(np.float64),
        ], axis=1)
        self._parts.append(part)
        self._fill_spectrum(e[mask])

    def _fill_spectrum(self, values: NDArray[np.floating]) -> None:
        """Adds hit energies to the spectrum as uniform bins in log10 E (numpy's fast path).

        The range is widened by 1e-9 decades so that rounding of the logarithm never drops a value at an
        edge (a cell exactly at the threshold counts in the first bin).
        """
        edges = self.edges
        self._overflow += int(np.count_nonzero(values > edges[-1]))
        self._underflow += int(np.count_nonzero(values < edges[0]))
        lo, hi = math.log10(edges[0]) - 1e-9, math.log10(edges[-1]) + 1e-9
        self._counts += np.histogram(np.log10(values), bins=len(self._counts), range=(lo, hi))[0]

    def result(self) -> HitSample:
        """The observables of every shower added so far.

        Raises:
            ValueError: If no shower was added.
        """
        if not self._parts:
            msg = "no showers were added to the hit-level observables"
            raise ValueError(msg)
        table = np.concatenate(self._parts)
        cols = dict(zip(("e_inc", "n_hits", "e_vis", "cog_x", "cog_y", "cog_z", "width_z", "r_rms", "start_layer"),
                        table.T, strict=True))
        return HitSample(**{k: np.ascontiguousarray(v) for k, v in cols.items()}, threshold=self.threshold,
                         spectrum_edges=self.edges, spectrum_counts=self._counts.copy(),
                         spectrum_overflow=self._overflow, spectrum_underflow=self._underflow, hits_per_layer=self._per_layer.copy(),
                         radial_centres=self._r_centres.copy(), hits_per_radial_bin=self._per_radial.copy())


def mean90_rms90(values: NDArray[np.floating], fraction: float = 0.9) -> tuple[float, float]:
    """Mean and rms of the shortest interval that holds ``fraction`` of the values (NaN for fewer than 2).

    The interval holds ⌈fraction · n⌉ values; of several shortest ones the lowest is taken. The rms is the
    population standard deviation of the values inside.

    Example:
        >>> mean90_rms90(np.r_[np.full(45, 1.0), np.full(45, 3.0), np.full(10, 100.0)])
        (2.0, 1.0)
    """
    x = np.sort(np.asarray(values, dtype=np.float64)[np.isfinite(values)])
    if len(x) < 2:
        return math.nan, math.nan
    k = max(2, math.ceil(fraction * len(x) - 1e-9))
    start = int(np.argmin(x[k - 1 :] - x[: len(x) - k + 1]))
    inside = x[start : start + k]
    return float(inside.mean()), float(inside.std())


def correlation_matrix(columns: NDArray[np.floating]) -> NDArray[np.float64]:
    """Pearson correlation of the columns of (N, K) values; NaN rows/columns for constant columns.

    Example:
        >>> x = np.arange(5.0)
        >>> correlation_matrix(np.stack([x, 2 * x + 1, -x], axis=1)).round(6).tolist()
        [[1.0, 1.0, -1.0], [1.0, 1.0, -1.0], [-1.0, -1.0, 1.0]]
    """
    c = np.asarray(columns, dtype=np.float64)
    if len(c) < 2:
        return np.full((c.shape[1], c.shape[1]), np.nan)
    centred = c - c.mean(axis=0)
    std = np.sqrt((centred**2).mean(axis=0))
    scale = np.where(std > 0, std, np.nan)
    z = centred / scale
    out: NDArray[np.float64] = np.clip((z.T @ z) / len(c), -1.0, 1.0)
    return out

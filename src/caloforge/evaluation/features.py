"""High-level shower features, exactly as the CaloChallenge ``HighLevelFeatures`` class defines them.

For every shower, after the voxel threshold (voxels below it are set to zero):

* ``e_layer`` — energy per layer, ``e_tot`` — total energy, ``e_tot / e_inc`` — response;
* per layer, the energy-weighted centre and width in x = r cos α and y = r sin α (CaloChallenge calls them
  "eta" and "phi"; only layers with angular bins) and in r, using voxel centres (radial-bin midpoints and
  angular-bin midpoints of −π..π)::

      ec    = Σ E_i c_i / (Σ E_i + 1e-16)
      width = sqrt(max(Σ E_i c_i² / (Σ E_i + 1e-16) − ec², 0))

* ``sparsity`` — per layer, the fraction of voxels with **zero** energy after the threshold
  (CaloChallenge's ``1 − mean(E > 0)``; the fraction above threshold is ``1 − sparsity``).

Layers are streamed chunk by chunk: :func:`compute_features` takes any iterable of showers.

Example:
    >>> import numpy as np
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=1, n_alpha=2, r_edges=[0, 2, 4])
    >>> shower = np.array([[0.0, 0.0, 1.0, 3.0]])        # α bin 1 (centre +π/2): y = r
    >>> t = features_of(shower, np.array([10.0]), g)
    >>> float(t.e_tot[0]), float(t.ec_y[0, 0]), float(t.ec_r[0, 0]), float(t.sparsity[0, 0])
    (4.0, 2.5, 2.5, 0.5)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from caloforge.data.showers import ShowerData
from caloforge.geometry import Geometry

__all__ = ["FeatureTable", "apply_threshold", "compute_features", "features_of", "hlf_groups", "hlf_vector"]

_EPS = 1e-16


@dataclass
class FeatureTable:
    """High-level features of N showers.

    Attributes:
        e_inc: Incident energies, (N,), MeV.
        e_tot: Total deposited energy, (N,), MeV.
        e_layer: Energy per layer, (N, L), MeV.
        ec_x: Centre of energy in x, (N, L_α), mm (layers in ``angular_layers`` only).
        ec_y: Centre of energy in y, (N, L_α), mm.
        width_x: Width in x, (N, L_α), mm.
        width_y: Width in y, (N, L_α), mm.
        ec_r: Centre of energy in r, (N, L), mm.
        width_r: Width in r, (N, L), mm.
        sparsity: Fraction of zero voxels per layer, (N, L).
        layer_ids: CaloChallenge layer ids (XML ids) of the L layers.
        angular_layers: Indices (0..L-1) of the layers with angular bins, (L_α,).
    """

    e_inc: NDArray[np.float64]
    e_tot: NDArray[np.float64]
    e_layer: NDArray[np.float64]
    ec_x: NDArray[np.float64]
    ec_y: NDArray[np.float64]
    width_x: NDArray[np.float64]
    width_y: NDArray[np.float64]
    ec_r: NDArray[np.float64]
    width_r: NDArray[np.float64]
    sparsity: NDArray[np.float64]
    layer_ids: tuple[int, ...] = field(default=())
    angular_layers: tuple[int, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.e_inc)

    @property
    def response(self) -> NDArray[np.float64]:
        """E_tot / E_inc, (N,)."""
        return self.e_tot / self.e_inc

    def subset(self, index: slice | NDArray[np.integer] | NDArray[np.bool_]) -> FeatureTable:
        """The rows selected by a slice, index array or mask."""
        arrays: dict[str, NDArray[np.float64]] = {name: getattr(self, name)[index] for name in _ARRAYS}
        return FeatureTable(**arrays, layer_ids=self.layer_ids, angular_layers=self.angular_layers)

    @staticmethod
    def concatenate(parts: list[FeatureTable]) -> FeatureTable:
        """Joins tables of the same geometry."""
        if not parts:
            msg = "nothing to concatenate"
            raise ValueError(msg)
        arrays: dict[str, NDArray[np.float64]] = {
            name: np.concatenate([getattr(p, name) for p in parts]) for name in _ARRAYS
        }
        return FeatureTable(**arrays, layer_ids=parts[0].layer_ids, angular_layers=parts[0].angular_layers)


_ARRAYS = ("e_inc", "e_tot", "e_layer", "ec_x", "ec_y", "width_x", "width_y", "ec_r", "width_r", "sparsity")


def apply_threshold(showers: NDArray[np.floating], threshold: float) -> NDArray[np.floating]:
    """Sets voxels below ``threshold`` (MeV) to zero, in place, as CaloChallenge does; returns ``showers``.

    Negative voxels are always zeroed (they are below any non-negative threshold).
    """
    showers[showers < threshold] = 0.0
    return showers


def _layer_moments(geometry: Geometry) -> list[NDArray[np.float64]]:
    """Per layer, a (P_l, 7) matrix of voxel weights: 1, x, x², y, y², r, r²."""
    x, y, r = geometry.x_centres, geometry.y_centres, geometry.r_centres
    out = []
    for layer in range(geometry.n_layers):
        sl = geometry.layer_slice(layer)
        xs, ys, rs = x[sl], y[sl], r[sl]
        out.append(np.stack([np.ones_like(xs), xs, xs**2, ys, ys**2, rs, rs**2], axis=1))
    return out


def _centre_width(first: NDArray[np.float64], second: NDArray[np.float64], energy: NDArray[np.float64]) -> tuple[
    NDArray[np.float64], NDArray[np.float64]
]:
    centre = first / (energy + _EPS)
    width = np.sqrt(np.clip(second / (energy + _EPS) - centre**2, 0.0, None))
    return centre, width


def features_of(
    showers: NDArray[np.floating],
    energies: NDArray[np.floating],
    geometry: Geometry,
    *,
    moments: list[NDArray[np.float64]] | None = None,
) -> FeatureTable:
    """Features of showers that are already thresholded.

    Arguments:
        showers: Voxel energies after the threshold, (N, n_voxels), MeV.
        energies: Incident energies, (N,), MeV.
        geometry: The readout geometry.
        moments: Cached :func:`_layer_moments` of ``geometry`` (computed when omitted).
    """
    moments = _layer_moments(geometry) if moments is None else moments
    n, n_layers = len(showers), geometry.n_layers
    sums = np.empty((n, n_layers, 7))
    sparsity = np.empty((n, n_layers))
    for layer in range(n_layers):
        block = showers[:, geometry.layer_slice(layer)]
        sums[:, layer] = block.astype(np.float64) @ moments[layer]
        sparsity[:, layer] = 1.0 - np.count_nonzero(block > 0, axis=1) / block.shape[1]
    e_layer = sums[:, :, 0]
    ec_x, width_x = _centre_width(sums[:, :, 1], sums[:, :, 2], e_layer)
    ec_y, width_y = _centre_width(sums[:, :, 3], sums[:, :, 4], e_layer)
    ec_r, width_r = _centre_width(sums[:, :, 5], sums[:, :, 6], e_layer)
    ang = list(geometry.layers_with_angular_bins)
    return FeatureTable(
        e_inc=np.asarray(energies, dtype=np.float64).reshape(-1),
        e_tot=e_layer.sum(axis=1),
        e_layer=np.ascontiguousarray(e_layer),
        ec_x=ec_x[:, ang],
        ec_y=ec_y[:, ang],
        width_x=width_x[:, ang],
        width_y=width_y[:, ang],
        ec_r=ec_r,
        width_r=width_r,
        sparsity=sparsity,
        layer_ids=tuple(layer.layer_id for layer in geometry.layers),
        angular_layers=tuple(ang),
    )


def compute_features(chunks: Iterable[ShowerData], geometry: Geometry, threshold: float) -> FeatureTable:
    """Streams showers chunk by chunk and returns their features.

    Arguments:
        chunks: :class:`~caloforge.data.ShowerData` chunks (e.g. ``ShowerFile.iter_chunks()``); their
            showers are thresholded in place.
        geometry: The readout geometry (must match the chunks).
        threshold: Voxel threshold in MeV; voxels below it count as zero.

    Raises:
        ValueError: If a chunk has another voxel count or contains NaN/inf, or no chunk is given.
    """
    moments = _layer_moments(geometry)
    parts = []
    for chunk in chunks:
        if chunk.showers.shape[1] != geometry.n_voxels:
            msg = f"chunk has {chunk.showers.shape[1]} voxels, geometry {geometry.name!r} has {geometry.n_voxels}"
            raise ValueError(msg)
        if not np.isfinite(chunk.showers).all():
            msg = "showers contain NaN or inf; use caloforge.evaluation.scan_showers to flag and drop them"
            raise ValueError(msg)
        showers = apply_threshold(chunk.showers, threshold)
        parts.append(features_of(showers, chunk.energies, geometry, moments=moments))
    return FeatureTable.concatenate(parts)


#: The blocks of :func:`hlf_vector`, in column order: (family, columns of one table); the family names are
#: those of the feature histograms ("response" is log10 E_tot, which with log10 E_inc carries E_tot/E_inc).
_HLF_BLOCKS: tuple[tuple[str, Callable[[FeatureTable], NDArray[np.float64]]], ...] = (
    ("e_inc", lambda t: np.log10(t.e_inc)[:, None]),
    ("e_layer", lambda t: np.log10(t.e_layer + 1e-8)),
    ("ec_x", lambda t: t.ec_x / 1e2),
    ("ec_y", lambda t: t.ec_y / 1e2),
    ("width_x", lambda t: t.width_x / 1e2),
    ("width_y", lambda t: t.width_y / 1e2),
    ("response", lambda t: np.log10(t.e_tot + 1e-8)[:, None]),
    ("sparsity", lambda t: t.sparsity),
    ("ec_r", lambda t: t.ec_r / 1e2),
    ("width_r", lambda t: t.width_r / 1e2),
)


def hlf_vector(table: FeatureTable) -> NDArray[np.float64]:
    """The CaloChallenge high-level feature vector (classifier "high" input and FPD/KPD input), (N, D).

    Columns: log10 E_inc, log10(E_layer + 1e-8), EC_x/100, EC_y/100, width_x/100, width_y/100,
    log10(E_tot + 1e-8), sparsity, EC_r/100, width_r/100 (``prepare_high_data_for_classifier``).
    """
    return np.concatenate([block(table) for _, block in _HLF_BLOCKS], axis=1)


def hlf_groups(table: FeatureTable) -> dict[str, slice]:
    """The columns of :func:`hlf_vector` by feature family, e.g. ``{"e_inc": slice(0, 1), "e_layer": ...}``.

    Families are named as the feature histograms are (``"response"`` holds log10 E_tot); families without
    columns (no angular layers) are left out.

    Example:
        >>> from caloforge.geometry import Geometry
        >>> g = Geometry.regular("toy", n_layers=2, n_alpha=2, r_edges=[0, 1, 2])
        >>> groups = hlf_groups(features_of(np.ones((1, 8)), np.array([10.0]), g))
        >>> groups["e_layer"], groups["sparsity"]
        (slice(1, 3, None), slice(12, 14, None))
    """
    first = table.subset(slice(0, 1))
    groups, start = {}, 0
    for family, block in _HLF_BLOCKS:
        width = block(first).shape[1]
        if width:
            groups[family] = slice(start, start + width)
        start += width
    return groups

"""Scoring to voxels: Geant4 energy deposits binned into any caloforge :class:`Geometry`, in pure numpy.

A full simulation records deposits as (event, physical layer, x, y, energy). Readout layer ``k``
sums ``pairs_per_readout`` consecutive physical layers (two W+Si pairs per 3.4 mm CaloChallenge
layer); deposits behind the last readout layer are dropped. Transverse positions are measured from
the shower axis where it crosses the layer (for a particle entering at polar angle θ in the x–z
plane the axis is displaced by ``tan θ · depth``). Cylindrical layers bin the radius with the
layer's edges and the azimuth α = atan2(y, x) into ``n_alpha`` equal bins starting at −π;
Cartesian layers bin x and y. Deposits outside the outermost bins are dropped. Voxel energies are
then scaled (inverse sampling fraction) and cells below a threshold are zeroed, as in the
CaloChallenge datasets.

Example:
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=2, n_alpha=4, r_edges=[0, 1, 2])
    >>> deposits = Deposits(
    ...     event=np.array([0, 0, 1]), layer=np.array([0, 3, 1]),
    ...     x=np.array([0.5, -1.5, 0.0]), y=np.array([0.1, 0.0, 3.0]), energy=np.array([1.0, 2.0, 4.0]))
    >>> showers = deposits_to_showers(deposits, g, n_events=2, pairs_per_readout=2)
    >>> showers.shape, float(showers[0].sum()), float(showers[1].sum())
    ((2, 16), 3.0, 0.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from caloforge.geometry import Geometry, Layer

__all__ = ["Deposits", "deposits_to_showers", "layer_voxel_index"]


@dataclass
class Deposits:
    """Energy deposits of a batch of events, one entry per Geant4 step (or hit).

    Attributes:
        event: Event index within the batch, (M,).
        layer: Physical (copy-number) layer index, (M,).
        x: Transverse x relative to the beam entry point, (M,), mm.
        y: Transverse y relative to the beam entry point, (M,), mm.
        energy: Deposited energy, (M,), MeV.
    """

    event: NDArray[np.integer]
    layer: NDArray[np.integer]
    x: NDArray[np.floating]
    y: NDArray[np.floating]
    energy: NDArray[np.floating]

    def __post_init__(self) -> None:
        sizes = {len(np.atleast_1d(v)) for v in (self.event, self.layer, self.x, self.y, self.energy)}
        if len(sizes) != 1:
            msg = f"deposit columns differ in length: {sorted(sizes)}"
            raise ValueError(msg)


def layer_voxel_index(layer: Layer, x: NDArray[np.floating], y: NDArray[np.floating]) -> NDArray[np.int64]:
    """Voxel index within ``layer`` of transverse positions (mm); −1 outside the readout.

    Arguments:
        layer: A cylindrical or Cartesian readout layer.
        x: (M,) mm, relative to the shower axis.
        y: (M,) mm, relative to the shower axis.

    Returns:
        (M,) local voxel indices (angular-or-x bin × radial-or-y bins + radial-or-y bin), or −1.
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    a_bins, b_bins = layer.shape
    if layer.kind == "cartesian" and layer.x_edges is not None and layer.y_edges is not None:
        i = np.searchsorted(np.asarray(layer.x_edges), x, side="right") - 1
        j = np.searchsorted(np.asarray(layer.y_edges), y, side="right") - 1
    else:
        r = np.hypot(x, y)
        j = np.searchsorted(np.asarray(layer.r_edges), r, side="right") - 1
        alpha = np.arctan2(y, x)
        i = np.floor((alpha + math.pi) / (2.0 * math.pi / layer.n_alpha)).astype(np.int64)
        i = np.clip(i, 0, layer.n_alpha - 1)  # α = +π belongs to the last bin
    inside = (i >= 0) & (i < a_bins) & (j >= 0) & (j < b_bins)
    return np.where(inside, i * b_bins + j, -1).astype(np.int64)


def deposits_to_showers(
    deposits: Deposits,
    geometry: Geometry,
    *,
    n_events: int,
    pairs_per_readout: int = 1,
    scale: float = 1.0,
    threshold_mev: float = 0.0,
    axis_slope: NDArray[np.floating] | None = None,
    layer_depth_mm: NDArray[np.floating] | None = None,
) -> NDArray[np.float32]:
    """Bins deposits into voxel energies.

    Arguments:
        deposits: The deposits of ``n_events`` events.
        geometry: Readout geometry (its layers, front to back).
        n_events: Number of events (rows of the result; events without deposits stay zero).
        pairs_per_readout: Physical layers summed into one readout layer.
        scale: Factor applied to every voxel (inverse sampling fraction).
        threshold_mev: Voxels below this energy, after scaling, are set to zero.
        axis_slope: Per-event ``(tan θx, tan θy)`` of the shower axis, (n_events, 2); ``None``: along z.
        layer_depth_mm: Depth of each physical layer behind the entry point, (n_physical,), mm
            (needed with ``axis_slope``).

    Returns:
        Showers, (n_events, n_voxels), float32, MeV, CaloChallenge order.

    Raises:
        ValueError: On a bad ``pairs_per_readout`` or a missing ``layer_depth_mm``.
    """
    if pairs_per_readout < 1:
        msg = f"pairs_per_readout must be at least 1, got {pairs_per_readout}"
        raise ValueError(msg)
    event = np.asarray(deposits.event, np.int64)
    physical = np.asarray(deposits.layer, np.int64)
    x, y = np.asarray(deposits.x, np.float64), np.asarray(deposits.y, np.float64)
    if axis_slope is not None:
        if layer_depth_mm is None:
            msg = "layer_depth_mm is needed to follow an inclined shower axis"
            raise ValueError(msg)
        depth = np.asarray(layer_depth_mm, np.float64)[physical]
        slope = np.asarray(axis_slope, np.float64)[event]
        x, y = x - slope[:, 0] * depth, y - slope[:, 1] * depth
    readout = physical // pairs_per_readout
    flat = np.full(len(event), -1, np.int64)
    # deposits grouped by readout layer with one (radix) sort instead of a pass per layer
    layer_of = np.clip(readout, -1, geometry.n_layers).astype(np.int16 if geometry.n_layers < 32_000 else np.int64)
    order = np.argsort(layer_of, kind="stable")
    bounds = np.searchsorted(layer_of[order], np.arange(geometry.n_layers + 1))
    for k, layer in enumerate(geometry.layers):
        sel = order[bounds[k] : bounds[k + 1]]
        if sel.size:
            local = layer_voxel_index(layer, x[sel], y[sel])
            flat[sel] = np.where(local >= 0, local + int(geometry.layer_offsets[k]), -1)
    keep = (flat >= 0) & (event >= 0) & (event < n_events)
    n_vox = geometry.n_voxels
    sums = np.bincount(
        event[keep] * n_vox + flat[keep], weights=np.asarray(deposits.energy, np.float64)[keep], minlength=n_events * n_vox
    )
    showers = sums.reshape(n_events, n_vox) * scale
    showers[showers < threshold_mev] = 0.0
    return showers.astype(np.float32)

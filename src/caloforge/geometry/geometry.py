"""The voxelised calorimeter description shared by every stage.

A :class:`Geometry` is a stack of layers along the shower axis. Each layer is either
*cylindrical* (radial bin edges in mm and a number of equal angular bins covering −π..π, as in the
CaloChallenge binning XML files) or *Cartesian* (x and y bin edges in mm). Voxels are flattened in the
CaloChallenge order: layer → angular (or x) bin → radial (or y) bin, the last index running fastest.

Example:
    >>> g = Geometry.regular("toy", n_layers=3, n_alpha=4, r_edges=[0, 1, 2, 4, 8, 16])
    >>> g.n_voxels, g.shape
    (60, (3, 4, 5))
    >>> g.unravel(g.ravel(2, 3, 1))
    (2, 3, 1)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["Geometry", "Layer"]


@dataclass(frozen=True)
class Layer:
    """One readout layer.

    Attributes:
        r_edges: Radial bin edges in mm (cylindrical layers); ``()`` for a layer without voxels.
        n_alpha: Number of equal angular bins covering −π..π (cylindrical layers).
        x_edges: Bin edges in x, mm (Cartesian layers only).
        y_edges: Bin edges in y, mm (Cartesian layers only).
        layer_id: The layer's id in its source description (e.g. the XML ``id``).
        depth_mm: Physical depth of the layer along the shower axis, mm (absorber + active medium), or
            ``None`` (then the geometry's ``layer_thickness_mm`` applies). Not part of the binning: layers
            that differ only in depth or material compare equal.
        material: Name of the layer's sampling structure in :data:`caloforge.simulate.materials.STRUCTURES`
            (e.g. ``"ahcal-fe-sci"``), or ``None`` (the simulator's Si-W default).
    """

    r_edges: tuple[float, ...] = ()
    n_alpha: int = 1
    x_edges: tuple[float, ...] | None = None
    y_edges: tuple[float, ...] | None = None
    layer_id: int = 0
    depth_mm: float | None = field(default=None, compare=False)
    material: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.x_edges is not None or self.y_edges is not None:
            if self.x_edges is None or self.y_edges is None:
                msg = "a Cartesian layer needs both x_edges and y_edges"
                raise ValueError(msg)
            for edges in (self.x_edges, self.y_edges):
                if len(edges) < 2 or np.any(np.diff(edges) <= 0):
                    msg = f"bin edges must increase strictly, got {edges}"
                    raise ValueError(msg)
        elif self.r_edges:
            if len(self.r_edges) < 2 or np.any(np.diff(self.r_edges) <= 0) or self.r_edges[0] < 0:
                msg = f"radial edges must be non-negative and increase strictly, got {self.r_edges}"
                raise ValueError(msg)
            if self.n_alpha < 1:
                msg = f"n_alpha must be at least 1, got {self.n_alpha}"
                raise ValueError(msg)
        if self.depth_mm is not None and not self.depth_mm > 0:
            msg = f"layer depth_mm must be positive, got {self.depth_mm}"
            raise ValueError(msg)

    @property
    def kind(self) -> Literal["cylindrical", "cartesian"]:
        """``"cartesian"`` for x/y layers, otherwise ``"cylindrical"``."""
        return "cartesian" if self.x_edges is not None else "cylindrical"

    @property
    def shape(self) -> tuple[int, int]:
        """(angular, radial) bins for cylindrical layers, (x, y) bins for Cartesian ones."""
        if self.x_edges is not None and self.y_edges is not None:
            return (len(self.x_edges) - 1, len(self.y_edges) - 1)
        if not self.r_edges:
            return (0, 0)
        return (self.n_alpha, len(self.r_edges) - 1)

    @property
    def n_radial(self) -> int:
        """Number of radial bins (0 for Cartesian or empty layers)."""
        return 0 if self.kind == "cartesian" or not self.r_edges else len(self.r_edges) - 1

    @property
    def n_voxels(self) -> int:
        """Number of voxels in the layer."""
        a, b = self.shape
        return a * b

    def centres(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Voxel centres (x, y) in mm, flattened in the layer's voxel order."""
        if self.x_edges is not None and self.y_edges is not None:
            xe, ye = np.asarray(self.x_edges), np.asarray(self.y_edges)
            xc, yc = 0.5 * (xe[1:] + xe[:-1]), 0.5 * (ye[1:] + ye[:-1])
            xx, yy = np.meshgrid(xc, yc, indexing="ij")
            return xx.ravel(), yy.ravel()
        if not self.r_edges:
            return np.zeros(0), np.zeros(0)
        re = np.asarray(self.r_edges)
        rc = 0.5 * (re[1:] + re[:-1])
        ac = -math.pi + (np.arange(self.n_alpha) + 0.5) * (2 * math.pi / self.n_alpha)
        aa, rr = np.meshgrid(ac, rc, indexing="ij")
        return (rr * np.cos(aa)).ravel(), (rr * np.sin(aa)).ravel()


@dataclass(frozen=True)
class Geometry:
    """A voxelised calorimeter: an ordered stack of :class:`Layer` objects.

    Attributes:
        name: Registry name or a free label.
        layers: The layers that carry voxels, front to back.
        layer_thickness_mm: Depth of one readout layer along the shower axis, mm (used by the
            simulator); ``None`` if unknown.
        particle: The particle the geometry was defined for (``"electron"``, ``"photon"``, ...).
        energy_scale: Unit of the voxel energies: ``"em"`` (or ``None``): MeV at the electromagnetic scale
            (active-medium deposits divided by the layer's EM sampling fraction, the CaloChallenge
            convention); ``"visible"``: MeV deposited in the active medium, not corrected for sampling
            (e.g. ILD AHCAL scintillator energies, where one MIP leaves 0.49 MeV per 3 mm cell).
        mip_mev: Most probable energy of a minimum-ionising particle crossing one cell, in the voxel unit
            (``None`` if not defined); hit-level validation counts hits in MIPs with it.
        cell_threshold_mev: Cell (hit) threshold in the voxel unit, e.g. half a MIP (``None``: none defined).
    """

    name: str
    layers: tuple[Layer, ...]
    layer_thickness_mm: float | None = None
    particle: str | None = None
    energy_scale: str | None = None
    mip_mev: float | None = None
    cell_threshold_mev: float | None = None

    def __post_init__(self) -> None:
        if not self.layers:
            msg = f"geometry {self.name!r} has no layers"
            raise ValueError(msg)
        if any(layer.n_voxels == 0 for layer in self.layers):
            msg = f"geometry {self.name!r}: every layer must have voxels (drop empty layers)"
            raise ValueError(msg)
        if self.energy_scale not in (None, "em", "visible"):
            msg = f"geometry {self.name!r}: energy_scale must be 'em' or 'visible', got {self.energy_scale!r}"
            raise ValueError(msg)

    # ------------------------------------------------------------------ construction
    @classmethod
    def regular(
        cls,
        name: str,
        *,
        n_layers: int,
        n_alpha: int,
        r_edges: Sequence[float],
        layer_thickness_mm: float | None = None,
        particle: str | None = None,
    ) -> Geometry:
        """A cylindrical geometry whose layers all share the same binning."""
        edges = tuple(float(r) for r in r_edges)
        layers = tuple(Layer(r_edges=edges, n_alpha=n_alpha, layer_id=i) for i in range(n_layers))
        return cls(name, layers, layer_thickness_mm=layer_thickness_mm, particle=particle)

    @property
    def layer_depths_mm(self) -> tuple[float, ...] | None:
        """Physical depth of every layer, mm: each layer's ``depth_mm``, else ``layer_thickness_mm``; ``None``
        if some layer has neither."""
        depths = [lay.depth_mm if lay.depth_mm is not None else self.layer_thickness_mm for lay in self.layers]
        if any(d is None for d in depths):
            return None
        return tuple(float(d) for d in depths if d is not None)

    @classmethod
    def cartesian(
        cls,
        name: str,
        *,
        n_layers: int,
        nx: int,
        ny: int,
        cell_mm: float,
        layer_thickness_mm: float | None = None,
        particle: str | None = None,
    ) -> Geometry:
        """A regular Cartesian grid of ``n_layers × nx × ny`` cells of ``cell_mm`` centred on the axis."""
        xe = tuple(float(v) for v in (np.arange(nx + 1) - nx / 2) * cell_mm)
        ye = tuple(float(v) for v in (np.arange(ny + 1) - ny / 2) * cell_mm)
        layers = tuple(Layer(x_edges=xe, y_edges=ye, layer_id=i) for i in range(n_layers))
        return cls(name, layers, layer_thickness_mm=layer_thickness_mm, particle=particle)

    def renamed(self, name: str) -> Geometry:
        """A copy with another name."""
        return dataclasses.replace(self, name=name)

    # ------------------------------------------------------------------ sizes
    @property
    def n_layers(self) -> int:
        """Number of layers with voxels."""
        return len(self.layers)

    @cached_property
    def layer_sizes(self) -> tuple[int, ...]:
        """Voxels per layer."""
        return tuple(layer.n_voxels for layer in self.layers)

    @cached_property
    def n_voxels(self) -> int:
        """Total number of voxels."""
        return sum(self.layer_sizes)

    @cached_property
    def layer_offsets(self) -> NDArray[np.int64]:
        """Flat index of each layer's first voxel, plus the total at the end: (n_layers + 1,)."""
        return np.concatenate([[0], np.cumsum(self.layer_sizes)]).astype(np.int64)

    def layer_slice(self, layer: int) -> slice:
        """Flat-index slice of one layer's voxels."""
        return slice(int(self.layer_offsets[layer]), int(self.layer_offsets[layer + 1]))

    @property
    def is_regular(self) -> bool:
        """True when every layer has the same binning, so showers reshape to (N, L, A, R)."""
        first = self.layers[0]
        return all(
            (lay.r_edges, lay.n_alpha, lay.x_edges, lay.y_edges)
            == (first.r_edges, first.n_alpha, first.x_edges, first.y_edges)
            for lay in self.layers
        )

    @property
    def is_cartesian(self) -> bool:
        """True when the layers are x/y grids."""
        return self.layers[0].kind == "cartesian"

    @property
    def shape(self) -> tuple[int, int, int]:
        """(layers, angular or x bins, radial or y bins) of a regular geometry.

        Raises:
            ValueError: If the layers differ in binning.
        """
        if not self.is_regular:
            msg = f"geometry {self.name!r} is not regular: layers have different binnings"
            raise ValueError(msg)
        a, b = self.layers[0].shape
        return (self.n_layers, a, b)

    # ------------------------------------------------------------------ index mapping
    def ravel(self, layer: int, i: int, j: int) -> int:
        """Flat voxel index of (layer, angular-or-x bin, radial-or-y bin)."""
        a, b = self.layers[layer].shape
        if not (0 <= i < a and 0 <= j < b):
            msg = f"bin ({i}, {j}) outside layer {layer} of shape {(a, b)}"
            raise IndexError(msg)
        return int(self.layer_offsets[layer]) + i * b + j

    def unravel(self, index: int) -> tuple[int, int, int]:
        """(layer, angular-or-x bin, radial-or-y bin) of a flat voxel index."""
        if not 0 <= index < self.n_voxels:
            msg = f"voxel index {index} outside 0..{self.n_voxels - 1}"
            raise IndexError(msg)
        layer = int(np.searchsorted(self.layer_offsets, index, side="right")) - 1
        local = index - int(self.layer_offsets[layer])
        b = self.layers[layer].shape[1]
        return layer, local // b, local % b

    @cached_property
    def voxel_layer(self) -> NDArray[np.int64]:
        """Layer index of every voxel, (n_voxels,)."""
        return np.repeat(np.arange(self.n_layers), self.layer_sizes)

    @cached_property
    def _centres(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        xs, ys = zip(*(layer.centres() for layer in self.layers), strict=True)
        return np.concatenate(xs), np.concatenate(ys)

    @property
    def x_centres(self) -> NDArray[np.float64]:
        """Voxel centre x = r·cos α in mm, (n_voxels,)."""
        return self._centres[0]

    @property
    def y_centres(self) -> NDArray[np.float64]:
        """Voxel centre y = r·sin α in mm, (n_voxels,)."""
        return self._centres[1]

    @cached_property
    def r_centres(self) -> NDArray[np.float64]:
        """Voxel centre radius in mm (radial-bin midpoint for cylindrical layers), (n_voxels,)."""
        if self.is_cartesian:
            return np.hypot(self.x_centres, self.y_centres)
        parts = []
        for layer in self.layers:
            re = np.asarray(layer.r_edges)
            parts.append(np.tile(0.5 * (re[1:] + re[:-1]), layer.n_alpha))
        return np.concatenate(parts)

    @cached_property
    def alpha_centres(self) -> NDArray[np.float64]:
        """Voxel centre angle α in rad (angular-bin midpoints of −π..π), (n_voxels,)."""
        if self.is_cartesian:
            return np.arctan2(self.y_centres, self.x_centres)
        parts = []
        for layer in self.layers:
            ac = -math.pi + (np.arange(layer.n_alpha) + 0.5) * (2 * math.pi / layer.n_alpha)
            parts.append(np.repeat(ac, layer.n_radial))
        return np.concatenate(parts)

    @cached_property
    def layers_with_angular_bins(self) -> tuple[int, ...]:
        """Indices of layers with more than one angular bin (or Cartesian layers)."""
        return tuple(i for i, lay in enumerate(self.layers) if lay.kind == "cartesian" or lay.n_alpha > 1)

    # ------------------------------------------------------------------ array helpers
    def layer_energies(self, showers: NDArray[Any]) -> NDArray[Any]:
        """Energy summed per layer: (N, n_voxels) → (N, n_layers)."""
        return np.add.reduceat(showers, self.layer_offsets[:-1], axis=-1)

    def reshape(self, showers: NDArray[Any]) -> NDArray[Any]:
        """(N, n_voxels) → (N, layers, angular, radial) for a regular geometry."""
        return showers.reshape(*showers.shape[:-1], *self.shape)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description (stored in checkpoints and file attributes).

        The optional physical fields (layer depth and material, energy scale, MIP, threshold) appear only
        when set, so geometries without them keep their former description.
        """
        out: dict[str, Any] = {
            "name": self.name,
            "layer_thickness_mm": self.layer_thickness_mm,
            "particle": self.particle,
            "layers": [_layer_dict(lay) for lay in self.layers],
        }
        for key in ("energy_scale", "mip_mev", "cell_threshold_mev"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Geometry:
        """Inverse of :meth:`to_dict`."""
        layers = tuple(
            Layer(
                r_edges=tuple(d.get("r_edges", ())),
                n_alpha=int(d.get("n_alpha", 1)),
                x_edges=None if d.get("x_edges") is None else tuple(d["x_edges"]),
                y_edges=None if d.get("y_edges") is None else tuple(d["y_edges"]),
                layer_id=int(d.get("layer_id", i)),
                depth_mm=None if d.get("depth_mm") is None else float(d["depth_mm"]),
                material=d.get("material"),
            )
            for i, d in enumerate(data["layers"])
        )
        return cls(
            str(data["name"]),
            layers,
            layer_thickness_mm=data.get("layer_thickness_mm"),
            particle=data.get("particle"),
            energy_scale=data.get("energy_scale"),
            mip_mev=data.get("mip_mev"),
            cell_threshold_mev=data.get("cell_threshold_mev"),
        )

    def same_binning(self, other: Geometry) -> bool:
        """True when both geometries have identical layers (names may differ)."""
        return self.layers == other.layers

    def __repr__(self) -> str:
        return f"Geometry({self.name!r}, layers={self.n_layers}, voxels={self.n_voxels})"


def _layer_dict(lay: Layer) -> dict[str, Any]:
    out: dict[str, Any] = {
        "r_edges": list(lay.r_edges),
        "n_alpha": lay.n_alpha,
        "x_edges": None if lay.x_edges is None else list(lay.x_edges),
        "y_edges": None if lay.y_edges is None else list(lay.y_edges),
        "layer_id": lay.layer_id,
    }
    if lay.depth_mm is not None:
        out["depth_mm"] = lay.depth_mm
    if lay.material is not None:
        out["material"] = lay.material
    return out

"""The in-memory shower container passed between stages.

Example:
    >>> import numpy as np
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=2, n_alpha=1, r_edges=[0, 1, 2])
    >>> d = ShowerData(np.array([1000.0, 2000.0]), np.ones((2, 4)), g)
    >>> len(d), d.showers.dtype, d.conditions().shape
    (2, dtype('float32'), (2, 1))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from caloforge.geometry import Geometry

__all__ = ["ShowerData"]


@dataclass
class ShowerData:
    """Showers with their incident conditions and geometry.

    Attributes:
        energies: Incident energies, (N,), MeV, float32.
        showers: Voxel energies, (N, n_voxels), MeV, float32, CaloChallenge voxel order.
        geometry: The readout geometry the voxels refer to.
        angles: Optional polar incidence angles, (N,), rad.
        attrs: Free metadata (generator, seed, ...), stored as HDF5 file attributes.
        weights: Optional per-shower weights, (N,), float32 (e.g. classifier reweighting,
            :mod:`caloforge.evaluation.reweight`); ``None`` means every shower counts once.
    """

    energies: NDArray[np.float32]
    showers: NDArray[np.float32]
    geometry: Geometry
    angles: NDArray[np.float32] | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    weights: NDArray[np.float32] | None = None

    def __post_init__(self) -> None:
        self.energies = np.asarray(self.energies, dtype=np.float32).reshape(-1)
        self.showers = np.asarray(self.showers, dtype=np.float32)
        if self.showers.ndim != 2:
            msg = f"showers must be (N, n_voxels), got shape {self.showers.shape}"
            raise ValueError(msg)
        n = len(self.energies)
        if self.showers.shape[0] != n:
            msg = f"{n} incident energies but {self.showers.shape[0]} showers"
            raise ValueError(msg)
        if self.showers.shape[1] != self.geometry.n_voxels:
            msg = (
                f"showers have {self.showers.shape[1]} voxels but geometry "
                f"{self.geometry.name!r} has {self.geometry.n_voxels}"
            )
            raise ValueError(msg)
        if self.angles is not None:
            self.angles = np.asarray(self.angles, dtype=np.float32).reshape(-1)
            if len(self.angles) != n:
                msg = f"{n} incident energies but {len(self.angles)} angles"
                raise ValueError(msg)
        if self.weights is not None:
            self.weights = np.asarray(self.weights, dtype=np.float32).reshape(-1)
            if len(self.weights) != n:
                msg = f"{n} incident energies but {len(self.weights)} weights"
                raise ValueError(msg)
            if not (np.isfinite(self.weights).all() and (self.weights >= 0).all()):
                msg = "weights must be finite and non-negative"
                raise ValueError(msg)

    def __len__(self) -> int:
        return len(self.energies)

    def conditions(self) -> NDArray[np.float32]:
        """Model conditions (N, C): incident energy in MeV, then the angle in rad when present."""
        cols = [self.energies]
        if self.angles is not None:
            cols.append(self.angles)
        return np.stack(cols, axis=1).astype(np.float32)

    def subset(self, index: slice | NDArray[Any]) -> ShowerData:
        """The showers selected by a slice, index array or boolean mask."""
        return ShowerData(
            self.energies[index],
            self.showers[index],
            self.geometry,
            None if self.angles is None else self.angles[index],
            dict(self.attrs),
            None if self.weights is None else self.weights[index],
        )

    @staticmethod
    def concatenate(parts: list[ShowerData]) -> ShowerData:
        """Joins showers of one geometry."""
        if not parts:
            msg = "nothing to concatenate"
            raise ValueError(msg)
        first = parts[0]
        angles = None
        if all(p.angles is not None for p in parts):
            angles = np.concatenate([p.angles for p in parts if p.angles is not None])
        weights = None
        if all(p.weights is not None for p in parts):
            weights = np.concatenate([p.weights for p in parts if p.weights is not None])
        return ShowerData(
            np.concatenate([p.energies for p in parts]),
            np.concatenate([p.showers for p in parts]),
            first.geometry,
            angles,
            dict(first.attrs),
            weights,
        )

"""One-pass summary of a shower file (what ``caloforge inspect`` prints).

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.data import ShowerData, write_showers
    >>> g = Geometry.regular("toy", n_layers=1, n_alpha=1, r_edges=[0, 1, 2])
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.h5"
    >>> write_showers(p, ShowerData(np.array([100.0, 200.0]), [[50.0, 0.0], [100.0, 100.0]], g))
    >>> s = summarize_file(p)
    >>> s.n_events, round(s.response_mean, 3), s.sparsity
    (2, 0.75, 0.75)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from caloforge.data.io import ShowerFile
from caloforge.geometry import Geometry

__all__ = ["FileSummary", "summarize_file"]


@dataclass(frozen=True)
class FileSummary:
    """Summary statistics of a shower file.

    Attributes:
        path: The file.
        geometry: Geometry name (stored in the file, or guessed from the voxel count).
        n_voxels: Voxels per shower.
        n_events: Number of showers.
        energy_min_mev: Smallest incident energy, MeV.
        energy_max_mev: Largest incident energy, MeV.
        response_mean: Mean of E_dep / E_inc.
        response_std: Standard deviation of E_dep / E_inc.
        sparsity: Mean fraction of voxels with a non-zero deposit.
        has_angles: Whether incident angles are stored.
        attrs: File attributes.
    """

    path: str
    geometry: str
    n_voxels: int
    n_events: int
    energy_min_mev: float
    energy_max_mev: float
    response_mean: float
    response_std: float
    sparsity: float
    has_angles: bool
    attrs: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict."""
        return asdict(self)


def summarize_file(
    path: str | Path, geometry: str | Geometry | None = None, *, chunk_size: int = 4096
) -> FileSummary:
    """Streams a CaloChallenge file once and summarises it.

    Raises:
        caloforge.data.ShowerFileError: If the file is invalid (see :class:`~caloforge.data.ShowerFile`).
    """
    with ShowerFile(path, geometry) as f:
        responses = []
        nonzero = 0
        for chunk in f.iter_chunks(chunk_size):
            responses.append(chunk.showers.sum(axis=1, dtype=np.float64) / chunk.energies)
            nonzero += int(np.count_nonzero(chunk.showers))
        response = np.concatenate(responses)
        return FileSummary(
            path=str(path),
            geometry=f.geometry.name,
            n_voxels=f.geometry.n_voxels,
            n_events=f.n_events,
            energy_min_mev=float(f.energies.min()),
            energy_max_mev=float(f.energies.max()),
            response_mean=float(response.mean()),
            response_std=float(response.std()),
            sparsity=nonzero / (f.n_events * f.geometry.n_voxels),
            has_angles=f.angles is not None,
            attrs=f.attrs,
        )

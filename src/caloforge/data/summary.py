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
        n_nan: Voxel values that are NaN (counted over the whole file, never a stop at the first).
        n_inf: Voxel values that are +inf or -inf.
        n_negative: Finite voxel values below zero.
        n_bad_showers: Showers with at least one NaN, inf or negative voxel; they are left out of the
            response and sparsity numbers.
        first_bad_event: Index of the first such shower (``None``: none).
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
    n_nan: int = 0
    n_inf: int = 0
    n_negative: int = 0
    n_bad_showers: int = 0
    first_bad_event: int | None = None

    @property
    def valid(self) -> bool:
        """Whether every voxel value is finite and non-negative."""
        return self.n_bad_showers == 0

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
        nonzero = n_good = n_nan = n_inf = n_negative = n_bad = 0
        first_bad: int | None = None
        for start, chunk in zip(range(0, f.n_events, chunk_size), f.iter_chunks(chunk_size, validate=False), strict=True):
            showers = chunk.showers
            nan, inf = np.isnan(showers), np.isinf(showers)
            negative = showers < 0  # False for NaN
            bad = (nan | inf | negative).any(axis=1)
            n_nan, n_inf, n_negative = n_nan + int(nan.sum()), n_inf + int(inf.sum()), n_negative + int(negative.sum())
            if bad.any():
                n_bad += int(bad.sum())
                first_bad = start + int(np.argmax(bad)) if first_bad is None else first_bad
                showers, energies = showers[~bad], chunk.energies[~bad]
            else:
                energies = chunk.energies
            responses.append(showers.sum(axis=1, dtype=np.float64) / energies)
            nonzero += int(np.count_nonzero(showers))
            n_good += len(showers)
        response = np.concatenate(responses)
        return FileSummary(
            path=str(path),
            geometry=f.geometry.name,
            n_voxels=f.geometry.n_voxels,
            n_events=f.n_events,
            energy_min_mev=float(f.energies.min()),
            energy_max_mev=float(f.energies.max()),
            response_mean=float(response.mean()) if n_good else float("nan"),
            response_std=float(response.std()) if n_good else float("nan"),
            sparsity=nonzero / (n_good * f.geometry.n_voxels) if n_good else float("nan"),
            has_angles=f.angles is not None,
            attrs=f.attrs,
            n_nan=n_nan,
            n_inf=n_inf,
            n_negative=n_negative,
            n_bad_showers=n_bad,
            first_bad_event=first_bad,
        )

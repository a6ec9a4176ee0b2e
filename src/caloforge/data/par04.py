"""The Geant4 Par04 example's training-data formats.

Two layouts are read (by :class:`caloforge.data.ShowerFile`, hence by every command):

* **per energy**: one dataset per incident energy, each (N, 18, 50, 45) ordered (r, φ, z), MeV. The
  dataset name is the energy in GeV (``"64"``, ``"64GeV"`` or ``"500MeV"`` are understood); an
  ``energy_MeV`` attribute, when present, takes precedence, and an ``angle_deg`` attribute gives the
  polar incidence angle (the showers have no angle column when every angle is 0);
* **converter** (the Par04 ROOT → HDF5 converter): ``incident_energy`` (N,) MeV and ``showers``
  (N, R, Φ, Z) = (N, 18, 50, 45) MeV, with an optional ``incident_theta`` (N,) rad.

caloforge converts to the CaloChallenge order (z, φ, r), radial fastest, on the built-in ``par04``
geometry. The φ bins keep their index (Par04 counts φ from 0, CaloChallenge from −π: a pure
rotation, irrelevant for the azimuthally symmetric showers). :func:`write_par04` writes the
per-energy layout (with checksums, as every file caloforge writes: :mod:`caloforge.data.writer`).

Example:
    >>> import numpy as np
    >>> x = np.arange(18 * 50 * 45, dtype=np.float32).reshape(1, 18, 50, 45)
    >>> flat = par04_to_flat(x)
    >>> bool(np.all(flat_to_par04(flat) == x))
    True
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from caloforge.data.h5output import H5Output
from caloforge.data.io import ShowerFile, ShowerFileError, _h5py
from caloforge.data.showers import ShowerData
from caloforge.data.writer import H5_WRITE_OPTIONS
from caloforge.geometry import get_geometry

__all__ = ["PAR04_LAYOUTS", "Par04Source", "flat_to_par04", "open_par04", "par04_to_flat", "read_par04", "write_par04"]

PAR04_SHAPE = (18, 50, 45)
#: ``ShowerFile.attrs["source_format"]`` of the two layouts.
PAR04_LAYOUTS = ("par04", "par04-converter")
_CONVERTER_ENERGY, _CONVERTER_SHOWERS, _CONVERTER_THETA = "incident_energy", "showers", "incident_theta"
_NAME = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(GeV|MeV|TeV)?\s*$", re.IGNORECASE)
_UNIT = {"mev": 1.0, "gev": 1e3, "tev": 1e6}


def par04_to_flat(showers: NDArray[np.floating]) -> NDArray[np.float32]:
    """(N, r, φ, z) Par04 arrays → (N, n_voxels) in CaloChallenge order (z → φ → r)."""
    return np.ascontiguousarray(showers.transpose(0, 3, 2, 1)).reshape(len(showers), -1).astype(np.float32)


def flat_to_par04(showers: NDArray[np.floating]) -> NDArray[np.float32]:
    """Inverse of :func:`par04_to_flat`."""
    r, phi, z = PAR04_SHAPE
    return np.ascontiguousarray(showers.reshape(-1, z, phi, r).transpose(0, 3, 2, 1)).astype(np.float32)


def _energy_of(path: Path, name: str, attrs: dict[str, object]) -> float:
    if "energy_MeV" in attrs:
        return float(attrs["energy_MeV"])  # type: ignore[arg-type]
    match = _NAME.match(name)
    if not match:
        msg = f"{path}: dataset {name!r} is not named by an energy (e.g. '64' or '64GeV') and has no energy_MeV attribute"
        raise ShowerFileError(msg)
    return float(match.group(1)) * _UNIT[(match.group(2) or "GeV").lower()]


@dataclass
class Par04Source:
    """The showers of a Par04 layout inside an open HDF5 file, read on demand in CaloChallenge order.

    Attributes:
        layout: ``"par04"`` (one dataset per energy) or ``"par04-converter"``.
        blocks: (dataset, index of its first event) in event order.
        energies: Incident energies, (N,), MeV.
        angles: Polar incidence angles, (N,), rad, or ``None``.
    """

    layout: str
    blocks: list[tuple[Any, int]]
    energies: NDArray[np.float32]
    angles: NDArray[np.float32] | None

    n_voxels = math.prod(PAR04_SHAPE)

    @property
    def n_events(self) -> int:
        """Number of showers."""
        return len(self.energies)

    def read(self, start: int, stop: int, read: Callable[[Any, slice], NDArray[Any]]) -> NDArray[np.float32]:
        """Showers ``start:stop``, (n, 40500), through ``read(dataset, slice)`` (the caller's guarded read)."""
        parts = []
        for ds, first in self.blocks:
            lo, hi = max(start, first), min(stop, first + len(ds))
            if lo < hi:
                parts.append(par04_to_flat(read(ds, slice(lo - first, hi - first))))
        return np.concatenate(parts) if parts else np.zeros((0, self.n_voxels), np.float32)


def _shape_error(path: Path, name: str, shape: tuple[int, ...]) -> ShowerFileError:
    return ShowerFileError(f"{path}: dataset {name!r} has shape {shape}, expected (N, 18, 50, 45) (r, phi, z)")


def _column(f: Any, key: str, n: int, path: Path) -> NDArray[np.float32]:
    ds = f[key]
    if tuple(ds.shape) not in ((n,), (n, 1)):
        msg = f"{path}: {key!r} has shape {ds.shape}, expected ({n},) like 'showers'"
        raise ShowerFileError(msg)
    return np.asarray(ds[...], dtype=np.float32).reshape(-1)


def open_par04(f: Any, path: str | Path) -> Par04Source | None:
    """The Par04 layout of the open HDF5 file ``f``, or ``None`` if it holds none.

    Raises:
        ShowerFileError: A Par04-like file with a dataset of the wrong shape or a bad energy name.
    """
    path = Path(path)
    h5py = _h5py()
    if _CONVERTER_ENERGY in f and _CONVERTER_SHOWERS in f:
        ds = f[_CONVERTER_SHOWERS]
        if not isinstance(ds, h5py.Dataset) or tuple(ds.shape[1:]) != PAR04_SHAPE:
            raise _shape_error(path, _CONVERTER_SHOWERS, tuple(getattr(ds, "shape", ())))
        energies = _column(f, _CONVERTER_ENERGY, len(ds), path)
        angles = _column(f, _CONVERTER_THETA, len(ds), path) if _CONVERTER_THETA in f else None
        return Par04Source("par04-converter", [(ds, 0)], energies, angles)
    datasets = [(name, f[name]) for name in sorted(f.keys())]
    datasets = [(name, ds) for name, ds in datasets if isinstance(ds, h5py.Dataset) and ds.ndim == 4]
    if not datasets:
        return None
    blocks: list[tuple[Any, int]] = []
    e_parts: list[NDArray[np.float32]] = []
    a_parts: list[NDArray[np.float32]] = []
    first = 0
    for name, ds in datasets:
        if tuple(ds.shape[1:]) != PAR04_SHAPE:
            raise _shape_error(path, name, tuple(ds.shape))
        attrs = dict(ds.attrs)
        e_parts.append(np.full(len(ds), _energy_of(path, name, attrs), dtype=np.float32))
        a_parts.append(np.full(len(ds), math.radians(float(attrs.get("angle_deg", 0.0))), dtype=np.float32))
        blocks.append((ds, first))
        first += len(ds)
    angle = np.concatenate(a_parts)
    return Par04Source("par04", blocks, np.concatenate(e_parts), angle if np.any(angle != 0) else None)


def read_par04(path: str | Path) -> ShowerData:
    """Reads a Par04 file (either layout) into CaloChallenge order on the ``par04`` geometry.

    Raises:
        ShowerFileError: On an unreadable file, a dataset of the wrong shape, bad energy names,
            NaN/inf or negative voxel energies, a file with no showers, or a file that is not Par04.
    """
    with ShowerFile(path) as f:
        if f.attrs.get("source_format") not in PAR04_LAYOUTS:
            msg = f"{path}: not a Par04 file (it is a CaloChallenge file; use read_showers)"
            raise ShowerFileError(msg)
        return f.read()


def write_par04(path: str | Path, data: ShowerData, *, overwrite: bool = False) -> None:
    """Writes showers on a 45 × 50 × 18 geometry as a Par04 file, one dataset per energy (GeV name).

    Raises:
        ValueError: If the geometry is not the Par04 binning.
        FileExistsError: If ``path`` exists and ``overwrite`` is false.
    """
    path = Path(path)
    if data.geometry.n_voxels != get_geometry("par04").n_voxels:
        msg = f"{path}: Par04 files need 45 × 50 × 18 voxels, got geometry {data.geometry.name!r}"
        raise ValueError(msg)
    angles = data.angles if data.angles is not None else np.zeros(len(data), np.float32)
    size = 4 * data.showers.size + (1 << 20)
    with H5Output(path, overwrite=overwrite, expected_bytes=size, **H5_WRITE_OPTIONS) as out, out.guard():
        keys = np.stack([data.energies, angles], axis=1)
        for energy, angle in np.unique(keys, axis=0):
            mask = (data.energies == energy) & (angles == angle)
            name = f"{energy / 1e3:g}"
            if abs(angle) > 0:
                name += f"_{math.degrees(angle):g}deg"
            ds = out.file.create_dataset(name, data=flat_to_par04(data.showers[mask]), fletcher32=True)
            ds.attrs["energy_MeV"] = float(energy)
            ds.attrs["angle_deg"] = math.degrees(float(angle))

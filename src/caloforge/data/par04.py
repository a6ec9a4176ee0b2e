"""The Geant4 Par04 example's training-data format.

A Par04 file holds one dataset per incident energy, each (N, 18, 50, 45) ordered (r, φ, z), MeV.
The dataset name is the energy in GeV (``"64"``, ``"64GeV"`` or ``"500MeV"`` are understood); an
``energy_MeV`` attribute, when present, takes precedence, and an ``angle_deg`` attribute gives the
polar incidence angle. caloforge converts to the CaloChallenge order (z, φ, r), radial fastest, on
the built-in ``par04`` geometry. The φ bins keep their index (Par04 counts φ from 0, CaloChallenge
from −π: a pure rotation, irrelevant for the azimuthally symmetric showers).

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
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from caloforge.data.io import ShowerFileError, _h5py, _refuse_existing
from caloforge.data.showers import ShowerData
from caloforge.geometry import get_geometry

__all__ = ["flat_to_par04", "par04_to_flat", "read_par04", "write_par04"]

PAR04_SHAPE = (18, 50, 45)
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


def read_par04(path: str | Path) -> ShowerData:
    """Reads a Par04 file into CaloChallenge order on the ``par04`` geometry.

    Raises:
        ShowerFileError: On an unreadable file, a dataset of the wrong shape, bad energy names,
            NaN/inf or negative voxel energies, or a file with no showers.
    """
    path = Path(path)
    if not path.exists():
        msg = f"{path}: no such file"
        raise ShowerFileError(msg)
    h5py = _h5py()
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        msg = f"{path}: cannot open as HDF5 (empty, truncated or not an HDF5 file: {err})"
        raise ShowerFileError(msg) from None
    energies, showers, angles = [], [], []
    with f:
        for name in sorted(f.keys()):
            ds = f[name]
            if not isinstance(ds, h5py.Dataset):
                continue
            if tuple(ds.shape[1:]) != PAR04_SHAPE:
                msg = f"{path}: dataset {name!r} has shape {ds.shape}, expected (N, 18, 50, 45)"
                raise ShowerFileError(msg)
            attrs = dict(ds.attrs)
            energy = _energy_of(path, name, attrs)
            try:
                block = np.asarray(ds[...], dtype=np.float32)
            except OSError as err:
                msg = f"{path}: cannot read {name!r} (truncated or corrupted file: {err})"
                raise ShowerFileError(msg) from None
            if not np.all(np.isfinite(block)):
                msg = f"{path}: dataset {name!r} contains NaN or inf"
                raise ShowerFileError(msg)
            if block.size and block.min() < 0:
                msg = f"{path}: dataset {name!r} contains negative energies"
                raise ShowerFileError(msg)
            showers.append(par04_to_flat(block))
            energies.append(np.full(len(block), energy, dtype=np.float32))
            angle = math.radians(float(attrs.get("angle_deg", 0.0)))
            angles.append(np.full(len(block), angle, dtype=np.float32))
    if not showers or sum(len(s) for s in showers) == 0:
        msg = f"{path}: no Par04 shower datasets found"
        raise ShowerFileError(msg)
    return ShowerData(
        np.concatenate(energies),
        np.concatenate(showers),
        get_geometry("par04"),
        np.concatenate(angles),
        {"source_format": "par04"},
    )


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
    _refuse_existing(path, overwrite)
    tmp = path.with_name(f".{path.name}.tmp")
    h5py = _h5py()
    angles = data.angles if data.angles is not None else np.zeros(len(data), np.float32)
    try:
        with h5py.File(tmp, "w") as f:
            keys = np.stack([data.energies, angles], axis=1)
            for energy, angle in np.unique(keys, axis=0):
                mask = (data.energies == energy) & (angles == angle)
                name = f"{energy / 1e3:g}"
                if abs(angle) > 0:
                    name += f"_{math.degrees(angle):g}deg"
                ds = f.create_dataset(name, data=flat_to_par04(data.showers[mask]))
                ds.attrs["energy_MeV"] = float(energy)
                ds.attrs["angle_deg"] = math.degrees(float(angle))
        _refuse_existing(path, overwrite)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)

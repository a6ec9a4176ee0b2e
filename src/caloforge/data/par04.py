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

**Per-angle files.** Par04 writes one file per configuration, ``<geo>_angle_<A>.h5``, with ``A`` the
global polar angle of the particle in degrees (Par04's convention: 90° = entering perpendicularly).
:func:`read_par04_angles` reads a directory or a glob of them, or several such files, into one
:class:`ShowerData` whose angle column is set per file in caloforge's convention, θ from the layer
normal in rad: θ = radians(90° − A) (:func:`par04_angle_to_theta`), so a head-on shower has θ = 0.

Example:
    >>> import numpy as np
    >>> x = np.arange(18 * 50 * 45, dtype=np.float32).reshape(1, 18, 50, 45)
    >>> flat = par04_to_flat(x)
    >>> bool(np.all(flat_to_par04(flat) == x))
    True
    >>> round(par04_angle_to_theta(50.0), 4), theta_to_par04_angle(0.0)
    (0.6981, 90.0)
"""

from __future__ import annotations

import glob
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from caloforge.data.h5output import H5Output
from caloforge.data.io import ShowerFile, ShowerFileError, _h5py
from caloforge.data.showers import ShowerData
from caloforge.data.writer import H5_WRITE_OPTIONS
from caloforge.geometry import Geometry, get_geometry

__all__ = [
    "PAR04_ANGLE_FILE", "PAR04_LAYOUTS", "Par04Source", "flat_to_par04", "is_par04_angle_source", "open_par04",
    "par04_angle_files", "par04_angle_to_theta", "par04_to_flat", "read_par04", "read_par04_angles",
    "theta_to_par04_angle", "write_par04",
]

PAR04_SHAPE = (18, 50, 45)
#: ``ShowerFile.attrs["source_format"]`` of the two layouts.
PAR04_LAYOUTS = ("par04", "par04-converter")
_CONVERTER_ENERGY, _CONVERTER_SHOWERS, _CONVERTER_THETA = "incident_energy", "showers", "incident_theta"
_NAME = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(GeV|MeV|TeV)?\s*$", re.IGNORECASE)
_UNIT = {"mev": 1.0, "gev": 1e3, "tev": 1e6}
#: Name of a Par04 per-angle file: ``<geo>_angle_<A>.h5``, ``A`` the global polar angle in degrees.
PAR04_ANGLE_FILE = re.compile(r"^(?P<geometry>.+)_angle_(?P<angle>[0-9]+(?:\.[0-9]*)?)\.h5$")
_GLOB_CHARS = frozenset("*?[")


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


def par04_angle_to_theta(angle_deg: float) -> float:
    """Par04's global polar angle ``A`` (deg, 90° = perpendicular) → caloforge's θ from the layer normal (rad)."""
    return math.radians(90.0 - float(angle_deg))


def theta_to_par04_angle(theta: float) -> float:
    """caloforge's θ from the layer normal (rad, 0 = head-on) → Par04's global polar angle (deg)."""
    return 90.0 - math.degrees(float(theta))


def _is_glob(text: str) -> bool:
    return any(c in _GLOB_CHARS for c in text)


def is_par04_angle_source(source: str | Path | Sequence[str | Path]) -> bool:
    """Whether ``source`` names Par04 per-angle files: a directory, a glob, a list, or a ``*_angle_<A>.h5`` name."""
    if not isinstance(source, str | Path):
        return True
    text = str(source)
    return Path(text).is_dir() or _is_glob(text) or PAR04_ANGLE_FILE.match(Path(text).name) is not None


def par04_angle_files(source: str | Path | Sequence[str | Path]) -> list[tuple[Path, str, float]]:
    """The per-angle files of a directory, a glob or a list of paths: (path, geometry tag, A in deg), by angle.

    Raises:
        ShowerFileError: No files, a name that is not ``<geo>_angle_<A>.h5``, files of different
            geometry tags, or two files of one angle.
    """
    if isinstance(source, str | Path):
        text = str(source)
        if Path(text).is_dir():
            paths = sorted(Path(text).glob("*.h5"))
            where = f"{text}: directory"
        elif _is_glob(text):
            paths = sorted(Path(p) for p in glob.glob(text))
            where = f"{text}: pattern"
        else:
            paths, where = [Path(text)], text
    else:
        paths, where = [Path(p) for p in source], "the Par04 files"
    if not paths:
        msg = f"{where} matches no Par04 per-angle files (<geo>_angle_<A>.h5)"
        raise ShowerFileError(msg)
    out: list[tuple[Path, str, float]] = []
    for path in paths:
        match = PAR04_ANGLE_FILE.match(path.name)
        if match is None:
            msg = f"{path}: not a Par04 per-angle file name (expected <geo>_angle_<A>.h5, A in degrees)"
            raise ShowerFileError(msg)
        out.append((path, match.group("geometry"), float(match.group("angle"))))
    tags = sorted({tag for _, tag, _ in out})
    if len(tags) > 1:
        first = {tag: next(p.name for p, t, _ in out if t == tag) for tag in tags}
        msg = f"{where}: mixed geometries {', '.join(f'{t!r} ({first[t]})' for t in tags)}; give one geometry's files"
        raise ShowerFileError(msg)
    seen: dict[float, Path] = {}
    for path, _, angle in out:
        if angle in seen:
            msg = f"{path}: angle {angle:g} deg also in {seen[angle]}"
            raise ShowerFileError(msg)
        seen[angle] = path
    return sorted(out, key=lambda item: item[2])


def read_par04_angles(
    source: str | Path | Sequence[str | Path],
    geometry: str | Geometry | None = None,
    *,
    start: int = 0,
    stop: int | None = None,
) -> ShowerData:
    """Reads Par04 per-angle files (:func:`par04_angle_files`) into one :class:`ShowerData`.

    Each file (either Par04 layout, or a CaloChallenge file) gets the angle of its name in caloforge's
    convention, θ = radians(90° − A) (angles stored inside the files are replaced); the files are
    joined in increasing ``A`` and the events ``start:stop`` of the joined sample are returned.

    Raises:
        ShowerFileError: See :func:`par04_angle_files`; unreadable files, or files of different
            voxel geometries.
    """
    from caloforge.data.io import read_showers

    files = par04_angle_files(source)
    parts: list[ShowerData] = []
    for path, _, angle in files:
        data = read_showers(path, geometry)
        if parts and not data.geometry.same_binning(parts[0].geometry):
            msg = f"{path}: geometry {data.geometry.name!r} differs from {parts[0].geometry.name!r} of the other files"
            raise ShowerFileError(msg)
        data.angles = np.full(len(data), par04_angle_to_theta(angle), dtype=np.float32)
        parts.append(data)
    merged = ShowerData.concatenate(parts)
    merged.attrs["par04_angles_deg"] = [a for _, _, a in files]
    return merged if (start, stop) == (0, None) else merged.subset(slice(start, stop))

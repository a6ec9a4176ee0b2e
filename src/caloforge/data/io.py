"""CaloChallenge HDF5 files: the only module that knows their key names and layout.

A CaloChallenge file holds ``incident_energies`` (N, 1) and ``showers`` (N, n_voxels), both in MeV,
voxels ordered layer → angular bin → radial bin (radial fastest). caloforge adds an optional
``incident_angles`` (N, 1) in rad and file attributes (``caloforge_geometry``: the geometry as JSON, plus
generator metadata). Files may be float64; they are cast to float32 on load.

Reading is lazy: :class:`ShowerFile` loads the energies and streams showers in chunks, so a
dataset-3 file (100k × 40500 voxels) is processed with bounded memory. Writing goes through
:class:`ShowerWriter`, which writes a temporary file beside the target and renames it into place only
when complete, and never replaces an existing file unless ``overwrite=True``.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=2, n_alpha=2, r_edges=[0, 1, 2])
    >>> data = ShowerData(np.array([1e3, 2e3]), np.ones((2, 8)), g)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "toy.h5"
    >>> write_showers(path, data)
    >>> read_showers(path).showers.shape
    (2, 8)
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

from caloforge.data.showers import ShowerData
from caloforge.geometry import Geometry, get_geometry, guess_geometry

__all__ = [
    "ANGLES_KEY",
    "ENERGIES_KEY",
    "GEOMETRY_ATTR",
    "SHOWERS_KEY",
    "ShowerFile",
    "ShowerFileError",
    "ShowerWriter",
    "iter_showers",
    "read_showers",
    "write_showers",
]

logger = logging.getLogger(__name__)

ENERGIES_KEY = "incident_energies"
SHOWERS_KEY = "showers"
ANGLES_KEY = "incident_angles"
#: File attribute holding caloforge's geometry as JSON (other tools use ``geometry`` for free text).
GEOMETRY_ATTR = "caloforge_geometry"
_TARGET_CHUNK_BYTES = 1 << 20


class ShowerFileError(ValueError):
    """A shower file is missing, unreadable or inconsistent; the message names the file."""


def _h5py() -> Any:
    import h5py

    return h5py


def _resolve_geometry(path: Path, n_voxels: int, geometry: str | Geometry | None, attr: Any) -> Geometry:
    stored = None
    if attr is not None:
        try:
            stored = Geometry.from_dict(json.loads(attr))
        except (ValueError, KeyError, TypeError):
            logger.warning("%s: ignoring unreadable geometry attribute", path)
    if geometry is not None:
        try:
            chosen = get_geometry(geometry)
        except KeyError as err:
            msg = f"{path}: {err.args[0]}"
            raise ShowerFileError(msg) from None
        if chosen.n_voxels != n_voxels:
            msg = (
                f"{path}: showers have {n_voxels} voxels but geometry {chosen.name!r} "
                f"has {chosen.n_voxels}"
            )
            raise ShowerFileError(msg)
        if stored is not None and not stored.same_binning(chosen):
            msg = f"{path}: file was written for geometry {stored.name!r}, not {chosen.name!r}"
            raise ShowerFileError(msg)
        return chosen
    if stored is not None:
        if stored.n_voxels != n_voxels:
            msg = f"{path}: stored geometry has {stored.n_voxels} voxels but showers have {n_voxels}"
            raise ShowerFileError(msg)
        return stored
    guessed = guess_geometry(n_voxels)
    if guessed is None:
        msg = f"{path}: no built-in geometry has {n_voxels} voxels; pass a geometry (--geometry)"
        raise ShowerFileError(msg)
    return guessed


class ShowerFile:
    """A lazily read CaloChallenge file.

    Energies (and angles) are loaded and checked at open; showers are read on demand.

    Arguments:
        path: The HDF5 file.
        geometry: Geometry name or object; by default the one stored in the file, else the
            built-in geometry with the file's voxel count.

    Raises:
        ShowerFileError: If the file cannot be opened, misses a key, has inconsistent shapes,
            non-finite or negative incident energies, no events, or does not match ``geometry``.
    """

    def __init__(self, path: str | Path, geometry: str | Geometry | None = None) -> None:
        self.path = Path(path)
        h5py = _h5py()
        if not self.path.exists():
            msg = f"{self.path}: no such file"
            raise ShowerFileError(msg)
        try:
            self._file = h5py.File(self.path, "r")
        except OSError as err:
            msg = f"{self.path}: cannot open as HDF5 (empty, truncated or not an HDF5 file: {err})"
            raise ShowerFileError(msg) from None
        try:
            self._check_and_load(geometry)
        except BaseException:
            self._file.close()
            raise

    def _check_and_load(self, geometry: str | Geometry | None) -> None:
        f = self._file
        for key in (ENERGIES_KEY, SHOWERS_KEY):
            if key not in f:
                msg = f"{self.path}: missing dataset {key!r} (found: {sorted(f.keys())})"
                raise ShowerFileError(msg)
        showers = f[SHOWERS_KEY]
        if showers.ndim != 2:
            msg = f"{self.path}: {SHOWERS_KEY!r} must be (N, n_voxels), got shape {showers.shape}"
            raise ShowerFileError(msg)
        self.n_events = int(showers.shape[0])
        if self.n_events == 0:
            msg = f"{self.path}: the file holds no showers"
            raise ShowerFileError(msg)
        self.energies = self._read_column(ENERGIES_KEY, "incident energies")
        if np.any(self.energies <= 0):
            msg = f"{self.path}: incident energies must be positive (min {self.energies.min()})"
            raise ShowerFileError(msg)
        self.angles = self._read_column(ANGLES_KEY, "incident angles") if ANGLES_KEY in f else None
        attr = f.attrs.get(GEOMETRY_ATTR)
        self.geometry = _resolve_geometry(self.path, int(showers.shape[1]), geometry, attr)
        self.attrs = {k: _attr_value(v) for k, v in f.attrs.items() if k != GEOMETRY_ATTR}

    def _read_column(self, key: str, what: str) -> NDArray[np.float32]:
        ds = self._file[key]
        if ds.shape not in ((self.n_events, 1), (self.n_events,)):
            msg = f"{self.path}: {key!r} has shape {ds.shape}, expected ({self.n_events}, 1)"
            raise ShowerFileError(msg)
        values = self._guarded_read(ds, slice(None)).astype(np.float32).reshape(-1)
        if not np.all(np.isfinite(values)):
            msg = f"{self.path}: {what} contain NaN or inf"
            raise ShowerFileError(msg)
        return values

    def _guarded_read(self, ds: Any, index: slice) -> NDArray[Any]:
        try:
            return np.asarray(ds[index])
        except (OSError, RuntimeError) as err:
            msg = f"{self.path}: cannot read {ds.name!r} (truncated or corrupted file: {err})"
            raise ShowerFileError(msg) from None

    def __len__(self) -> int:
        return self.n_events

    def read(self, start: int = 0, stop: int | None = None, *, validate: bool = True) -> ShowerData:
        """Reads events ``start:stop`` as float32.

        Arguments:
            start: First event.
            stop: One past the last event (default: end of file).
            validate: Check the showers for NaN/inf and negative energies.

        Raises:
            ShowerFileError: On unreadable data, or invalid voxel energies when ``validate``.
        """
        stop = self.n_events if stop is None else min(stop, self.n_events)
        raw = self._guarded_read(self._file[SHOWERS_KEY], slice(start, stop))
        showers = raw.astype(np.float32, copy=False)
        if validate:
            self._validate(showers, start)
        return ShowerData(
            self.energies[start:stop],
            showers,
            self.geometry,
            None if self.angles is None else self.angles[start:stop],
            dict(self.attrs),
        )

    def _validate(self, showers: NDArray[np.float32], offset: int) -> None:
        bad = ~np.isfinite(showers)
        if bad.any():
            event = offset + int(np.argwhere(bad.any(axis=1))[0, 0])
            msg = f"{self.path}: showers contain NaN or inf (first in event {event})"
            raise ShowerFileError(msg)
        if showers.size and showers.min() < 0:
            event = offset + int(np.argwhere((showers < 0).any(axis=1))[0, 0])
            msg = f"{self.path}: showers contain negative energies (first in event {event})"
            raise ShowerFileError(msg)

    def iter_chunks(self, chunk_size: int = 10_000, *, validate: bool = True) -> Iterator[ShowerData]:
        """Yields consecutive :class:`ShowerData` chunks of at most ``chunk_size`` events."""
        for start in range(0, self.n_events, chunk_size):
            yield self.read(start, start + chunk_size, validate=validate)

    def close(self) -> None:
        """Closes the HDF5 file."""
        self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _attr_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def read_showers(
    path: str | Path,
    geometry: str | Geometry | None = None,
    *,
    start: int = 0,
    stop: int | None = None,
    validate: bool = True,
) -> ShowerData:
    """Reads a CaloChallenge file (or the events ``start:stop``) into memory.

    Raises:
        ShowerFileError: See :class:`ShowerFile`.
    """
    with ShowerFile(path, geometry) as f:
        return f.read(start, stop, validate=validate)


def iter_showers(
    path: str | Path, geometry: str | Geometry | None = None, *, chunk_size: int = 10_000
) -> Iterator[ShowerData]:
    """Streams a CaloChallenge file in chunks with bounded memory."""
    with ShowerFile(path, geometry) as f:
        yield from f.iter_chunks(chunk_size)


class ShowerWriter:
    """Writes a CaloChallenge file incrementally and atomically.

    Data go to a hidden temporary file beside ``path``; :meth:`close` renames it into place. If an
    exception escapes the ``with`` block, the temporary file is deleted and ``path`` is untouched.

    Arguments:
        path: Target file.
        geometry: Geometry of the showers (stored as the JSON attribute ``caloforge_geometry``).
        with_angles: Also write ``incident_angles``.
        overwrite: Replace an existing ``path``.
        attrs: File attributes (str, numbers, lists).
        compression: ``None`` or ``"gzip"``/``"lzf"``.

    Raises:
        FileExistsError: If ``path`` exists and ``overwrite`` is false.
    """

    def __init__(
        self,
        path: str | Path,
        geometry: Geometry,
        *,
        with_angles: bool = False,
        overwrite: bool = False,
        attrs: dict[str, Any] | None = None,
        compression: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.overwrite = overwrite
        _refuse_existing(self.path, overwrite)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp_path = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self.geometry = geometry
        self.n_written = 0
        h5py = _h5py()
        self._file = h5py.File(self.tmp_path, "w")
        n_vox = geometry.n_voxels
        rows = max(1, min(1024, _TARGET_CHUNK_BYTES // (4 * n_vox)))
        self._showers = self._file.create_dataset(
            SHOWERS_KEY, (0, n_vox), maxshape=(None, n_vox), dtype="f4", chunks=(rows, n_vox),
            compression=compression,
        )
        self._energies = self._file.create_dataset(
            ENERGIES_KEY, (0, 1), maxshape=(None, 1), dtype="f4", chunks=(4096, 1)
        )
        self._angles = None
        if with_angles:
            self._angles = self._file.create_dataset(
                ANGLES_KEY, (0, 1), maxshape=(None, 1), dtype="f4", chunks=(4096, 1)
            )
        for key, value in (attrs or {}).items():
            self._file.attrs[key] = value
        self._file.attrs[GEOMETRY_ATTR] = json.dumps(geometry.to_dict())
        self._file.attrs["geometry_name"] = geometry.name

    def write(self, data: ShowerData) -> None:
        """Appends a chunk of showers.

        Raises:
            ValueError: If the chunk's geometry or angle columns do not match the file.
        """
        if data.geometry.n_voxels != self.geometry.n_voxels:
            msg = f"{self.path}: chunk has {data.geometry.n_voxels} voxels, file has {self.geometry.n_voxels}"
            raise ValueError(msg)
        if (data.angles is None) != (self._angles is None):
            msg = f"{self.path}: chunk and file disagree on incident angles"
            raise ValueError(msg)
        n0, n = self.n_written, len(data)
        for ds, values in ((self._showers, data.showers), (self._energies, data.energies[:, None])):
            ds.resize(n0 + n, axis=0)
            ds[n0:] = values
        if self._angles is not None and data.angles is not None:
            self._angles.resize(n0 + n, axis=0)
            self._angles[n0:] = data.angles[:, None]
        self.n_written += n

    def close(self) -> None:
        """Finishes the file and renames it into place."""
        self._file.close()
        try:
            _refuse_existing(self.path, self.overwrite)
        except FileExistsError:
            self.tmp_path.unlink(missing_ok=True)
            raise
        self.tmp_path.replace(self.path)

    def abort(self) -> None:
        """Discards everything written; the target is left untouched."""
        if self._file.id.valid:
            self._file.close()
        self.tmp_path.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _refuse_existing(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        msg = f"{path} already exists; pass overwrite=True (--force on the command line) to replace it"
        raise FileExistsError(msg)


def write_showers(
    path: str | Path, data: ShowerData, *, overwrite: bool = False, compression: str | None = None
) -> None:
    """Writes ``data`` as a CaloChallenge file (atomically; see :class:`ShowerWriter`)."""
    with ShowerWriter(
        path,
        data.geometry,
        with_angles=data.angles is not None,
        overwrite=overwrite,
        attrs=data.attrs,
        compression=compression,
    ) as writer:
        writer.write(data)

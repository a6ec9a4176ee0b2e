"""CaloChallenge HDF5 files: the only module that knows their key names and layout.

A CaloChallenge file holds ``incident_energies`` (N, 1) and ``showers`` (N, n_voxels), both in MeV,
voxels ordered layer → angular bin → radial bin (radial fastest). caloforge adds an optional
``incident_angles`` (N, 1) in rad, an optional ``weights`` (N,) of per-shower weights (written by
``caloforge reweight``; readers that do not know it ignore it) and file attributes (``caloforge_geometry``: the geometry as JSON, plus
generator metadata). Files may be float64; they are cast to float32 on load.

Reading is lazy: :class:`ShowerFile` loads the energies and streams showers in chunks, so a
dataset-3 file (100k × 40500 voxels) is processed with bounded memory. It also reads the two Geant4
Par04 layouts (:mod:`caloforge.data.par04`: one dataset per energy, or ``incident_energy`` +
``showers`` (N, R, Φ, Z)), so every command that takes a shower file accepts them. Writing is
:mod:`caloforge.data.writer` (atomic; never replaces a file unless ``overwrite=True``); score files
(``log_likelihood`` beside ``incident_energies``) are :mod:`caloforge.data.scores`. Both take their
key names from here.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> from caloforge.data import write_showers
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

from caloforge.data.showers import ShowerData
from caloforge.geometry import Geometry, get_geometry, guess_geometry

__all__ = [
    "ANGLES_KEY",
    "ENERGIES_KEY",
    "GEOMETRY_ATTR",
    "LOG_LIKELIHOOD_KEY",
    "SHOWERS_KEY",
    "WEIGHTS_KEY",
    "ShowerFile",
    "ShowerFileError",
    "iter_showers",
    "read_showers",
]

logger = logging.getLogger(__name__)

ENERGIES_KEY = "incident_energies"
SHOWERS_KEY = "showers"
ANGLES_KEY = "incident_angles"
#: Dataset of per-shower log-likelihoods (N,) in nats in a score file (:mod:`caloforge.data.scores`),
#: stored beside ``incident_energies`` (N, 1).
LOG_LIKELIHOOD_KEY = "log_likelihood"
#: Optional dataset of per-shower weights (N,) beside the showers (classifier reweighting,
#: :mod:`caloforge.evaluation.reweight`): finite, non-negative, normalised to mean 1 when written by caloforge.
WEIGHTS_KEY = "weights"
#: File attribute holding caloforge's geometry as JSON (other tools use ``geometry`` for free text).
GEOMETRY_ATTR = "caloforge_geometry"


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
    """A lazily read shower file: CaloChallenge, or either Geant4 Par04 layout.

    Energies (and angles) are loaded and checked at open; showers are read on demand. Par04 files
    (:func:`caloforge.data.par04.open_par04`) are presented in CaloChallenge order on the ``par04``
    geometry, with ``attrs["source_format"]`` naming the layout.

    Arguments:
        path: The HDF5 file.
        geometry: Geometry name or object; by default the one stored in the file, else the
            built-in geometry with the file's voxel count (``par04`` for Par04 files).

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
        except (OSError, RuntimeError, KeyError, TypeError) as err:  # h5py on a damaged file
            self._file.close()
            msg = f"{self.path}: cannot read (truncated or corrupted file: {_first_line(err)})"
            raise ShowerFileError(msg) from None
        except BaseException:
            self._file.close()
            raise

    def _check_and_load(self, geometry: str | Geometry | None) -> None:
        f = self._file
        self._source: Any = None
        if ENERGIES_KEY not in f:
            from caloforge.data.par04 import open_par04

            self._source = open_par04(f, self.path)
            if self._source is not None:
                self._load_par04(geometry)
                return
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
        self.energies = self._check_energies(self._read_column(ENERGIES_KEY, "incident energies"))
        self.angles = self._read_column(ANGLES_KEY, "incident angles") if ANGLES_KEY in f else None
        self.weights = self._read_weights() if WEIGHTS_KEY in f else None
        attr = f.attrs.get(GEOMETRY_ATTR)
        self.geometry = _resolve_geometry(self.path, int(showers.shape[1]), geometry, attr)
        self.attrs = {k: _attr_value(v) for k, v in f.attrs.items() if k != GEOMETRY_ATTR}

    def _load_par04(self, geometry: str | Geometry | None) -> None:
        src = self._source
        self.n_events = src.n_events
        if self.n_events == 0:
            msg = f"{self.path}: the file holds no showers"
            raise ShowerFileError(msg)
        self.energies = self._check_energies(self._finite(src.energies, "incident energies"))
        self.angles = None if src.angles is None else self._finite(src.angles, "incident angles")
        self.weights = None
        self.geometry = _resolve_geometry(self.path, src.n_voxels, geometry or "par04", None)
        attrs = {k: _attr_value(v) for k, v in self._file.attrs.items() if k != GEOMETRY_ATTR}
        self.attrs = {**attrs, "source_format": src.layout}

    def _check_energies(self, values: NDArray[np.float32]) -> NDArray[np.float32]:
        if np.any(values <= 0):
            msg = f"{self.path}: incident energies must be positive (min {values.min()})"
            raise ShowerFileError(msg)
        return values

    def _finite(self, values: NDArray[np.float32], what: str) -> NDArray[np.float32]:
        if not np.all(np.isfinite(values)):
            msg = f"{self.path}: {what} contain NaN or inf"
            raise ShowerFileError(msg)
        return values

    def _read_weights(self) -> NDArray[np.float32]:
        values = self._read_column(WEIGHTS_KEY, "weights")
        if np.any(values < 0):
            msg = f"{self.path}: {WEIGHTS_KEY!r} must be non-negative (min {values.min()})"
            raise ShowerFileError(msg)
        return values

    def _read_column(self, key: str, what: str) -> NDArray[np.float32]:
        ds = self._file[key]
        if ds.shape not in ((self.n_events, 1), (self.n_events,)):
            msg = f"{self.path}: {key!r} has shape {ds.shape}, expected ({self.n_events}, 1)"
            raise ShowerFileError(msg)
        return self._finite(self._guarded_read(ds, slice(None)).astype(np.float32).reshape(-1), what)

    def _guarded_read(self, ds: Any, index: slice) -> NDArray[Any]:
        try:
            return np.asarray(ds[index])
        except (OSError, RuntimeError, KeyError, TypeError, ValueError) as err:
            msg = f"{self.path}: cannot read {ds.name!r} (truncated or corrupted file: {_first_line(err)})"
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
        if self._source is not None:
            raw = self._source.read(start, stop, self._guarded_read)
        else:
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
            None if self.weights is None else self.weights[start:stop],
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


def _first_line(err: BaseException) -> str:
    return (str(err).splitlines() or [type(err).__name__])[0] or type(err).__name__


def _attr_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, np.generic):
        return _attr_value(value.item())
    if isinstance(value, np.ndarray):
        return [_attr_value(v) for v in value.tolist()]
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

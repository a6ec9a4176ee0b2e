"""Score files: one log-likelihood per shower, as HDF5, ``.npy`` or CSV.

``.h5``/``.hdf5``: datasets ``log_likelihood`` (N,) in nats and ``incident_energies`` (N, 1) in MeV
(key names from :mod:`caloforge.data.io`), attribute ``units = "nats"``; ``.npy``: the (N,)
array; ``.csv``: columns ``index,incident_energy_mev,log_likelihood``. Every format is written
atomically and never replaces a file unless ``overwrite=True``.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "scores.csv"
    >>> _ = write_scores(path, np.array([-1.5, -2.0]), np.array([1e3, 2e3]))
    >>> path.read_text().splitlines()[0]
    'index,incident_energy_mev,log_likelihood'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from caloforge.atomic import atomic_open, prepare_target
from caloforge.data.h5output import H5Output
from caloforge.data.io import ENERGIES_KEY, LOG_LIKELIHOOD_KEY

__all__ = ["SCORE_FORMATS", "check_score_target", "write_scores"]

#: Output formats by file suffix.
SCORE_FORMATS = (".h5", ".hdf5", ".npy", ".csv")


def check_score_target(path: str | Path, *, overwrite: bool = False) -> Path:
    """Refuses an unknown suffix or an existing ``path`` before any work is done.

    Raises:
        ValueError: Unknown suffix.
        FileExistsError: ``path`` exists and ``overwrite`` is false.
        caloforge.atomic.OutputError: ``path`` is a directory or cannot be created.
    """
    path = Path(path)
    if path.suffix.lower() not in SCORE_FORMATS:
        msg = f"{path}: unknown output format {path.suffix!r}; choices are {list(SCORE_FORMATS)}"
        raise ValueError(msg)
    prepare_target(path, overwrite=overwrite)
    return path


def write_scores(
    path: str | Path, scores: NDArray[np.float64], energies: NDArray[Any], *, overwrite: bool = False
) -> Path:
    """Writes one log-likelihood per shower, in the format of ``path``'s suffix.

    Arguments:
        path: Target ``.h5``, ``.hdf5``, ``.npy`` or ``.csv`` file.
        scores: Log-likelihoods, (N,), nats.
        energies: Incident energies of the showers, (N,) or (N, 1), MeV.
        overwrite: Replace an existing ``path``.

    Returns:
        The path written.

    Raises:
        ValueError: Unknown suffix.
        FileExistsError: ``path`` exists and ``overwrite`` is false.
    """
    path = check_score_target(path, overwrite=overwrite)
    suffix = path.suffix.lower()
    if suffix in {".npy", ".csv"}:
        with atomic_open(path, overwrite=overwrite) as f:
            if suffix == ".npy":
                np.save(f, scores)
            else:
                rows = np.column_stack(
                    [np.arange(len(scores)), np.asarray(energies, dtype=np.float64).reshape(-1), scores]
                )
                np.savetxt(
                    f,
                    rows,
                    delimiter=",",
                    header="index,incident_energy_mev,log_likelihood",
                    comments="",
                    fmt=["%d", "%.6g", "%.8g"],
                )
        return path
    with H5Output(path, overwrite=overwrite) as out, out.guard():
        out.file.create_dataset(LOG_LIKELIHOOD_KEY, data=scores)
        out.file.create_dataset(ENERGIES_KEY, data=np.asarray(energies, dtype=np.float32).reshape(-1, 1))
        out.file.attrs["units"] = "nats"
    return path

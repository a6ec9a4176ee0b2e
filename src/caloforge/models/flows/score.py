"""Per-shower log-likelihoods of a file under a flow model, written as HDF5, ``.npy`` or CSV.

Any model with a ``log_prob(showers, conditions) -> (B,)`` method can score showers (the CaloFlow
teachers do); the log-likelihoods serve anomaly checks (low values flag unusual showers) and
reweighting between models or data sets.

Example:
    >>> import numpy as np, torch
    >>> from caloforge.data import ShowerData
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=3, n_alpha=2, r_edges=[0, 1, 2])
    >>> from caloforge.models.flows import CaloFlow
    >>> model = CaloFlow(g, CaloFlow.smoke_config())
    >>> data = ShowerData(np.full(5, 1e3, np.float32), np.random.rand(5, 12).astype(np.float32) * 50, g)
    >>> model.fit_preprocessing(torch.from_numpy(data.showers), torch.from_numpy(data.conditions()))
    >>> score_showers(model, data, batch_size=2).shape
    (5,)
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor
from tqdm.auto import tqdm

from caloforge.atomic import atomic_open, prepare_target
from caloforge.data import ShowerData, ShowerFile

__all__ = ["SCORE_FORMATS", "DensityModel", "score_file", "score_showers", "write_scores"]

logger = logging.getLogger(__name__)

#: Output formats by file suffix.
SCORE_FORMATS = (".h5", ".hdf5", ".npy", ".csv")


class DensityModel(Protocol):
    """A model that evaluates log-likelihoods of showers."""

    n_conditions: int

    def log_prob(self, showers: Tensor, conditions: Tensor) -> Tensor:
        """(B, n_voxels) MeV, (B, C) raw → (B,) nats."""
        ...  # pragma: no cover


def _conditions(data: ShowerData, n_conditions: int) -> NDArray[np.float32]:
    conditions = data.conditions()
    if conditions.shape[1] < n_conditions:
        msg = f"the model needs {n_conditions} conditions (energy and angle) but the file has no angles"
        raise ValueError(msg)
    return conditions[:, :n_conditions]


def _device_of(model: object) -> torch.device:
    parameters = getattr(model, "parameters", None)
    for tensor in parameters() if callable(parameters) else ():
        return tensor.device  # type: ignore[no-any-return]
    return torch.device("cpu")


@torch.no_grad()
def score_showers(model: DensityModel, data: ShowerData, *, batch_size: int = 1000) -> NDArray[np.float64]:
    """Log-likelihood of every shower in ``data``.

    Arguments:
        model: A model with ``log_prob`` (in eval mode, on the CPU or its device).
        data: Showers and their conditions.
        batch_size: Showers per ``log_prob`` call.

    Returns:
        log p(shower | conditions), (N,), nats.

    Raises:
        ValueError: The model needs angles and ``data`` has none, or ``batch_size`` < 1.
    """
    if batch_size < 1:
        msg = f"batch_size must be at least 1, got {batch_size}"
        raise ValueError(msg)
    conditions = _conditions(data, model.n_conditions)
    device = _device_of(model)
    out = np.empty(len(data), dtype=np.float64)
    for start in range(0, len(data), batch_size):
        stop = min(start + batch_size, len(data))
        showers = torch.from_numpy(data.showers[start:stop]).to(device)
        cond = torch.from_numpy(conditions[start:stop]).to(device)
        out[start:stop] = model.log_prob(showers, cond).double().cpu().numpy()
    return out


def _check_output(path: Path, *, force: bool) -> None:
    if path.suffix.lower() not in SCORE_FORMATS:
        msg = f"{path}: unknown output format {path.suffix!r}; choices are {list(SCORE_FORMATS)}"
        raise ValueError(msg)
    prepare_target(path, overwrite=force)


def write_scores(path: str | Path, scores: NDArray[np.float64], energies: NDArray[Any], *, force: bool = False) -> Path:
    """Writes one log-likelihood per shower.

    ``.h5``/``.hdf5``: datasets ``log_likelihood`` (N,) and ``incident_energies`` (N, 1) MeV;
    ``.npy``: the (N,) array; ``.csv``: columns ``index,incident_energy_mev,log_likelihood``.

    Raises:
        FileExistsError: ``path`` exists and ``force`` is false.
        ValueError: Unknown suffix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    _check_output(path, force=force)
    if suffix in {".npy", ".csv"}:
        with atomic_open(path, overwrite=force) as f:
            if suffix == ".npy":
                np.save(f, scores)
            else:
                rows = np.column_stack([np.arange(len(scores)), np.asarray(energies, dtype=np.float64).reshape(-1), scores])
                np.savetxt(
                    f,
                    rows,
                    delimiter=",",
                    header="index,incident_energy_mev,log_likelihood",
                    comments="",
                    fmt=["%d", "%.6g", "%.8g"],
                )
        return path
    from caloforge.data.h5output import H5Output

    with H5Output(path, overwrite=force) as out, out.guard():
        out.file.create_dataset("log_likelihood", data=scores)
        out.file.create_dataset("incident_energies", data=np.asarray(energies, dtype=np.float32).reshape(-1, 1))
        out.file.attrs["units"] = "nats"
    return path


def score_file(
    model: DensityModel,
    path: str | Path,
    out: str | Path,
    *,
    batch_size: int = 1000,
    chunk_size: int = 10_000,
    force: bool = False,
    progress: bool = True,
) -> NDArray[np.float64]:
    """Scores every shower of a CaloChallenge file and writes the log-likelihoods to ``out``.

    Arguments:
        model: A model with ``log_prob`` and a ``geometry``.
        path: Input shower file.
        out: Output file (``.h5``, ``.npy`` or ``.csv``).
        batch_size: Showers per ``log_prob`` call.
        chunk_size: Showers read from disk at a time.
        force: Overwrite ``out``.
        progress: Show a progress bar.

    Returns:
        The log-likelihoods, (N,), nats.

    Raises:
        FileExistsError: ``out`` exists and ``force`` is false (checked before any work).
        ValueError: Unknown output suffix (checked before any work).
        caloforge.data.ShowerFileError: Unreadable input or a geometry mismatch.
    """
    _check_output(Path(out), force=force)
    scores, energies = [], []
    with (
        ShowerFile(path, getattr(model, "geometry", None)) as f,
        tqdm(total=len(f), unit="shower", disable=not progress, desc="score") as bar,
    ):
        for chunk in f.iter_chunks(chunk_size):
            scores.append(score_showers(model, chunk, batch_size=batch_size))
            energies.append(chunk.energies)
            bar.update(len(chunk))
    result = np.concatenate(scores)
    write_scores(out, result, np.concatenate(energies), force=force)
    finite = np.isfinite(result)
    logger.info(
        "scored %d showers: mean log-likelihood %.2f nats (%d non-finite)",
        len(result),
        float(result[finite].mean()) if finite.any() else float("nan"),
        int((~finite).sum()),
    )
    return result

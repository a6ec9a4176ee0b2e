"""Scoring a shower file: per-shower log-likelihoods under a flow model, read and written chunk by chunk.

The file is streamed with :class:`caloforge.data.ShowerFile` (bounded memory), each chunk is scored
with :func:`caloforge.models.flows.score.score_showers`, and the result is written by
:func:`caloforge.data.scores.write_scores` (``.h5``, ``.npy`` or ``.csv``).

Example:
    >>> import numpy as np, tempfile, pathlib, torch
    >>> from caloforge.data import ShowerData, write_showers
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.models.flows import CaloFlow
    >>> g = Geometry.regular("toy", n_layers=3, n_alpha=2, r_edges=[0, 1, 2])
    >>> data = ShowerData(np.full(5, 1e3, np.float32), np.random.rand(5, 12).astype(np.float32) * 50, g)
    >>> model = CaloFlow(g, CaloFlow.smoke_config())
    >>> model.fit_preprocessing(torch.from_numpy(data.showers), torch.from_numpy(data.conditions()))
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> write_showers(tmp / "showers.h5", data)
    >>> score_file(model, tmp / "showers.h5", tmp / "scores.npy", chunk_size=2, progress=False).shape
    (5,)
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from tqdm.auto import tqdm

from caloforge.data import ShowerFile
from caloforge.data.scores import check_score_target, write_scores
from caloforge.models.flows.score import DensityModel, score_showers

__all__ = ["score_file"]

logger = logging.getLogger(__name__)


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
    check_score_target(out, overwrite=force)
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
    write_scores(out, result, np.concatenate(energies), overwrite=force)
    finite = np.isfinite(result)
    logger.info(
        "scored %d showers: mean log-likelihood %.2f nats (%d non-finite)",
        len(result),
        float(result[finite].mean()) if finite.any() else float("nan"),
        int((~finite).sum()),
    )
    return result

"""A latent KDE beside an exported model: written by the export, sampled by the ONNX Runtime producer.

A model that draws its latent from a :class:`~caloforge.nn.kde.LatentKDE` given the conditions
(its ``latent_kde_for_sampling()`` returns one, see :mod:`caloforge.models.latent_prior`) exports its ``decode``
with the latent as part of the ``noise`` input; the KDE sampling stays outside the graph. The export
writes the KDE's rows and bandwidths to ``<model>.kde.npz`` beside the ``.onnx`` and names that file
in the model card (``extra["latent_sampler"]``); :class:`KDESampler` reads it back with numpy only
and draws the latent exactly as the torch model does: a stored row with weight
∝ Π_j exp(−(c_j − c_ij)² / 2h_j²) over the context c = (log(E_inc / MeV) [, angle in rad]), plus
``h_z ⊙ ε``. The remaining noise columns are standard normal.

Example:
    >>> import numpy as np
    >>> points = np.array([[0.0, np.log(1e3)], [10.0, np.log(1e5)]], np.float32)
    >>> sampler = KDESampler(points, np.array([0.01, 0.1], np.float32), latent_dim=1)
    >>> z = sampler.noise(np.array([1e3, 1e5], np.float32), None, 3, np.random.default_rng(0))
    >>> z.shape, np.round(z[:, 0]).tolist()
    ((2, 3), [0.0, 10.0])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from caloforge.atomic import atomic_open, prepare_target

__all__ = ["CARD_KEY", "KDESampler", "LatentSamplerError", "kde_of", "sidecar_path", "write_kde"]

#: Key of the model card's ``extra`` naming the KDE file (relative to the model file's folder).
CARD_KEY = "latent_sampler"
#: Draws whose kernel weights are computed at once (a (chunk, rows) matrix).
_CHUNK = 1024


class LatentSamplerError(ValueError):
    """The KDE file beside an exported model is missing or unreadable; the message names it."""


def sidecar_path(model_path: str | Path) -> Path:
    """``model.onnx`` → ``model.kde.npz`` (same folder)."""
    path = Path(model_path)
    return path.with_name(path.stem + ".kde.npz")


def kde_of(model: Any) -> Any | None:
    """The fitted ``LatentKDE`` a model samples its latent from, or ``None`` (it decodes N(0, 1) noise)."""
    method = getattr(model, "latent_kde_for_sampling", None)
    return method() if callable(method) else None


def write_kde(kde: Any, path: str | Path, *, overwrite: bool = False) -> Path:
    """Writes a fitted ``LatentKDE``'s rows (N, d + k), bandwidths (d + k,) and ``latent_dim`` to ``path`` (.npz)."""
    path = prepare_target(path, overwrite=overwrite)
    arrays = {
        "points": kde.points.detach().cpu().numpy().astype(np.float32),
        "bandwidth": kde.bandwidth.detach().cpu().numpy().astype(np.float32),
        "latent_dim": np.asarray(int(kde.latent_dim)),
    }
    with atomic_open(path, "wb", overwrite=overwrite) as f:
        np.savez(f, **arrays)
    return path


@dataclass(frozen=True)
class KDESampler:
    """Samples latents from a conditional KDE with numpy.

    Attributes:
        points: Stored rows (N, d + k): latent, then context (log E_inc/MeV [, angle rad]).
        bandwidth: Kernel widths (d + k,).
        latent_dim: d.
    """

    points: NDArray[np.float32]
    bandwidth: NDArray[np.float32]
    latent_dim: int

    @classmethod
    def load(cls, path: str | Path) -> KDESampler:
        """Reads a file written by :func:`write_kde`.

        Raises:
            LatentSamplerError: Missing file, or not a KDE file of matching shapes.
        """
        try:
            with np.load(path, allow_pickle=False) as data:
                points, bandwidth = data["points"].astype(np.float32), data["bandwidth"].astype(np.float32)
                latent_dim = int(data["latent_dim"])
        except FileNotFoundError:
            msg = f"{path}: the latent KDE of the exported model is missing (export it again)"
            raise LatentSamplerError(msg) from None
        except (OSError, KeyError, ValueError) as err:
            msg = f"{path}: not a latent KDE file ({err})"
            raise LatentSamplerError(msg) from None
        if points.ndim != 2 or bandwidth.shape != (points.shape[1],) or not 0 < latent_dim <= points.shape[1]:
            msg = f"{path}: inconsistent latent KDE (rows {points.shape}, bandwidths {bandwidth.shape}, d={latent_dim})"
            raise LatentSamplerError(msg)
        return cls(points, bandwidth, latent_dim)

    @property
    def context_dim(self) -> int:
        """k: 1 (energy) or 2 (energy and angle)."""
        return int(self.points.shape[1]) - self.latent_dim

    def sample(
        self, energies: NDArray[np.float32], angles: NDArray[np.float32] | None, rng: np.random.Generator
    ) -> NDArray[np.float32]:
        """One latent (B, d) per incident energy (B,) MeV [and angle (B,) rad]."""
        context = np.log(np.asarray(energies, np.float64).reshape(-1, 1))
        if self.context_dim == 2:
            a = np.zeros_like(context) if angles is None else np.asarray(angles, np.float64).reshape(-1, 1)
            context = np.concatenate([context, a], axis=1)
        d, h = self.latent_dim, self.bandwidth.astype(np.float64)
        stored = self.points[:, d:].astype(np.float64) / h[d:]
        index = np.empty(len(context), np.int64)
        for start in range(0, len(context), _CHUNK):
            scaled = context[start : start + _CHUNK] / h[d:]
            log_w = -0.5 * ((scaled[:, None, :] - stored[None]) ** 2).sum(-1)
            w = np.exp(log_w - log_w.max(axis=1, keepdims=True))
            cdf = np.cumsum(w, axis=1)
            u = rng.random((len(scaled), 1)) * cdf[:, -1:]
            index[start : start + _CHUNK] = np.minimum((cdf < u).sum(axis=1), len(stored) - 1)
        eps = rng.standard_normal((len(context), d))
        return (self.points[index, :d] + self.bandwidth[:d] * eps).astype(np.float32)

    def noise(
        self, energies: NDArray[np.float32], angles: NDArray[np.float32] | None, noise_dim: int, rng: np.random.Generator
    ) -> NDArray[np.float32]:
        """Decode noise (B, noise_dim): the KDE latent, then standard-normal columns."""
        z = self.sample(energies, angles, rng)
        rest = rng.standard_normal((len(z), noise_dim - self.latent_dim), dtype=np.float32)
        return np.concatenate([z, rest], axis=1)

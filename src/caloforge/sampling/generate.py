"""In-memory generation from a model: :func:`generate`, a thin wrapper over :class:`ModelProducer`.

Files are written through :func:`caloforge.data.produce_to_file` with a
:class:`~caloforge.sampling.ModelProducer`; :func:`generate` gives the same showers in memory.

Example:
    >>> import numpy as np, torch
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.models import build_model
    >>> g = Geometry.regular("toy", n_layers=2, n_alpha=1, r_edges=[0, 1, 2])
    >>> model = build_model("wgan", g, {"latent_dim": 4, "generator_hidden": [8]})
    >>> model.fit_preprocessing(torch.rand(8, 4) * 100, torch.full((8, 1), 1e4))
    >>> data = generate(model, np.full(5, 1e4, dtype=np.float32), batch_size=2, seed=0)
    >>> data.showers.shape, bool((data.showers >= 0).all())
    ((5, 4), True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from numpy.typing import NDArray

from caloforge.data import Conditions, ShowerData, produce
from caloforge.sampling.producer import ModelProducer

if TYPE_CHECKING:
    from caloforge.models.base import GenerativeModel

__all__ = ["as_conditions", "generate"]


def as_conditions(
    model: GenerativeModel, conditions: Any, angles: NDArray[np.floating[Any]] | None = None
) -> Conditions:
    """:class:`~caloforge.data.Conditions` from energies (N,) MeV or raw conditions (N, C) (energy MeV [, angle rad]).

    Raises:
        ValueError: A number of columns the model does not take, or bad energies.
    """
    if isinstance(conditions, Conditions):
        return conditions if angles is None else Conditions(conditions.energies, angles, conditions.geometry)
    cond = np.asarray(conditions.cpu() if isinstance(conditions, torch.Tensor) else conditions, dtype=np.float32)
    if cond.ndim == 1:
        cond = cond[:, None]
    if angles is not None:
        cond = np.concatenate([cond[:, :1], np.asarray(angles, dtype=np.float32).reshape(-1, 1)], axis=1)
    if cond.ndim != 2 or cond.shape[1] != model.n_conditions:
        msg = (
            f"the model expects {model.n_conditions} condition column(s) (energy in MeV"
            f"{', angle in rad' if model.n_conditions > 1 else ''}), got an array of shape {cond.shape}"
        )
        raise ValueError(msg)
    return Conditions(cond[:, 0], cond[:, 1] if cond.shape[1] > 1 else None)


def generate(
    model: GenerativeModel,
    conditions: NDArray[np.floating[Any]] | torch.Tensor | Conditions,
    *,
    angles: NDArray[np.floating[Any]] | None = None,
    batch_size: int = 10_000,
    seed: int | None = None,
    device: str | torch.device = "auto",
    threshold: float = 0.0,
) -> ShowerData:
    """Generates one shower per row of ``conditions``, in memory.

    Arguments:
        model: A trained (fitted) model; it is moved to ``device`` and put in eval mode.
        conditions: Incident energies (N,) in MeV, raw conditions (N, C) (energy MeV [, angle rad]),
            or :class:`~caloforge.data.Conditions`.
        angles: Optional polar angles (N,) in rad, for angle-conditioned models.
        batch_size: Showers per forward pass.
        seed: Seed of the noise generator (``None``: a fresh one).
        device: ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"`` or a device.
        threshold: Voxels below this energy (MeV) are set to 0.

    Returns:
        Showers (N, n_voxels) in MeV ≥ 0, with the requested energies (and angles).

    Raises:
        ValueError: Wrong number of condition columns, non-positive energies, unfitted model.
    """
    producer = ModelProducer(model=model, batch_size=batch_size, device=device, threshold=threshold)
    run_seed = int(torch.seed() % 2**63) if seed is None else int(seed)
    return produce(producer, as_conditions(model, conditions, angles), run_seed)

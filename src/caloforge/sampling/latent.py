"""The latent glue between a trained VAE and data: encode a shower sample, fit a KDE latent sampler into a model.

:func:`encode_data` turns a :class:`~caloforge.data.ShowerData` into NumPy arrays of the posterior (what
:func:`caloforge.evaluation.latent.latent_diagnostics` takes). :func:`with_kde_sampler` returns a copy
of a VAE trained with the N(0, 1) prior that generates from a conditional KDE of its encoded training
latents instead (``latent_sampler: kde``); the weights are unchanged, so saving it gives a checkpoint
that ``caloforge generate`` samples through the KDE.

Example:
    >>> import torch
    >>> from caloforge.data import ShowerData
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.models import build_model
    >>> g = Geometry.regular("toy", n_layers=2, n_alpha=1, r_edges=[0, 1, 2])
    >>> vae = build_model("vae", g, {"latent_dim": 2, "hidden": [8]})
    >>> data = ShowerData(torch.full((40,), 1e4).numpy(), (torch.rand(40, 4) * 50).numpy(), g)
    >>> vae.fit_preprocessing(torch.as_tensor(data.showers), torch.as_tensor(data.conditions()))
    >>> encode_data(vae, data).z.shape
    (40, 2)
    >>> kde_vae = with_kde_sampler(vae, data)
    >>> kde_vae.config.latent_sampler, kde_vae.noise_dim
    ('kde', 2)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from caloforge.data import ShowerData
from caloforge.models.base import GenerativeModel
from caloforge.models.vae import VAE

__all__ = ["EncodedSample", "encode_data", "require_vae", "with_kde_sampler"]


@dataclass(frozen=True)
class EncodedSample:
    """Encoded showers as arrays.

    Attributes:
        mean: (N, d) mean of the Gaussian posterior (for an IAF posterior: of its base).
        log_var: (N, d) its log-variance.
        z: (N, d) one posterior draw per shower.
        log_q: (N,) log q(z|x) of the draws, nats.
        posterior: ``"gaussian"`` or ``"iaf"``.
    """

    mean: NDArray[np.float64]
    log_var: NDArray[np.float64]
    z: NDArray[np.float64]
    log_q: NDArray[np.float64]
    posterior: str


def require_vae(model: GenerativeModel, where: str) -> VAE:
    """``model`` as a :class:`~caloforge.models.vae.VAE`.

    Raises:
        ValueError: It is another family (only the VAE has an encoder to study).
    """
    if not isinstance(model, VAE):
        msg = f"{where} holds a {type(model).__name__} model; latent tools need a VAE (model 'vae')"
        raise ValueError(msg)  # noqa: TRY004  (a bad input file, reported like other bad inputs)
    return model


def _tensors(model: VAE, data: ShowerData) -> tuple[torch.Tensor, torch.Tensor]:
    conditions = data.conditions()
    if model.n_conditions == 1:
        conditions = conditions[:, :1]
    elif conditions.shape[1] < 2:
        msg = f"the VAE is conditioned on the incidence angle but the data ({len(data)} showers) has none"
        raise ValueError(msg)
    return torch.as_tensor(data.showers, dtype=torch.float32), torch.as_tensor(conditions, dtype=torch.float32)


def encode_data(model: VAE, data: ShowerData, *, seed: int = 0) -> EncodedSample:
    """Encodes every shower of ``data`` (one posterior draw each, from a generator seeded with ``seed``).

    Raises:
        caloforge.models.CheckpointError: The data's geometry is not the model's.
        ValueError: An angle-conditioned model and data without angles.
    """
    _check_geometry(model, data)
    showers, conditions = _tensors(model, data)
    generator = torch.Generator(device=model._device()).manual_seed(seed)
    encoded = model.encode_showers(showers, conditions, generator=generator)

    def arr(t: torch.Tensor) -> NDArray[np.float64]:
        return t.detach().cpu().double().numpy()

    return EncodedSample(arr(encoded.mean), arr(encoded.log_var), arr(encoded.z), arr(encoded.log_q), model.config.posterior)


def _check_geometry(model: VAE, data: ShowerData) -> None:
    if not model.geometry.same_binning(data.geometry):
        from caloforge.models.serialization import CheckpointError

        msg = (
            f"the model was trained on geometry {model.geometry.name!r} ({model.geometry.n_voxels} voxels), "
            f"not {data.geometry.name!r} ({data.geometry.n_voxels} voxels)"
        )
        raise CheckpointError(msg)


def with_kde_sampler(model: VAE, data: ShowerData, **kde: Any) -> VAE:
    """A copy of ``model`` that samples its latent from a KDE fitted on ``data`` (its training showers).

    Arguments:
        model: A trained VAE (any latent sampler; a KDE it has is refitted).
        data: The training showers (and their conditions).
        **kde: ``kde_max_points`` / ``kde_bandwidth_scale`` overrides of the config.

    Returns:
        The new model (same weights, ``latent_sampler: kde``, KDE fitted), in eval mode on the model's device.

    Raises:
        caloforge.models.CheckpointError: The data's geometry is not the model's.
        ValueError: Unknown overrides, or an angle-conditioned model and data without angles.
    """
    unknown = sorted(set(kde) - {"kde_max_points", "kde_bandwidth_scale"})
    if unknown:
        msg = f"unknown KDE settings {unknown}; choices are kde_max_points, kde_bandwidth_scale"
        raise ValueError(msg)
    _check_geometry(model, data)
    config = dataclasses.replace(model.config, latent_sampler="kde", **kde)
    new = VAE(model.geometry, config, n_conditions=model.n_conditions).to(model._device())
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("latent_kde.")}
    missing, unexpected = new.load_state_dict(state, strict=False)
    if unexpected or any(not k.startswith("latent_kde.") for k in missing):
        msg = f"cannot carry the weights over to a KDE-sampled VAE (missing {missing}, unexpected {unexpected})"
        raise RuntimeError(msg)
    new.eval()
    showers, conditions = _tensors(new, data)
    new.fit_after_training(showers, conditions)
    return new

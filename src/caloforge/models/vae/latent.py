"""The VAE's encoded showers as one typed object (what :meth:`caloforge.models.vae.VAE.encode_showers` returns)."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

__all__ = ["LatentEncoding"]


@dataclass
class LatentEncoding:
    """Encoded showers.

    Attributes:
        mean: Mean of the Gaussian q₀(z|x) (for an IAF posterior: of its base), (N, latent_dim).
        log_var: Its log-variance, (N, latent_dim).
        z: One posterior draw per shower (through the IAF steps where there are some), (N, latent_dim).
        log_q: log q(z|x) of that draw, (N,), nats.
    """

    mean: Tensor
    log_var: Tensor
    z: Tensor
    log_q: Tensor

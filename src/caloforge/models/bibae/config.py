"""Hyper-parameters of the BIB-AE with post-processor, as a frozen dataclass.

Example:
    >>> from caloforge.config import from_dict, to_dict
    >>> config = BIBAEConfig(latent_dim=8, noise_dim=16, latent_sampler="normal")
    >>> from_dict(BIBAEConfig, to_dict(config)) == config
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["BIBAEConfig", "LatentSampler"]

#: Where generation draws the encoded latent from: a KDE of the encoded training latents jointly with
#: the conditions (DESY's choice), or the N(0, 1) prior the encoder was regularised towards.
LatentSampler = Literal["kde", "normal"]


@dataclass(frozen=True)
class BIBAEConfig:
    """Configuration of :class:`caloforge.models.bibae.BIBAE`; mirrors its networks, phases and loss weights.

    Attributes:
        latent_dim: Width of the encoded latent (24 in arXiv:2005.05334).
        noise_dim: Pure-noise latent dimensions the decoder gets besides the encoded ones (never encoded).
        channels: Channels of the 3-D convolution blocks (encoder, critic); the decoder uses them reversed.
        hidden: Width of the dense layers (encoder head, decoder stem, critic head, dense fallback).
        post_hidden: Channels of the post-processor's 1×1×1 convolutions.
        energy_unit_mev: Cell energies enter the networks as ``log1p(E / energy_unit_mev)`` (scaled to about
            [0, 1]); well below the MIP so the MIP peak is resolved.
        n_critic: Critic steps per encoder/decoder step in the BIB-AE phase.
        bibae_steps: Training steps of the BIB-AE phase; later steps train the post-processor.
        critic_reset_every: The second pair critic is re-initialised every this many critic steps (the model
            sees steps, not epochs; a step count is resumable and independent of the data size).
        gp_weight: Gradient-penalty weight λ of the three WGAN-GP critics.
        adversarial_weight: Weight of the pair critic in the encoder/decoder loss (the reset critic has the same).
        latent_critic_weight: Weight of the latent critic (aggregate posterior against N(0, 1)).
        kld_weight: Weight of KL(q(z|x) ‖ N(0, 1)) (per latent dimension).
        mmd_weight: Weight of the latent MMD between encoded latents and N(0, 1) draws.
        energy_weight: Weight of the squared error of the reconstructed total energy / E_inc (both phases).
        hit_mmd_weight: Post-processor: weight of the MMD between the sorted hit energies of the batch.
        mmd_hits: Post-processor: the largest this many hit energies of a batch enter the hit MMD.
        cell_weight: Post-processor: weight of the sorted-cell loss (each cell's energies sorted over the
            batch, real against post-processed: the 1-D Wasserstein-2 distance per cell).
        latent_sampler: ``"kde"``: latents from a KDE of the encoded training latents and the conditions;
            ``"normal"``: from N(0, 1).
        kde_max_points: At most this many encoded training showers are kept in the KDE.
        kde_bandwidth_scale: Factor on the KDE's Scott's-rule bandwidths.
        lr: Recommended AdamW learning rate of the encoder/decoder and the post-processor.
        lr_critic: Recommended AdamW learning rate of the critics.
        betas: Adam betas of all groups.
    """

    latent_dim: int = 24
    noise_dim: int = 100
    channels: tuple[int, ...] = (16, 32)
    hidden: int = 256
    post_hidden: int = 32
    energy_unit_mev: float = 0.01
    n_critic: int = 3
    bibae_steps: int = 4000
    critic_reset_every: int = 200
    gp_weight: float = 10.0
    adversarial_weight: float = 1.0
    latent_critic_weight: float = 0.1
    kld_weight: float = 0.05
    mmd_weight: float = 1.0
    energy_weight: float = 10.0
    hit_mmd_weight: float = 10.0
    mmd_hits: int = 4096
    cell_weight: float = 10.0
    latent_sampler: LatentSampler = "kde"
    kde_max_points: int = 20_000
    kde_bandwidth_scale: float = 1.0
    lr: float = 5e-4
    lr_critic: float = 5e-4
    betas: tuple[float, float] = (0.5, 0.9)

    def __post_init__(self) -> None:
        if min(self.latent_dim, self.hidden, self.post_hidden, self.n_critic, self.mmd_hits) < 1:
            msg = "latent_dim, hidden, post_hidden, n_critic and mmd_hits must be at least 1"
            raise ValueError(msg)
        if self.noise_dim < 0 or self.bibae_steps < 0 or self.critic_reset_every < 1:
            msg = "noise_dim and bibae_steps must be non-negative and critic_reset_every at least 1"
            raise ValueError(msg)
        if not self.channels or min(self.channels) < 1:
            msg = f"channels must name at least one positive channel count, got {self.channels}"
            raise ValueError(msg)
        if self.energy_unit_mev <= 0:
            msg = f"energy_unit_mev must be positive, got {self.energy_unit_mev}"
            raise ValueError(msg)
        weights = (self.gp_weight, self.adversarial_weight, self.latent_critic_weight, self.kld_weight,
                   self.mmd_weight, self.energy_weight, self.hit_mmd_weight, self.cell_weight)
        if min(weights) < 0:
            msg = f"loss weights must be non-negative, got {weights}"
            raise ValueError(msg)
        if self.latent_sampler not in ("kde", "normal"):
            msg = f"latent_sampler must be 'kde' or 'normal', got {self.latent_sampler!r}"
            raise ValueError(msg)

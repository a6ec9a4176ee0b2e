"""Hyper-parameters of CaloGAN, as a frozen dataclass.

Example:
    >>> from caloforge.config import from_dict, to_dict
    >>> config = CaloGANConfig(latent_dim=16, stream_channels=4)
    >>> from_dict(CaloGANConfig, to_dict(config)) == config
    True
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MAX_LAYER_VOXELS", "CaloGANConfig"]

#: Largest number of voxels in one layer that CaloGAN accepts. Locally-connected layers hold
#: ``k² · C_in · C_out`` weights per voxel, so their size and cost grow with the layer; above this
#: (e.g. the 900-voxel layers of CaloChallenge dataset 3) use another family.
MAX_LAYER_VOXELS = 400


@dataclass(frozen=True)
class CaloGANConfig:
    """Configuration of :class:`caloforge.models.calogan.CaloGAN`.

    Attributes:
        latent_dim: Width of the standard-normal latent vector shared by all layer streams.
        stream_channels: Channels of each generator stream's locally-connected layers.
        stream_lc_layers: Locally-connected layers per generator stream (at least 1; the last maps
            to the single output channel).
        kernel_size: Odd kernel width of all locally-connected and convolutional layers.
        attention: Pass each layer's generated image to the next layer's stream (the paper's
            "locally aware" intra-layer transfer, a learned map plus a per-voxel sigmoid gate).
        disc_channels: Channels of each per-layer discriminator block.
        disc_features: Features each per-layer discriminator block emits.
        disc_hidden: Hidden widths of the discriminator head.
        minibatch_kernels: Number B of minibatch-discrimination kernels (0: none).
        minibatch_dim: Dimension C of each minibatch-discrimination kernel.
        occupancy_scale: Scale τ (in units of the layer's fitted voxel scale) of the soft
            occupancy feature ``mean(1 − exp(−x/τ))``, the differentiable sparsity of a layer.
        aux_weight: Weight of the auxiliary energy regression (discriminator estimates E_inc, on
            real and generated showers; the generator is pulled to the requested energy).
        energy_weight: Weight of the generator's total-energy term |Σ E_layers / E_inc − ρ|,
            ρ the mean response fitted on the training showers.
        voxel_threshold_mev: Generated voxels below this energy (MeV) are set to 0 (the
            readout threshold of the training data, e.g. 0.01515 for CaloChallenge).
        n_discriminator: Discriminator steps per generator step.
        lr_discriminator: Adam learning rate of the ``"discriminator"`` group.
        lr_generator: Adam learning rate of the ``"generator"`` group.
        betas: Adam betas of both groups.
    """

    latent_dim: int = 64
    stream_channels: int = 8
    stream_lc_layers: int = 2
    kernel_size: int = 3
    attention: bool = True
    disc_channels: int = 8
    disc_features: int = 32
    disc_hidden: tuple[int, ...] = (128, 64)
    minibatch_kernels: int = 10
    minibatch_dim: int = 5
    occupancy_scale: float = 0.01
    aux_weight: float = 0.1
    energy_weight: float = 0.1
    voxel_threshold_mev: float = 0.0
    n_discriminator: int = 1
    lr_discriminator: float = 1e-4
    lr_generator: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)

    def __post_init__(self) -> None:
        positive = {
            "latent_dim": self.latent_dim,
            "stream_channels": self.stream_channels,
            "stream_lc_layers": self.stream_lc_layers,
            "disc_channels": self.disc_channels,
            "disc_features": self.disc_features,
            "n_discriminator": self.n_discriminator,
            "minibatch_dim": self.minibatch_dim,
        }
        for name, value in positive.items():
            if value < 1:
                msg = f"{name} must be at least 1, got {value}"
                raise ValueError(msg)
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            msg = f"kernel_size must be a positive odd number, got {self.kernel_size}"
            raise ValueError(msg)
        if self.minibatch_kernels < 0:
            msg = f"minibatch_kernels must be non-negative, got {self.minibatch_kernels}"
            raise ValueError(msg)
        if self.occupancy_scale <= 0:
            msg = f"occupancy_scale must be positive, got {self.occupancy_scale}"
            raise ValueError(msg)
        if self.aux_weight < 0 or self.energy_weight < 0:
            msg = f"loss weights must be non-negative, got aux_weight={self.aux_weight}, "
            msg += f"energy_weight={self.energy_weight}"
            raise ValueError(msg)

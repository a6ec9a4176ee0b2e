"""Hyper-parameters of the WGAN-GP with an energy constrainer, as a frozen dataclass.

Example:
    >>> from caloforge.config import from_dict, to_dict
    >>> config = WGANConfig(latent_dim=16, n_critic=3)
    >>> from_dict(WGANConfig, to_dict(config)) == config
    True
"""

from __future__ import annotations

from dataclasses import dataclass

from caloforge.nn.mlp import Activation

__all__ = ["WGANConfig"]


@dataclass(frozen=True)
class WGANConfig:
    """Configuration of :class:`caloforge.models.gan.WGAN`; mirrors its networks, losses and schedule.

    Attributes:
        latent_dim: Width of the generator's standard-normal noise input.
        generator_hidden: Hidden widths of the dense generator. The last width dominates the
            generation cost (it multiplies ``n_voxels``).
        critic_hidden: Hidden widths of the dense critic.
        constrainer_hidden: Hidden widths of the energy-regression network.
        activation: Hidden activation of all three networks.
        critic_layer_features: Also feed the critic the (standardised) log energy fraction of each
            layer, computed differentiably from its voxel input.
        log_eps: Offset of the log transform of voxel energy fractions (voxel MeV / incident MeV);
            it sits below the smallest non-zero fraction so empty voxels form their own peak.
        min_std: Floor on the fitted per-voxel standard deviation in log space.
        voxel_threshold_mev: Generated voxels below this energy (MeV) are set to 0 (the readout
            threshold of the training data, e.g. 0.01515 for CaloChallenge).
        gp_weight: Weight λ of the gradient penalty.
        constrainer_weight: Weight κ of the generator's energy-mismatch penalty.
        n_critic: Critic (and constrainer) steps per generator step.
        lr_critic: Adam learning rate of the ``"critic"`` group (critic and constrainer).
        lr_generator: Adam learning rate of the ``"generator"`` group.
        betas: Adam betas of both groups (WGAN-GP's (0, 0.9) or (0.5, 0.9)).
    """

    latent_dim: int = 64
    generator_hidden: tuple[int, ...] = (256, 256)
    critic_hidden: tuple[int, ...] = (512, 256, 128)
    constrainer_hidden: tuple[int, ...] = (128, 64)
    activation: Activation = "leaky_relu"
    critic_layer_features: bool = True
    log_eps: float = 1e-8
    min_std: float = 0.1
    voxel_threshold_mev: float = 0.0
    gp_weight: float = 10.0
    constrainer_weight: float = 1.0
    n_critic: int = 5
    lr_critic: float = 1e-4
    lr_generator: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.9)

    def __post_init__(self) -> None:
        if self.n_critic < 1:
            msg = f"n_critic must be at least 1, got {self.n_critic}"
            raise ValueError(msg)
        if self.latent_dim < 1:
            msg = f"latent_dim must be at least 1, got {self.latent_dim}"
            raise ValueError(msg)
        if self.log_eps <= 0:
            msg = f"log_eps must be positive, got {self.log_eps}"
            raise ValueError(msg)
        if self.gp_weight < 0 or self.constrainer_weight < 0:
            msg = f"loss weights must be non-negative, got gp_weight={self.gp_weight}, "
            msg += f"constrainer_weight={self.constrainer_weight}"
            raise ValueError(msg)

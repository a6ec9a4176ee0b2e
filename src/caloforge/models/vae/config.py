"""Hyper-parameters of the conditional VAE, as a frozen dataclass.

Example:
    >>> from caloforge.config import from_dict, to_dict
    >>> config = VAEConfig(latent_dim=6, hidden=(64, 32))
    >>> from_dict(VAEConfig, to_dict(config)) == config
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from caloforge.nn.mlp import Activation

__all__ = ["VAEConfig"]


@dataclass(frozen=True)
class VAEConfig:
    """Configuration of :class:`caloforge.models.vae.VAE`; mirrors its networks, loss weights and preprocessing.

    Attributes:
        latent_dim: Width of the Gaussian latent space (10 in Geant4 Par04).
        hidden: Hidden widths of the encoder; the decoder uses them in reverse.
        activation: Hidden activation.
        layer_norm: Layer normalisation after each hidden activation.
        geometry_labels: Names of the detector geometries the model distinguishes; the model's own
            geometry is one-hot encoded among them (Par04 conditions on SiW vs SciPb this way).
            Empty: only the model's geometry (a constant label).
        beta: Weight β of the KL divergence (per voxel, see :meth:`VAE.loss`).
        energy_weight: Weight of the squared error of the total deposited energy / E_inc.
        layer_weight: Weight of the summed squared errors of the layer energies / E_inc.
        log_eps: Offset of ``log(x / E_inc + log_eps)``; below the smallest non-zero fraction so
            empty voxels form their own value.
        min_std: Floor on the fitted per-voxel standard deviation in log space.
        voxel_threshold_mev: Generated voxels below this energy (MeV) are set to 0.
        output_noise: Standard deviation of Gaussian noise added to the decoder output in
            standardised space when generating, i.e. sampling p(x|z) of the unit-variance likelihood
            (1.0) instead of returning its mean (0.0, Par04's deterministic decoding). The noise is
            part of :meth:`VAE.decode`'s input, which then has ``latent_dim + n_voxels`` columns.
            Caution: on CaloChallenge dataset 2 (Geant4 electrons), 1.0 improved the shape features
            but the heavy log-space tails made the total energy diverge; keep 0.0 unless evaluated.
        rescale_layers: Predict the energy fraction E_l / E_inc of every layer with a dedicated decoder
            head (squared error on standardised linear fractions, so that its mean is unbiased) and rescale the decoded voxels of each layer to it. The voxel
            decoder returns a log-space mean that smooths away sparse deposits and biases the
            response; the layer head restores the per-layer energies and their fluctuations.
        layer_weight_head: Weight of the layer head's squared error on standardised layer fractions.
        lr: Recommended AdamW learning rate.
        latent_sampler: Where generation draws the latent vector: ``"normal"``, the N(0, 1) prior;
            ``"kde"``, a conditional kernel density estimate (:class:`caloforge.nn.kde.LatentKDE`) of
            the encoded training latents jointly with the encoded conditions (log E_inc [, angle]),
            fitted after training (or later by ``caloforge latent --fit-sampler kde``) and stored in
            the checkpoint. The KDE adds one noise column (the row choice).
        kde_max_points: Rows the KDE keeps at most (a seeded random subset of the training latents).
        kde_bandwidth_scale: Factor on the KDE's Scott's-rule bandwidths.
        posterior: ``"gaussian"`` (diagonal Gaussian q(z|x), analytic KL) or ``"iaf"`` (the Gaussian
            followed by ``iaf_steps`` inverse autoregressive flow steps, Monte-Carlo KL
            ``log q(z|x) − log p(z)``; see :mod:`caloforge.models.vae.iaf`).
        iaf_steps: Number of IAF steps (with ``posterior="iaf"``).
        iaf_hidden: Hidden widths of each step's MADE.
        iaf_context: Width of the context vector h the encoder emits for the IAF steps.
    """

    latent_dim: int = 10
    hidden: tuple[int, ...] = (512, 256, 128)
    activation: Activation = "leaky_relu"
    layer_norm: bool = False
    geometry_labels: tuple[str, ...] = ()
    beta: float = 1.0
    energy_weight: float = 10.0
    layer_weight: float = 10.0
    log_eps: float = 1e-8
    min_std: float = 0.1
    voxel_threshold_mev: float = 0.0
    output_noise: float = 0.0
    rescale_layers: bool = True
    layer_weight_head: float = 1.0
    lr: float = 1e-3
    latent_sampler: Literal["normal", "kde"] = "normal"
    kde_max_points: int = 20_000
    kde_bandwidth_scale: float = 1.0
    posterior: Literal["gaussian", "iaf"] = "gaussian"
    iaf_steps: int = 2
    iaf_hidden: tuple[int, ...] = (64, 64)
    iaf_context: int = 16

    def __post_init__(self) -> None:
        if self.latent_dim < 1:
            msg = f"latent_dim must be at least 1, got {self.latent_dim}"
            raise ValueError(msg)
        if not self.hidden:
            msg = "hidden must name at least one hidden layer width"
            raise ValueError(msg)
        if min(self.beta, self.energy_weight, self.layer_weight) < 0:
            msg = f"loss weights must be non-negative, got beta={self.beta}, "
            msg += f"energy_weight={self.energy_weight}, layer_weight={self.layer_weight}"
            raise ValueError(msg)
        if self.output_noise < 0:
            msg = f"output_noise must be non-negative, got {self.output_noise}"
            raise ValueError(msg)
        if self.log_eps <= 0:
            msg = f"log_eps must be positive, got {self.log_eps}"
            raise ValueError(msg)
        if self.kde_max_points < 2 or not self.kde_bandwidth_scale > 0:
            msg = "kde_max_points must be at least 2 and kde_bandwidth_scale positive, got "
            msg += f"{self.kde_max_points} and {self.kde_bandwidth_scale}"
            raise ValueError(msg)
        if self.iaf_steps < 1 or self.iaf_context < 1 or not self.iaf_hidden:
            msg = "iaf_steps and iaf_context must be at least 1 and iaf_hidden non-empty, got "
            msg += f"{self.iaf_steps}, {self.iaf_context} and {self.iaf_hidden}"
            raise ValueError(msg)

"""CaloGAN: per-layer locally-connected generator streams, chained layer to layer, with energy losses.

Example:
    >>> import torch
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.models import ShowerBatch
    >>> g = Geometry.regular("toy", n_layers=3, n_alpha=4, r_edges=[0, 1, 2, 4, 8, 16])
    >>> model = CaloGAN(g, CaloGAN.smoke_config())
    >>> showers, conditions = torch.rand(16, 60) * 50, torch.full((16, 1), 1e4)
    >>> model.fit_preprocessing(showers, conditions)
    >>> [model.group_for_step(s) for s in range(3)]
    ['discriminator', 'generator', 'discriminator']
    >>> sorted(model.loss(ShowerBatch(showers, conditions), "generator").metrics)
    ['adversarial', 'aux_energy', 'total_energy']
    >>> model.sample(conditions[:4]).shape
    torch.Size([4, 60])
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from torch.func import functional_call

from caloforge.data.transforms import ConditionEncoder
from caloforge.geometry import Geometry
from caloforge.models.base import GenerativeModel, LossOutput, ShowerBatch
from caloforge.models.calogan.config import MAX_LAYER_VOXELS, CaloGANConfig
from caloforge.models.calogan.discriminator import Discriminator
from caloforge.models.calogan.generator import Generator
from caloforge.models.registry import MODELS

__all__ = ["CaloGAN"]

_bce = nn.functional.binary_cross_entropy_with_logits


def _layer_plan(geometry: Geometry) -> tuple[list[int], list[tuple[int, int]], list[bool]]:
    """Non-empty layers, their (rows, columns) and whether their rows wrap; refuses large layers."""
    too_big = [(i, n) for i, n in enumerate(geometry.layer_sizes) if n > MAX_LAYER_VOXELS]
    if too_big:
        layer, n = too_big[0]
        msg = (
            f"CaloGAN supports layers of at most {MAX_LAYER_VOXELS} voxels; geometry {geometry.name!r} has "
            f"{n} in layer {layer} ({len(too_big)} such layers): use another model family"
        )
        raise ValueError(msg)
    layers = [i for i, n in enumerate(geometry.layer_sizes) if n > 0]
    if not layers:
        msg = f"geometry {geometry.name!r} has no voxels"
        raise ValueError(msg)
    shapes = [geometry.layers[i].shape for i in layers]
    circular = [geometry.layers[i].kind == "cylindrical" and geometry.layers[i].n_alpha > 1 for i in layers]
    return layers, shapes, circular


@MODELS.register("calogan")
class CaloGAN(GenerativeModel):
    """CaloGAN, the first GAN for multi-layer calorimeter showers, on any geometry with small layers.

    Every non-empty layer has its own generator stream of locally-connected layers, fed the
    shared latent vector multiplied by the encoded incident energy; each stream also receives
    the previous layer's generated image through a learned, gated transfer (the paper's
    "locally aware" path); ReLU outputs make empty voxels exactly zero. A stream outputs the
    layer's voxel energies divided by E_inc and by a per-layer scale fitted on the training
    showers (the mean of the layer's largest voxel fraction), so :meth:`decode` returns MeV.

    Loss: the paper's, not WGAN-GP. The discriminator has minibatch discrimination, whose
    features couple the showers of a batch, so the per-sample gradient penalty of WGAN-GP is not
    defined for it; the paper's non-saturating cross-entropy loss is. Added to it, as in the paper:
    the discriminator's auxiliary regression of the incident energy (mean absolute error, trained
    on real and generated showers; the generator is pulled towards the requested energy) and the
    generator's total-energy term |Σ E_layers / E_inc − ρ| (the paper's |E_inc − Σ E_layers|,
    divided by E_inc and with the fitted mean response ρ, which is not 1 for sampling
    calorimeters). Training alternates ``n_discriminator`` ``"discriminator"`` steps and one
    ``"generator"`` step.

    Arguments:
        geometry: Readout geometry; no layer may hold more than
            :data:`~caloforge.models.calogan.config.MAX_LAYER_VOXELS` voxels.
        config: Hyper-parameters.
        n_conditions: 1 (energy) or 2 (energy and angle).

    Raises:
        ValueError: A layer of ``geometry`` is larger than the limit.

    References:
        Paganini, de Oliveira, Nachman, "Accelerating Science with Generative Adversarial Networks:
        An Application to 3D Particle Showers in Multilayer Calorimeters",
        https://arxiv.org/abs/1705.02355

        Paganini, de Oliveira, Nachman, "CaloGAN: Simulating 3D high energy particle showers in
        multilayer electromagnetic calorimeters with generative adversarial networks",
        https://arxiv.org/abs/1712.10321
    """

    config_class: ClassVar[type[CaloGANConfig]] = CaloGANConfig
    config: CaloGANConfig

    def __init__(self, geometry: Geometry, config: CaloGANConfig | None = None, *, n_conditions: int = 1) -> None:
        super().__init__(geometry, config, n_conditions=n_conditions)
        config = self.config
        layers, shapes, circular = _layer_plan(geometry)
        self.layer_slices = [geometry.layer_slice(i) for i in layers]
        self.condition_encoder = ConditionEncoder(n_conditions)
        #: Per non-empty layer: the unit of the stream output, as a fraction of E_inc.
        self.layer_scale: Tensor
        self.register_buffer("layer_scale", torch.ones(len(layers)))
        #: Mean total deposited energy / E_inc of the training showers (ρ).
        self.response: Tensor
        self.register_buffer("response", torch.ones(()))
        self.generator = Generator(
            shapes,
            config.latent_dim,
            n_conditions,
            config.stream_channels,
            config.stream_lc_layers,
            config.kernel_size,
            circular=circular,
            attention=config.attention,
        )
        self.discriminator = Discriminator(
            shapes,
            n_conditions,
            config.disc_channels,
            config.disc_features,
            config.disc_hidden,
            config.kernel_size,
            config.minibatch_kernels,
            config.minibatch_dim,
            config.occupancy_scale,
            circular=circular,
        )

    @classmethod
    def smoke_config(cls) -> CaloGANConfig:
        """A tiny configuration that trains in seconds (tests, ``--dry-run``)."""
        return CaloGANConfig(
            latent_dim=8,
            stream_channels=2,
            stream_lc_layers=1,
            disc_channels=2,
            disc_features=4,
            disc_hidden=(16,),
            minibatch_kernels=3,
            minibatch_dim=2,
        )

    # ------------------------------------------------------------------ preprocessing
    def fit_preprocessing(self, showers: Tensor, conditions: Tensor) -> None:
        """Fits the condition encoding, the per-layer output units, the response and the energy features.

        Arguments:
            showers: Training showers, (N, n_voxels), MeV.
            conditions: Raw conditions, (N, C).
        """
        showers, conditions = showers.float(), conditions.float()
        self.condition_encoder.fit(conditions)
        fractions = showers / conditions[:, :1]
        peaks = torch.stack([fractions[:, s].amax(dim=1).mean() for s in self.layer_slices])
        positive = peaks[peaks > 0]
        floor = float(positive.min()) if positive.numel() else 1.0
        self.layer_scale.copy_(torch.where(peaks > 0, peaks, torch.full_like(peaks, floor)))
        self.response.fill_(float(fractions.sum(dim=1).double().mean()))
        images = self._images(showers, conditions)
        self.discriminator.fit(self._layer_fractions(images))
        super().fit_preprocessing(showers, conditions)

    def _images(self, showers: Tensor, conditions: Tensor) -> list[Tensor]:
        """MeV showers (B, V) → per-layer images in model units (voxel / E_inc / layer scale)."""
        fractions = showers / conditions[:, :1]
        return [fractions[:, s] / self.layer_scale[i] for i, s in enumerate(self.layer_slices)]

    def _layer_fractions(self, images: list[Tensor]) -> Tensor:
        """Per-layer images → layer energies / E_inc, (B, n_layers)."""
        return torch.stack([x.sum(dim=1) * self.layer_scale[i] for i, x in enumerate(images)], dim=1)

    # ------------------------------------------------------------------ training
    def optimizer_groups(self) -> dict[str, list[nn.Parameter]]:
        """``"discriminator"`` and ``"generator"``: the two networks' parameters."""
        return {"discriminator": list(self.discriminator.parameters()), "generator": list(self.generator.parameters())}

    def optimizer_settings(self) -> dict[str, dict[str, Any]]:
        """Adam keyword arguments per optimizer group (learning rates and betas from the config)."""
        betas = tuple(self.config.betas)
        return {
            "discriminator": {"lr": self.config.lr_discriminator, "betas": betas},
            "generator": {"lr": self.config.lr_generator, "betas": betas},
        }

    def group_for_step(self, step: int) -> str:
        """``n_discriminator`` discriminator steps, then one generator step, repeating."""
        n = self.config.n_discriminator
        return "generator" if step % (n + 1) == n else "discriminator"

    def loss(self, batch: ShowerBatch, group: str = "discriminator") -> LossOutput:
        """Loss of ``group`` on a batch.

        ``"discriminator"``: BCE(real → 1) + BCE(fake → 0) + aux_weight·(|Ê_real − ê| + |Ê_fake − ê|).
        ``"generator"``: BCE(fake → 1) + aux_weight·|Ê_fake − ê| + energy_weight·|Σ E_l / E_inc − ρ|,
        with ê the encoded incident energy and Ê the discriminator's estimate of it.

        Raises:
            KeyError: Unknown group.
        """
        if group == "discriminator":
            return self._discriminator_loss(batch)
        if group == "generator":
            return self._generator_loss(batch)
        msg = f"unknown optimizer group {group!r}; choices are ['discriminator', 'generator']"
        raise KeyError(msg)

    def _discriminate(self, images: list[Tensor], encoded: Tensor, *, frozen: bool = False) -> tuple[Tensor, Tensor]:
        args = (images, self._layer_fractions(images), encoded)
        if not frozen:
            return self.discriminator(*args)  # type: ignore[no-any-return]
        params = {name: p.detach() for name, p in self.discriminator.named_parameters()}
        return functional_call(self.discriminator, params, args)  # type: ignore[no-any-return]

    def _discriminator_loss(self, batch: ShowerBatch) -> LossOutput:
        conditions = batch.conditions.float()
        encoded = self.condition_encoder(conditions)
        with torch.no_grad():
            fake = self._generate(self.sample_noise(len(batch), device=conditions.device), conditions, encoded)
        logit_real, e_real = self._discriminate(self._images(batch.showers.float(), conditions), encoded)
        logit_fake, e_fake = self._discriminate(fake, encoded)
        adversarial = _bce(logit_real, torch.ones_like(logit_real)) + _bce(logit_fake, torch.zeros_like(logit_fake))
        target = encoded[:, 0]
        aux = (e_real - target).abs().mean() + (e_fake - target).abs().mean()
        total = adversarial + self.config.aux_weight * aux
        metrics = {
            "adversarial": float(adversarial.detach()),
            "aux_energy": float(aux.detach()),
            "accuracy": float(((logit_real > 0).float().mean() + (logit_fake < 0).float().mean()).detach()) / 2,
        }
        return LossOutput(total, metrics)

    def _generator_loss(self, batch: ShowerBatch) -> LossOutput:
        conditions = batch.conditions.float()
        encoded = self.condition_encoder(conditions)
        fake = self._generate(self.sample_noise(len(batch), device=conditions.device), conditions, encoded)
        logit, estimate = self._discriminate(fake, encoded, frozen=True)
        adversarial = _bce(logit, torch.ones_like(logit))
        aux = (estimate - encoded[:, 0]).abs().mean()
        energy = (self._layer_fractions(fake).sum(dim=1) - self.response).abs().mean()
        total = adversarial + self.config.aux_weight * aux + self.config.energy_weight * energy
        metrics = {
            "adversarial": float(adversarial.detach()),
            "aux_energy": float(aux.detach()),
            "total_energy": float(energy.detach()),
        }
        return LossOutput(total, metrics)

    # ------------------------------------------------------------------ generation
    @property
    def noise_dim(self) -> int:
        """The latent width."""
        return self.config.latent_dim

    def _generate(self, noise: Tensor, conditions: Tensor, encoded: Tensor) -> list[Tensor]:
        """Per-layer images in model units, voxels below the readout threshold set to 0."""
        images = self.generator(noise, encoded)
        threshold = self.config.voxel_threshold_mev
        if threshold <= 0:
            return images  # type: ignore[no-any-return]
        energy = conditions[:, :1]
        return [
            torch.where(x * (self.layer_scale[i] * energy) > threshold, x, torch.zeros_like(x))
            for i, x in enumerate(images)
        ]

    def decode(self, conditions: Tensor, noise: Tensor) -> Tensor:
        """Generated showers.

        Arguments:
            conditions: Raw conditions, (B, C): incident energy in MeV [, angle in rad].
            noise: Standard-normal latent vectors, (B, latent_dim).

        Returns:
            Voxel energies, (B, n_voxels), MeV >= 0, CaloChallenge order (voxels of empty
            layers do not exist, so the non-empty layers' images concatenate to the flat vector).
        """
        conditions = conditions.float()
        images = self._generate(noise, conditions, self.condition_encoder(conditions))
        scaled = torch.cat([x * self.layer_scale[i] for i, x in enumerate(images)], dim=1)
        return scaled * conditions[:, :1]

    def extra_repr(self) -> str:
        """The config, shown by ``print(model)``."""
        return ", ".join(f"{f.name}={getattr(self.config, f.name)!r}" for f in dataclasses.fields(self.config))

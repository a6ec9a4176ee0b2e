"""WGAN-GP with an energy constrainer: the model, its preprocessing and its two-group training schedule.

Example:
    >>> import torch
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.models import ShowerBatch
    >>> g = Geometry.regular("toy", n_layers=3, n_alpha=4, r_edges=[0, 1, 2, 4, 8, 16])
    >>> model = WGAN(g, WGAN.smoke_config())
    >>> showers, conditions = torch.rand(16, 60) * 50, torch.full((16, 1), 1e4)
    >>> model.fit_preprocessing(showers, conditions)
    >>> [model.group_for_step(s) for s in range(3)]
    ['critic', 'generator', 'critic']
    >>> out = model.loss(ShowerBatch(showers, conditions), "critic")
    >>> sorted(out.metrics)
    ['constrainer', 'gradient_penalty', 'wasserstein']
    >>> model.sample(conditions[:4]).shape
    torch.Size([4, 60])
"""

from __future__ import annotations

import dataclasses
import logging
import math
from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from torch.func import functional_call

from caloforge.data.transforms import Compose, ConditionEncoder, EnergyScale, Log, Standardize
from caloforge.geometry import Geometry
from caloforge.models.base import GenerativeModel, LossOutput, ShowerBatch
from caloforge.models.gan.config import WGANConfig
from caloforge.models.gan.constrainer import Constrainer
from caloforge.models.gan.critic import Critic
from caloforge.models.gan.generator import Generator
from caloforge.models.gan.losses import critic_loss, generator_adversarial_loss, gradient_penalty
from caloforge.models.registry import MODELS

__all__ = ["WGAN"]

logger = logging.getLogger(__name__)

#: Batches from this size on generate with the standardisation folded into the output layer.
_FOLD_MIN_BATCH = 512


def _frozen_call(module: nn.Module, *args: Tensor) -> Tensor:
    """Calls ``module`` with detached parameters: gradients reach the inputs, never the module."""
    params = {name: p.detach() for name, p in module.named_parameters()}
    return functional_call(module, params, args)  # type: ignore[no-any-return]


@MODELS.register("wgan")
class WGAN(GenerativeModel):
    """Conditional Wasserstein GAN with gradient penalty and an energy constrainer.

    Voxels are modelled as standardised ``log(x / E_inc + log_eps)``; :meth:`decode` inverts this,
    setting voxels within log 2 of the empty-voxel peak or below ``voxel_threshold_mev`` to exactly
    0, so showers come out in MeV >= 0, in CaloChallenge order. Training alternates two optimizer groups through :meth:`group_for_step`:
    ``n_critic`` steps of ``"critic"`` (critic and constrainer parameters, one optimizer), then one
    step of ``"generator"``.

    The constrainer shares the critic's group because both learn from real showers on the same
    schedule and their losses touch disjoint parameters, so one Adam step on the sum is two
    independent updates; a separate group would take steps away from the critic. Each loss only
    produces gradients for its own group: the generator loss calls the critic and constrainer with
    detached parameters, and the critic loss generates fakes without gradient.

    Arguments:
        geometry: Readout geometry.
        config: Hyper-parameters.
        n_conditions: 1 (energy) or 2 (energy and angle).

    References:
        Buhmann et al., "Getting High: High Fidelity Simulation of High Granularity Calorimeters
        with High Speed", https://arxiv.org/abs/2005.05334

        Erdmann, Glombitza, Quast, "Precise simulation of electromagnetic calorimeter showers
        using a Wasserstein Generative Adversarial Network", https://arxiv.org/abs/1807.01954
    """

    config_class: ClassVar[type[WGANConfig]] = WGANConfig
    config: WGANConfig

    def __init__(self, geometry: Geometry, config: WGANConfig | None = None, *, n_conditions: int = 1) -> None:
        super().__init__(geometry, config, n_conditions=n_conditions)
        config = self.config
        n_voxels = geometry.n_voxels
        self.condition_encoder = ConditionEncoder(n_conditions)
        self.energy_scale = EnergyScale()
        self.voxel_norm = Compose(Log(eps=config.log_eps), Standardize(n_voxels, min_std=config.min_std))
        #: Per-voxel cap on generated log(fraction + eps): log 2 above the largest real value.
        self.log_max: Tensor
        self.register_buffer("log_max", torch.zeros(n_voxels))
        self.generator = Generator(
            n_voxels, config.latent_dim, n_conditions, config.generator_hidden, config.activation
        )
        self.critic = Critic(
            geometry,
            n_conditions,
            config.critic_hidden,
            config.activation,
            layer_features=config.critic_layer_features,
        )
        self.constrainer = Constrainer(geometry, config.constrainer_hidden, config.activation)

    @classmethod
    def smoke_config(cls) -> WGANConfig:
        """A tiny configuration that trains in seconds (tests, ``--dry-run``)."""
        return WGANConfig(
            latent_dim=8, generator_hidden=(32,), critic_hidden=(32,), constrainer_hidden=(16,), n_critic=1
        )

    # ------------------------------------------------------------------ preprocessing
    def fit_preprocessing(self, showers: Tensor, conditions: Tensor) -> None:
        """Fits the condition encoding, the voxel log-standardisation and the critic/constrainer inputs.

        Arguments:
            showers: Training showers, (N, n_voxels), MeV.
            conditions: Raw conditions, (N, C).
        """
        showers, conditions = showers.float(), conditions.float()
        self.condition_encoder.fit(conditions)
        fractions = self.energy_scale(showers, conditions)
        nonzero = fractions[fractions > 0]
        if nonzero.numel() and float(nonzero.min()) <= 2 * self.config.log_eps:
            logger.warning(
                "smallest non-zero voxel fraction %.3g is within log 2 of log_eps=%.3g: such voxels "
                "cannot be generated (lower log_eps)",
                float(nonzero.min()),
                self.config.log_eps,
            )
        self.voxel_norm.fit(fractions, conditions)
        self.log_max.copy_(torch.log(fractions.amax(dim=0) + self.config.log_eps) + math.log(2.0))
        self.critic.fit(fractions)
        self.constrainer.fit(showers)
        super().fit_preprocessing(showers, conditions)

    # ------------------------------------------------------------------ training
    def optimizer_groups(self) -> dict[str, list[nn.Parameter]]:
        """``"critic"``: critic and constrainer parameters; ``"generator"``: generator parameters."""
        critic = [*self.critic.parameters(), *self.constrainer.parameters()]
        return {"critic": critic, "generator": list(self.generator.parameters())}

    def optimizer_settings(self) -> dict[str, dict[str, Any]]:
        """Adam keyword arguments per optimizer group (learning rate and betas from the config)."""
        betas = tuple(self.config.betas)
        return {
            "critic": {"lr": self.config.lr_critic, "betas": betas},
            "generator": {"lr": self.config.lr_generator, "betas": betas},
        }

    def group_for_step(self, step: int) -> str:
        """``n_critic`` critic steps, then one generator step, repeating."""
        return "generator" if step % (self.config.n_critic + 1) == self.config.n_critic else "critic"

    def loss(self, batch: ShowerBatch, group: str = "critic") -> LossOutput:
        """Loss of ``group`` on a batch.

        ``"critic"``: E[D(fake)] - E[D(real)] + λ·GP + MSE of the constrainer on the real showers.
        ``"generator"``: -E[D(fake)] + κ·MSE between the requested and the constrained energy.

        Raises:
            KeyError: Unknown group.
        """
        if group == "critic":
            return self._critic_loss(batch)
        if group == "generator":
            return self._generator_loss(batch)
        msg = f"unknown optimizer group {group!r}; choices are ['critic', 'generator']"
        raise KeyError(msg)

    def _critic_loss(self, batch: ShowerBatch) -> LossOutput:
        conditions = batch.conditions.float()
        encoded = self.condition_encoder(conditions)
        with torch.no_grad():
            fake = self.generator(self.sample_noise(len(batch), device=conditions.device), encoded)
        real = self.voxel_norm(self.energy_scale(batch.showers.float(), conditions), conditions)

        def score(x: Tensor) -> Tensor:
            out: Tensor = self.critic(x, self._fractions(x), encoded)
            return out

        wasserstein = critic_loss(score(real), score(fake))
        penalty = gradient_penalty(score, real, fake)
        constrainer = torch.mean((self.constrainer(batch.showers.float()) - encoded[:, 0]) ** 2)
        total = wasserstein + self.config.gp_weight * penalty + constrainer
        metrics = {
            "wasserstein": -float(wasserstein.detach()),
            "gradient_penalty": float(penalty.detach()),
            "constrainer": float(constrainer.detach()),
        }
        return LossOutput(total, metrics)

    def _generator_loss(self, batch: ShowerBatch) -> LossOutput:
        conditions = batch.conditions.float()
        encoded = self.condition_encoder(conditions)
        fake = self.generator(self.sample_noise(len(batch), device=conditions.device), encoded)
        fractions = self._fractions(fake)
        adversarial = generator_adversarial_loss(_frozen_call(self.critic, fake, fractions, encoded))
        showers = self._fractions_to_mev(fractions, conditions)
        estimate = _frozen_call(self.constrainer, showers)
        mismatch = torch.mean((estimate - encoded[:, 0]) ** 2)
        total = adversarial + self.config.constrainer_weight * mismatch
        metrics = {
            "adversarial": float(adversarial.detach()),
            "energy_mismatch": float(mismatch.detach()),
        }
        return LossOutput(total, metrics)

    # ------------------------------------------------------------------ generation
    @property
    def noise_dim(self) -> int:
        """The generator's latent width."""
        return self.config.latent_dim

    def _fractions(self, y: Tensor) -> Tensor:
        """Differentiable: preprocessed voxels (B, V) → energy fractions, capped at ``log_max``.

        The cap keeps single voxels of an imperfect generator from exploding through the exp.
        """
        log_norm, standardize = self.voxel_norm.step(0, Log), self.voxel_norm.step(1, Standardize)
        log_fractions = torch.minimum(standardize.inverse(y, y), self.log_max)
        return log_norm.inverse(log_fractions, y)

    def _min_fractions(self, conditions: Tensor) -> Tensor:
        """Per-shower cut (B, 1): larger fractions are kept, smaller ones are empty voxels.

        A voxel is empty when its fraction is at most ``log_eps`` (within log 2 of the peak that
        empty voxels form in log space) or its energy at most ``voxel_threshold_mev``.
        """
        energy = conditions[:, :1] * self.energy_scale.scale
        return torch.clamp(self.config.voxel_threshold_mev / energy, min=self.config.log_eps)

    def _fractions_to_mev(self, fractions: Tensor, conditions: Tensor) -> Tensor:
        """Differentiable: voxel energy fractions (B, V) → MeV, empty voxels exactly 0."""
        kept = torch.where(fractions > self._min_fractions(conditions), fractions, 0.0)
        return self.energy_scale.inverse(kept, conditions)

    def decode(self, conditions: Tensor, noise: Tensor) -> Tensor:
        """Generated showers.

        Under autograd the generator output goes through the preprocessing inverse; without it
        (``torch.no_grad``, as in :meth:`sample`) the same map runs fused, see :meth:`_decode_fused`.

        Arguments:
            conditions: Raw conditions, (B, C): incident energy in MeV [, angle in rad].
            noise: Standard-normal latent vectors, (B, latent_dim).

        Returns:
            Voxel energies, (B, n_voxels), MeV >= 0, CaloChallenge order.
        """
        conditions = conditions.float()
        encoded = self.condition_encoder(conditions)
        if torch.is_grad_enabled() and any(p.requires_grad for p in self.generator.parameters()):
            fractions = self._fractions(self.generator(noise, encoded))
            return self._fractions_to_mev(fractions, conditions)
        with torch.no_grad():
            return self._decode_fused(conditions, encoded, noise)

    def _decode_fused(self, conditions: Tensor, encoded: Tensor, noise: Tensor) -> Tensor:
        """Generation with the preprocessing inverse fused into in-place passes (no autograd).

        For large batches the standardisation is folded into the output layer (W' = std·W,
        b' = std·b + mean), so the matrix product directly yields log(fraction + eps); small
        batches skip the folding, whose cost does not depend on B.
        """
        head = self.generator.head
        standardize = self.voxel_norm.step(1, Standardize)
        features = self.generator.features(noise, encoded)
        if features.shape[0] < _FOLD_MIN_BATCH:
            y = head(features).mul_(standardize.std).add_(standardize.mean)
        else:
            bias = head.bias * standardize.std + standardize.mean
            y = torch.addmm(bias, features, (head.weight * standardize.std[:, None]).T)
        return self._log_fractions_to_mev_(y.clamp_(max=self.log_max), conditions)

    def _log_fractions_to_mev_(self, y: Tensor, conditions: Tensor) -> Tensor:
        """In place: log(fraction + eps) (B, V) → MeV, empty voxels exactly 0 (ONNX-exportable ops)."""
        y = y.exp_().sub_(self.config.log_eps)
        empty = y <= self._min_fractions(conditions)
        return y.mul_(conditions[:, :1] * self.energy_scale.scale).masked_fill_(empty, 0.0)

    def extra_repr(self) -> str:
        """The config, shown by ``print(model)``."""
        return ", ".join(f"{f.name}={getattr(self.config, f.name)!r}" for f in dataclasses.fields(self.config))

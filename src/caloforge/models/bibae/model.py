"""BIB-AE: a conditional 3-D convolutional autoencoder trained by critics, a post-processor, KDE latents.

Example:
    >>> import torch
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.models import ShowerBatch
    >>> g = Geometry.regular("toy", n_layers=3, n_alpha=4, r_edges=[0, 1, 2, 4, 8, 16])
    >>> model = BIBAE(g, BIBAE.smoke_config())
    >>> showers, conditions = torch.rand(16, 60) * 50, torch.full((16, 1), 1e4)
    >>> model.fit_preprocessing(showers, conditions)
    >>> [model.group_for_step(s) for s in range(6)]
    ['critic', 'autoencoder', 'critic', 'autoencoder', 'post', 'post']
    >>> sorted(model.loss(ShowerBatch(showers, conditions), "post").metrics)
    ['cells', 'energy', 'hit_mmd']
    >>> model.fit_after_training(showers, conditions)
    >>> model.latent_kde.is_fitted, model.sample(conditions[:4]).shape
    (True, torch.Size([4, 60]))
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from torch.func import functional_call

from caloforge.data.transforms import ConditionEncoder
from caloforge.geometry import Geometry
from caloforge.models.base import GenerativeModel, LossOutput, ShowerBatch
from caloforge.models.bibae.config import BIBAEConfig
from caloforge.models.bibae.critics import LatentCritic, PairCritic, reset_parameters
from caloforge.models.bibae.losses import hit_energy_mmd, kl_divergence, latent_mmd, sorted_cell_loss
from caloforge.models.bibae.networks import ConvDecoder, ConvEncoder, DenseDecoder, DenseEncoder, PostProcessor
from caloforge.models.gan.losses import critic_loss, gradient_penalty
from caloforge.models.latent_prior import kde_context
from caloforge.models.registry import MODELS
from caloforge.nn.kde import LatentKDE

__all__ = ["BIBAE"]

logger = logging.getLogger(__name__)

#: Cells never exceed this value in network units (1 is the largest training cell) when decoded.
_Y_CAP = 1.5
#: Training showers encoded per pass when the latent KDE is fitted.
_ENCODE_CHUNK = 512
GROUPS = ("critic", "autoencoder", "post")


def _frozen(module: nn.Module, *args: Tensor) -> Tensor:
    """Calls ``module`` with detached parameters: gradients reach the inputs, never the module."""
    params = {name: p.detach() for name, p in module.named_parameters()}
    return functional_call(module, params, args)  # type: ignore[no-any-return]


@MODELS.register("bibae")
class BIBAE(GenerativeModel):
    """Bounded-Information-Bottleneck autoencoder with a post-processor and KDE latent sampling.

    Cells are modelled as ``y = log1p(E / energy_unit_mev) / s`` (``s`` fitted so the largest
    training cell is 1; empty cells are exactly 0 and the decoder's ReLU output keeps them so). On a
    regular geometry the encoder and decoder are 3-D convolutions over the (layers, α or x, r or y)
    grid, circular in α; otherwise dense MLPs. The decoder gets ``latent_dim`` encoded dimensions,
    ``noise_dim`` pure-noise dimensions and the encoded conditions.

    Training runs three optimizer groups in two phases (one trainer, one ``caloforge train``):

    * BIB-AE phase, steps ``< bibae_steps``: ``n_critic`` steps of ``"critic"`` — a WGAN-GP pair
      critic on ``(x, x)`` against ``(x, x̃)``, a second copy of it re-initialised every
      ``critic_reset_every`` critic steps (its Adam moments carry over), and a latent critic on
      N(0, 1) against encoded z — then one step of ``"autoencoder"`` (encoder and decoder): the
      two pair critics' and the latent critic's adversarial terms, KLD, latent MMD and the total
      energy; no pixel loss.
    * post-processor phase, later steps: ``"post"`` trains the 1×1×1-convolution post-processor on
      the frozen BIB-AE's reconstructions, on the MMD of the batch's sorted hit energies, the
      sorted-cell loss and the total energy.

    After training, :meth:`fit_after_training` encodes the training showers (posterior means) and
    fits a :class:`~caloforge.nn.kde.LatentKDE` of (z, log E_inc [, angle]) that generation
    samples z from given the conditions (``latent_sampler: kde``; ``normal``: N(0, 1)).

    Arguments:
        geometry: Readout geometry.
        config: Hyper-parameters.
        n_conditions: 1 (energy) or 2 (energy and angle).

    References:
        Buhmann et al., "Getting High: High Fidelity Simulation of High Granularity Calorimeters
        with High Speed", https://arxiv.org/abs/2005.05334

        Buhmann et al., "Hadrons, Better, Faster, Stronger", https://arxiv.org/abs/2112.09709

        Voloshynovskiy et al., "Information bottleneck through variational glasses",
        https://arxiv.org/abs/1912.00830
    """

    config_class: ClassVar[type[BIBAEConfig]] = BIBAEConfig
    config: BIBAEConfig

    def __init__(self, geometry: Geometry, config: BIBAEConfig | None = None, *, n_conditions: int = 1) -> None:
        super().__init__(geometry, config, n_conditions=n_conditions)
        c = self.config
        v = geometry.n_voxels
        self.condition_encoder = ConditionEncoder(n_conditions)
        self.y_scale: Tensor
        self.register_buffer("y_scale", torch.tensor(1.0))
        #: The smallest non-zero training cell, MeV: the readout threshold; generated cells below it are 0.
        self.hit_threshold_mev: Tensor
        self.register_buffer("hit_threshold_mev", torch.tensor(0.0))
        self.critic_steps: Tensor
        self.register_buffer("critic_steps", torch.zeros((), dtype=torch.long))
        shape = geometry.shape if geometry.is_regular else None
        circular = shape is not None and not geometry.is_cartesian and shape[1] > 1
        dec_in = c.latent_dim + c.noise_dim + n_conditions
        self.encoder: ConvEncoder | DenseEncoder
        self.decoder: ConvDecoder | DenseDecoder
        if shape is not None:
            kw: dict[str, Any] = {"circular": circular}
            self.encoder = ConvEncoder(shape, c.channels, c.hidden, n_conditions=n_conditions,
                                       out_features=2 * c.latent_dim, **kw)
            self.decoder = ConvDecoder(shape, c.channels, c.hidden, in_features=dec_in, **kw)
        else:
            logger.info("geometry %r has layers of unequal binning: BIB-AE falls back to dense networks", geometry.name)
            self.encoder = DenseEncoder(v, c.hidden, n_conditions=n_conditions, out_features=2 * c.latent_dim)
            self.decoder = DenseDecoder(v, c.hidden, in_features=dec_in)
        critic_kw: dict[str, Any] = {"n_conditions": n_conditions, "circular": circular, "n_cells": v}
        self.critic = PairCritic(shape, c.channels, c.hidden, **critic_kw)
        self.reset_critic = PairCritic(shape, c.channels, c.hidden, **critic_kw)
        self.latent_critic = LatentCritic(c.latent_dim, c.hidden)
        self.post = PostProcessor(n_conditions, c.post_hidden)
        self.latent_kde = LatentKDE(
            c.latent_dim, n_conditions, max_points=c.kde_max_points, bandwidth_scale=c.kde_bandwidth_scale
        )

    @classmethod
    def smoke_config(cls) -> BIBAEConfig:
        """A tiny configuration that trains in seconds (tests, ``--dry-run``): 4 BIB-AE steps, then post."""
        return BIBAEConfig(latent_dim=4, noise_dim=4, channels=(4,), hidden=16, post_hidden=8, n_critic=1,
                           bibae_steps=4, critic_reset_every=2, mmd_hits=256, kde_max_points=500)

    # ------------------------------------------------------------------ preprocessing
    def fit_preprocessing(self, showers: Tensor, conditions: Tensor) -> None:
        """Fits the condition encoding, the cell scale ``s`` (the largest training cell is 1) and the readout threshold.

        Arguments:
            showers: Training showers, (N, n_voxels), MeV.
            conditions: Raw conditions, (N, C).
        """
        showers, conditions = showers.float(), conditions.float()
        self.condition_encoder.fit(conditions)
        top = float(torch.log1p(showers.clamp_min(0).amax() / self.config.energy_unit_mev))
        self.y_scale.fill_(max(top, 1e-6))
        hits = showers[showers > 0]
        self.hit_threshold_mev.fill_(float(hits.min()) if hits.numel() else 0.0)
        super().fit_preprocessing(showers, conditions)

    def to_cells(self, showers: Tensor) -> Tensor:
        """MeV (B, V) → network units ``log1p(E / unit) / s``."""
        return torch.log1p(showers.float().clamp_min(0) / self.config.energy_unit_mev) / self.y_scale

    def to_mev(self, y: Tensor) -> Tensor:
        """Network units (B, V) ≥ 0 → MeV; empty cells stay exactly 0."""
        return (torch.exp(y.clamp(max=_Y_CAP) * self.y_scale) - 1.0) * self.config.energy_unit_mev  # exact 0 at y = 0

    # ------------------------------------------------------------------ networks
    def encode(self, y: Tensor, encoded: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior mean and log-variance (B, latent_dim) of cells ``y`` (B, V) given encoded conditions."""
        mu, log_var = self.encoder(y, encoded).chunk(2, dim=1)
        return mu, log_var.clamp(-12.0, 8.0)

    def _reconstruct(self, y: Tensor, encoded: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(z, mu, log_var, x̃): a posterior draw, fresh pure noise and the decoded cells."""
        mu, log_var = self.encode(y, encoded)
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
        noise = torch.randn(y.shape[0], self.config.noise_dim, device=y.device)
        return z, mu, log_var, self.decoder(torch.cat([z, noise, encoded], dim=1))

    def _post(self, y: Tensor, encoded: Tensor) -> Tensor:
        """The post-processor on decoded cells, conditioned on their energy sum and E_inc."""
        out: Tensor = self.post(y, self._energy_feature(y), encoded)
        return out

    def _energy_feature(self, y: Tensor) -> Tensor:
        """log of the shower's total energy in units of the cell unit, scaled like the cells (B, 1)."""
        total = self.to_mev(y).sum(1, keepdim=True)
        return torch.log(1.0 + total / self.config.energy_unit_mev) / self.y_scale  # log1p has no ONNX op

    def _energy_error(self, y_rec: Tensor, y: Tensor, conditions: Tensor) -> Tensor:
        """Mean squared error of the total energy divided by E_inc."""
        diff = (self.to_mev(y_rec).sum(1) - self.to_mev(y).sum(1)) / conditions[:, 0]
        return diff.square().mean()

    # ------------------------------------------------------------------ training
    def optimizer_groups(self) -> dict[str, list[nn.Parameter]]:
        """``"critic"``: the three critics; ``"autoencoder"``: encoder and decoder; ``"post"``: the post-processor."""
        critics = [*self.critic.parameters(), *self.reset_critic.parameters(), *self.latent_critic.parameters()]
        autoencoder = [*self.encoder.parameters(), *self.decoder.parameters()]
        return {"critic": critics, "autoencoder": autoencoder, "post": list(self.post.parameters())}

    def optimizer_settings(self) -> dict[str, dict[str, Any]]:
        """AdamW learning rates and betas per group from the config."""
        c, betas = self.config, tuple(self.config.betas)
        return {
            "critic": {"lr": c.lr_critic, "betas": betas},
            "autoencoder": {"lr": c.lr, "betas": betas},
            "post": {"lr": c.lr, "betas": betas},
        }

    def group_for_step(self, step: int) -> str:
        """``n_critic`` critic steps then one autoencoder step until ``bibae_steps``; then the post-processor."""
        c = self.config
        if step >= c.bibae_steps:
            return "post"
        return "autoencoder" if step % (c.n_critic + 1) == c.n_critic else "critic"

    def loss(self, batch: ShowerBatch, group: str = "critic") -> LossOutput:
        """Loss of ``group`` (``"critic"``, ``"autoencoder"`` or ``"post"``) on a batch; see the class docstring.

        Each loss produces gradients for its own group only: the critic loss reconstructs without
        gradient, the autoencoder loss calls the critics with detached parameters and the
        post-processor loss runs the BIB-AE without gradient.

        Raises:
            KeyError: Unknown group.
        """
        if group not in GROUPS:
            msg = f"unknown optimizer group {group!r}; choices are {list(GROUPS)}"
            raise KeyError(msg)
        conditions = batch.conditions.float()
        encoded = self.condition_encoder(conditions)
        y = self.to_cells(batch.showers)
        if group == "critic":
            return self._critic_loss(y, encoded)
        if group == "autoencoder":
            return self._autoencoder_loss(y, encoded, conditions)
        return self._post_loss(y, encoded, conditions)

    def _maybe_reset_critic(self) -> None:
        """Counts training critic steps; re-initialises the reset critic every ``critic_reset_every``."""
        if not self.training:
            return
        step = int(self.critic_steps)
        if step > 0 and step % self.config.critic_reset_every == 0:
            with torch.no_grad():
                reset_parameters(self.reset_critic)
        self.critic_steps.add_(1)

    def _critic_loss(self, y: Tensor, encoded: Tensor) -> LossOutput:
        self._maybe_reset_critic()
        with torch.no_grad():
            z, _, _, y_rec = self._reconstruct(y, encoded)
        real, fake = torch.cat([y, y], dim=1), torch.cat([y, y_rec], dim=1)
        v, c = y.shape[1], self.config
        terms = {}
        for name, critic in (("pair", self.critic), ("reset", self.reset_critic)):

            def score(pair: Tensor, critic: nn.Module = critic) -> Tensor:
                out: Tensor = critic(pair[:, :v], pair[:, v:], encoded)
                return out

            terms[name] = critic_loss(score(real), score(fake))
            terms[f"{name}_gp"] = gradient_penalty(score, real, fake)
        prior = torch.randn_like(z)
        terms["latent"] = critic_loss(self.latent_critic(prior), self.latent_critic(z))
        terms["latent_gp"] = gradient_penalty(self.latent_critic, prior, z)
        total = sum(c.gp_weight * t if name.endswith("_gp") else t for name, t in terms.items())
        assert isinstance(total, Tensor)
        return LossOutput(total, {k: float(t.detach()) for k, t in terms.items()})

    def _autoencoder_loss(self, y: Tensor, encoded: Tensor, conditions: Tensor) -> LossOutput:
        c = self.config
        z, mu, log_var, y_rec = self._reconstruct(y, encoded)
        adversarial = -(_frozen(self.critic, y, y_rec, encoded).mean() + _frozen(self.reset_critic, y, y_rec, encoded).mean())
        latent = -_frozen(self.latent_critic, z).mean()
        kld = kl_divergence(mu, log_var)
        mmd = latent_mmd(z, torch.randn_like(z))
        energy = self._energy_error(y_rec, y, conditions)
        total = (c.adversarial_weight * adversarial + c.latent_critic_weight * latent + c.kld_weight * kld
                 + c.mmd_weight * mmd + c.energy_weight * energy)
        metrics = {"adversarial": adversarial, "latent_adversarial": latent, "kld": kld, "mmd": mmd, "energy": energy}
        return LossOutput(total, {k: float(t.detach()) for k, t in metrics.items()})

    def _post_loss(self, y: Tensor, encoded: Tensor, conditions: Tensor) -> LossOutput:
        c = self.config
        with torch.no_grad():
            y_rec = self._reconstruct(y, encoded)[3]
        y_post = self._post(y_rec, encoded)
        hits = hit_energy_mmd(y, y_post, c.mmd_hits)
        cells = sorted_cell_loss(y, y_post)
        energy = self._energy_error(y_post, y, conditions)
        total = c.hit_mmd_weight * hits + c.cell_weight * cells + c.energy_weight * energy
        metrics = {"hit_mmd": hits, "cells": cells, "energy": energy}
        return LossOutput(total, {k: float(t.detach()) for k, t in metrics.items()})

    # ------------------------------------------------------------------ latent sampler
    def fit_after_training(self, showers: Tensor, conditions: Tensor) -> None:
        """Fits the latent KDE on the posterior means of the training showers (``latent_sampler: kde``).

        Arguments:
            showers: Training showers, (N, n_voxels), MeV.
            conditions: Their raw conditions, (N, C).
        """
        if self.config.latent_sampler != "kde":
            return
        parts = []
        with torch.no_grad():
            for start in range(0, showers.shape[0], _ENCODE_CHUNK):
                cond = conditions[start : start + _ENCODE_CHUNK].float()
                y = self.to_cells(showers[start : start + _ENCODE_CHUNK])
                parts.append(self.encode(y, self.condition_encoder(cond))[0])
        self.latent_kde.fit(torch.cat(parts), kde_context(conditions), seed=0)
        logger.info("fitted the latent KDE on %d encoded training showers", int(self.latent_kde.points.shape[0]))

    def latent_kde_for_sampling(self) -> LatentKDE | None:
        """The KDE that generation draws the first ``latent_dim`` noise columns from (``None``: N(0, 1))."""
        return self.latent_kde if self.config.latent_sampler == "kde" and self.latent_kde.is_fitted else None

    # ------------------------------------------------------------------ generation
    @property
    def noise_dim(self) -> int:
        """Encoded latent dimensions, then pure-noise dimensions."""
        return self.config.latent_dim + self.config.noise_dim

    def decode(self, conditions: Tensor, noise: Tensor) -> Tensor:
        """Generated showers: decoder, post-processor, inverse cell transform, readout threshold (the smallest training hit).

        Arguments:
            conditions: Raw conditions, (B, C): incident energy in MeV [, angle in rad].
            noise: (B, noise_dim): the latent (KDE or N(0, 1) draws), then standard-normal pure noise.

        Returns:
            Voxel energies, (B, n_voxels), MeV ≥ 0, CaloChallenge order.
        """
        conditions = conditions.float()
        encoded = self.condition_encoder(conditions)
        y = self.decoder(torch.cat([noise.float(), encoded], dim=1))
        showers = self.to_mev(self._post(y, encoded))
        return torch.where(showers >= self.hit_threshold_mev, showers, torch.zeros_like(showers))

    def extra_repr(self) -> str:
        """The config, shown by ``print(model)``."""
        return ", ".join(f"{f.name}={getattr(self.config, f.name)!r}" for f in dataclasses.fields(self.config))


"""Conditional VAE with dense encoder and decoder, β-weighted KL and energy-conservation terms.

Example:
    >>> import torch
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.models import ShowerBatch
    >>> g = Geometry.regular("toy", n_layers=3, n_alpha=4, r_edges=[0, 1, 2, 4, 8, 16])
    >>> model = VAE(g, VAE.smoke_config())
    >>> showers, conditions = torch.rand(16, 60) * 50, torch.full((16, 1), 1e4)
    >>> model.fit_preprocessing(showers, conditions)
    >>> sorted(model.loss(ShowerBatch(showers, conditions)).metrics)
    ['kl', 'layer_energy', 'layer_head', 'reconstruction', 'total_energy']
    >>> model.sample(conditions[:4]).shape
    torch.Size([4, 60])
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch
from torch import Tensor

from caloforge.data.transforms import Compose, ConditionEncoder, EnergyScale, LayerSum, Log, Standardize
from caloforge.geometry import Geometry
from caloforge.models.base import GenerativeModel, LossOutput, ShowerBatch
from caloforge.models.latent_prior import kde_context
from caloforge.models.registry import MODELS
from caloforge.models.vae.config import VAEConfig
from caloforge.models.vae.iaf import IAFPosterior, gaussian_log_prob
from caloforge.models.vae.latent import LatentEncoding
from caloforge.nn.kde import LatentKDE
from caloforge.nn.mlp import MLP

__all__ = ["VAE"]

#: Largest log energy fraction used inside the loss (a voxel never holds e² times E_inc).
_MAX_LOG_FRACTION = 2.0
#: Showers encoded at once by :meth:`VAE.encode_showers`.
_ENCODE_CHUNK = 2048


@MODELS.register("vae")
class VAE(GenerativeModel):
    """Conditional variational autoencoder in the spirit of the Geant4 Par04 example model.

    Each voxel is modelled as ``log(x / E_inc + log_eps)``, standardised per voxel with fitted
    buffers. The log compresses the six orders of magnitude between the shower core and the
    threshold-level halo, so a Gaussian (squared-error) reconstruction loss is meaningful for every
    voxel; empty voxels all map to ``log(log_eps)``, and the exact inverse (clamped at 0, then the
    readout threshold) makes :meth:`decode` return MeV in CaloChallenge order.

    The encoder sees the standardised voxels and the conditions; the decoder sees a latent vector
    and the conditions. Conditions are the log-scaled incident energy, the scaled angle (when
    ``n_conditions == 2``) and a one-hot geometry label among ``config.geometry_labels``.

    The loss per shower (all terms per voxel, so that β = 1 is the ELBO of a unit-variance
    Gaussian likelihood in standardised space):

    * reconstruction ``0.5 · mean_v (ŷ_v − y_v)²``;
    * ``β · KL(q(z|x) ‖ N(0, 1)) / n_voxels`` (analytic for the Gaussian posterior; the one-draw
      estimate ``log q(z|x) − log p(z)`` for the IAF posterior, ``posterior: iaf``);
    * ``energy_weight · (Σ_v x̂_v − Σ_v x_v)² / E_inc²`` (total deposited energy);
    * ``layer_weight · Σ_l (Ê_l − E_l)² / E_inc²`` (energy per layer), as in the ATLAS VAE.

    Generation decodes ``z ~ N(0, 1)`` (or, with ``latent_sampler: kde``, a draw of the conditional
    KDE of the training latents given (log E_inc [, angle]), :meth:`sample_noise_given`, as the BIB-AE
    does; the exported graph then takes the latent as input and ONNX Runtime draws it from the KDE
    written beside the model, :mod:`caloforge.export.latent_sampler`) and, with ``output_noise > 0``,
    adds ``output_noise · ε`` (ε ~ N(0, 1) per voxel) to the decoded standardised voxels, sampling the
    likelihood rather than returning its mean.

    Arguments:
        geometry: Readout geometry.
        config: Hyper-parameters.
        n_conditions: 1 (energy) or 2 (energy and angle).

    Raises:
        ValueError: If ``config.geometry_labels`` is given and lacks the geometry's name.

    References:
        Kingma, Welling, "Auto-Encoding Variational Bayes", https://arxiv.org/abs/1312.6114

        Geant4 extended example Par04 (VAE fast simulation; latent size 10, conditioned on energy,
        angle and geometry), https://geant4-userdoc.web.cern.ch/Doxygen/examples_doc/html/ExamplePar04.html

        ATLAS Collaboration, "Deep generative models for fast shower simulation in ATLAS",
        ATL-SOFT-PUB-2018-001, https://cds.cern.ch/record/2630433
    """

    config_class: ClassVar[type[VAEConfig]] = VAEConfig
    config: VAEConfig

    def __init__(self, geometry: Geometry, config: VAEConfig | None = None, *, n_conditions: int = 1) -> None:
        super().__init__(geometry, config, n_conditions=n_conditions)
        config = self.config
        labels = config.geometry_labels or (geometry.name,)
        if geometry.name not in labels:
            msg = f"geometry {geometry.name!r} is not among geometry_labels {list(labels)}"
            raise ValueError(msg)
        n_voxels = geometry.n_voxels
        self.condition_encoder = ConditionEncoder(n_conditions)
        self.energy_scale = EnergyScale()
        self.voxel_norm = Compose(Log(eps=config.log_eps), Standardize(n_voxels, min_std=config.min_std))
        label = torch.zeros(len(labels))
        label[labels.index(geometry.name)] = 1.0
        self.geometry_label: Tensor
        self.register_buffer("geometry_label", label)
        self.layer_sum = LayerSum(geometry)
        self.layer_norm = Standardize(geometry.n_layers, min_std=1e-4)
        n_cond = n_conditions + len(labels)
        hidden = tuple(config.hidden)
        kwargs: dict[str, Any] = {"activation": config.activation, "layer_norm": config.layer_norm}
        iaf = config.posterior == "iaf"
        n_out = 2 * config.latent_dim + (config.iaf_context if iaf else 0)
        self.encoder = MLP(n_voxels + n_cond, n_out, hidden, **kwargs)
        self.iaf = (
            IAFPosterior(config.latent_dim, config.iaf_context, config.iaf_steps, config.iaf_hidden) if iaf else None
        )
        self.latent_kde = (
            LatentKDE(
                config.latent_dim, n_conditions, max_points=config.kde_max_points,
                bandwidth_scale=config.kde_bandwidth_scale,
            )
            if config.latent_sampler == "kde"
            else None
        )
        self.decoder = MLP(config.latent_dim + n_cond, n_voxels, hidden[::-1], **kwargs)
        self.layer_decoder = (
            MLP(config.latent_dim + n_cond, geometry.n_layers, hidden[::-1], **kwargs) if config.rescale_layers else None
        )

    @classmethod
    def smoke_config(cls) -> VAEConfig:
        """A tiny configuration that trains in seconds (tests, ``--dry-run``)."""
        return VAEConfig(latent_dim=4, hidden=(32, 16))

    # ------------------------------------------------------------------ preprocessing
    def fit_preprocessing(self, showers: Tensor, conditions: Tensor) -> None:
        """Fits the condition encoding and the per-voxel log standardisation.

        Arguments:
            showers: Training showers, (N, n_voxels), MeV.
            conditions: Raw conditions, (N, C).
        """
        showers, conditions = showers.float(), conditions.float()
        self.condition_encoder.fit(conditions)
        fractions = self.energy_scale(showers, conditions)
        self.voxel_norm.fit(fractions, conditions)
        self.layer_norm.fit(self.layer_sum(fractions), conditions)
        super().fit_preprocessing(showers, conditions)

    def _condition_features(self, conditions: Tensor) -> Tensor:
        """(B, C) raw → (B, C + n_labels) network conditions."""
        encoded = self.condition_encoder(conditions)
        return torch.cat([encoded, self.geometry_label.expand(encoded.shape[0], -1)], dim=1)

    # ------------------------------------------------------------------ training
    def optimizer_settings(self) -> dict[str, dict[str, Any]]:
        """The recommended learning rate of the single group ``"main"``."""
        return {"main": {"lr": self.config.lr}}

    def encode(self, y: Tensor, features: Tensor) -> tuple[Tensor, Tensor]:
        """Mean and log-variance (B, latent_dim) of the Gaussian q₀(z|x) of standardised voxels ``y`` (B, n_voxels)."""
        mu, log_var, _ = self._encode(y, features)
        return mu, log_var

    def _encode(self, y: Tensor, features: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Mean, log-variance and IAF context (B, iaf_context; empty for a Gaussian posterior)."""
        d = self.config.latent_dim
        out = self.encoder(torch.cat([y, features], dim=1))
        return out[:, :d], out[:, d : 2 * d].clamp(-12.0, 8.0), out[:, 2 * d :]

    def _posterior_draw(self, y: Tensor, features: Tensor, eps: Tensor) -> LatentEncoding:
        """A posterior draw z (through the IAF steps, if any) and log q(z|x), from base noise ``eps`` (B, d)."""
        mu, log_var, context = self._encode(y, features)
        z = mu + torch.exp(0.5 * log_var) * eps
        log_q = gaussian_log_prob(z, mu, log_var)
        if self.iaf is not None:
            z, log_q = self.iaf(z, log_q, context)
        return LatentEncoding(mu, log_var, z, log_q)

    @torch.no_grad()
    def encode_showers(
        self, showers: Tensor, conditions: Tensor, *, generator: torch.Generator | None = None
    ) -> LatentEncoding:
        """Encodes showers in chunks: the posterior's parameters and one draw per shower.

        Arguments:
            showers: (N, n_voxels), MeV.
            conditions: Raw conditions, (N, C).
            generator: Generator of the posterior draws, on the model's device (None: torch's global RNG).

        Returns:
            A :class:`~caloforge.models.vae.latent.LatentEncoding` on the model's device.
        """
        device = self._device()
        parts = []
        for start in range(0, showers.shape[0], _ENCODE_CHUNK):
            x = showers[start : start + _ENCODE_CHUNK].to(device).float()
            c = conditions[start : start + _ENCODE_CHUNK].to(device).float()
            features = self._condition_features(c)
            y = self.voxel_norm(self.energy_scale(x, c), c)
            eps = torch.randn(x.shape[0], self.config.latent_dim, generator=generator, device=device)
            parts.append(self._posterior_draw(y, features, eps))
        fields = ("mean", "log_var", "z", "log_q")
        return LatentEncoding(*(torch.cat([getattr(p, f) for p in parts]) for f in fields))

    def fit_after_training(self, showers: Tensor, conditions: Tensor) -> None:
        """Fits the latent KDE (``latent_sampler: kde``) on one posterior draw per training shower.

        The draws come from a generator seeded with 0; the KDE's context is
        :func:`~caloforge.models.latent_prior.kde_context` of the conditions (log E_inc [, angle]).
        With the N(0, 1) prior there is nothing to fit.

        Arguments:
            showers: Training showers, (N, n_voxels), MeV.
            conditions: Raw conditions, (N, C).
        """
        if self.latent_kde is None:
            return
        generator = torch.Generator(device=self._device()).manual_seed(0)
        encoded = self.encode_showers(showers, conditions, generator=generator)
        self.latent_kde.fit(encoded.z, kde_context(conditions).to(encoded.z.device), seed=0)

    def latent_kde_for_sampling(self) -> LatentKDE | None:
        """The KDE that generation draws the latent (the first ``latent_dim`` noise columns) from; ``None``: N(0, 1).

        Raises:
            RuntimeError: ``latent_sampler: kde`` and the KDE was never fitted.
        """
        if self.latent_kde is None:
            return None
        if not self.latent_kde.is_fitted:
            msg = (
                "the VAE samples its latent from a KDE (latent_sampler: kde) that was never fitted; fit it with "
                "`caloforge latent --checkpoint CKPT --fit-sampler kde --data TRAIN.h5 --save NEW.pt`"
            )
            raise RuntimeError(msg)
        return self.latent_kde

    def loss(self, batch: ShowerBatch, group: str = "main") -> LossOutput:
        """Negative ELBO (β-weighted) plus total- and layer-energy terms; see the class docstring.

        Raises:
            KeyError: Unknown group.
        """
        if group != "main":
            msg = f"unknown optimizer group {group!r}; choices are ['main']"
            raise KeyError(msg)
        c = self.config
        conditions = batch.conditions.float()
        fractions = self.energy_scale(batch.showers.float(), conditions)
        y = self.voxel_norm(fractions, conditions)
        features = self._condition_features(conditions)
        if self.iaf is None:
            mu, log_var = self.encode(y, features)
            z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
            kl = torch.mean(-0.5 * torch.sum(1 + log_var - mu**2 - log_var.exp(), dim=1)) / self.geometry.n_voxels
        else:
            draw = self._posterior_draw(y, features, torch.randn(y.shape[0], c.latent_dim, device=y.device))
            z = draw.z
            kl = torch.mean(draw.log_q - gaussian_log_prob(z)) / self.geometry.n_voxels
        zc = torch.cat([z, features], dim=1)
        y_hat = self.decoder(zc)
        reconstruction = 0.5 * torch.mean((y_hat - y) ** 2)
        log_norm, standardize = self.voxel_norm.step(0, Log), self.voxel_norm.step(1, Standardize)
        log_fraction = (y_hat * standardize.std + standardize.mean).clamp(max=_MAX_LOG_FRACTION)
        fractions_hat = torch.relu(torch.exp(log_fraction) - log_norm.eps)
        layers_hat, layers = self.layer_sum(fractions_hat), self.layer_sum(fractions)
        total_energy = torch.mean((layers_hat.sum(1) - layers.sum(1)) ** 2)
        layer_energy = torch.mean(torch.sum((layers_hat - layers) ** 2, dim=1))
        loss = reconstruction + c.beta * kl + c.energy_weight * total_energy + c.layer_weight * layer_energy
        metrics = {}
        if self.layer_decoder is not None:
            layer_head = 0.5 * torch.mean((self.layer_decoder(zc) - self.layer_norm(layers, conditions)) ** 2)
            loss = loss + c.layer_weight_head * layer_head
            metrics["layer_head"] = float(layer_head.detach())
        metrics |= {
            "reconstruction": float(reconstruction.detach()),
            "kl": float(kl.detach()),
            "total_energy": float(total_energy.detach()),
            "layer_energy": float(layer_energy.detach()),
        }
        return LossOutput(loss, metrics)

    # ------------------------------------------------------------------ generation
    @property
    def noise_dim(self) -> int:
        """The latent width, plus one column per voxel when ``output_noise > 0``."""
        extra = self.geometry.n_voxels if self.config.output_noise > 0 else 0
        return self.config.latent_dim + extra

    def decode(self, conditions: Tensor, noise: Tensor) -> Tensor:
        """Generated showers.

        Arguments:
            conditions: Raw conditions, (B, C): incident energy in MeV [, angle in rad].
            noise: (B, noise_dim): the latent vector (N(0, 1) draws, or KDE draws from
                :meth:`sample_noise_given`), then (with ``output_noise > 0``) one standard-normal
                value per voxel.

        Returns:
            Voxel energies, (B, n_voxels), MeV ≥ 0, CaloChallenge order.
        """
        conditions, noise = conditions.float(), noise.float()
        latent = noise[:, : self.config.latent_dim]
        zc = torch.cat([latent, self._condition_features(conditions)], dim=1)
        y = self.decoder(zc)
        if self.config.output_noise > 0:
            y = y + self.config.output_noise * noise[:, self.config.latent_dim :]
        log_norm, standardize = self.voxel_norm.step(0, Log), self.voxel_norm.step(1, Standardize)
        log_fraction = (y * standardize.std + standardize.mean).clamp(max=_MAX_LOG_FRACTION)
        fractions = torch.relu(torch.exp(log_fraction) - log_norm.eps)
        if self.layer_decoder is not None:
            target = torch.relu(self.layer_norm.inverse(self.layer_decoder(zc), conditions))
            sums = self.layer_sum(fractions)
            ratio = torch.where(sums > 1e-12, target / sums.clamp_min(1e-12), torch.zeros_like(sums))
            fractions = fractions * self.layer_sum.spread(ratio)
        showers = self.energy_scale.inverse(fractions, conditions)
        threshold = max(self.config.voxel_threshold_mev, 0.0)
        return torch.where(showers > threshold, showers, torch.zeros_like(showers))

    def extra_repr(self) -> str:
        """The config, shown by ``print(model)``."""
        return ", ".join(f"{f.name}={getattr(self.config, f.name)!r}" for f in dataclasses.fields(self.config))

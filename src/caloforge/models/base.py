"""The one interface every generative model implements, and the objects passed through it.

A model learns p(shower | conditions). It owns its (fitted, invertible) preprocessing as buffers,
so that :meth:`GenerativeModel.sample` maps raw conditions to voxel energies in MeV and the whole
generation path is one exportable graph. The trainer knows only this interface:

* :meth:`fit_preprocessing` once, on the training showers, before the first step;
* :meth:`optimizer_groups` / :meth:`group_for_step` name the parameter groups and which one a
  step updates (one group ``"main"`` for most models; ``"critic"``/``"generator"`` for a GAN);
* :meth:`loss` on a :class:`ShowerBatch` for a group, returning a :class:`LossOutput`;
* :meth:`fit_after_training` once, after the last step (a latent sampler that needs the trained encoder);
* :meth:`decode` turns conditions plus noise of shape ``(B, noise_dim)`` into showers
  deterministically; :meth:`sample_noise_given` draws that noise (standard normal, or the first
  columns from the model's latent KDE given the conditions) and :meth:`sample` decodes it.

Conditions are raw physics quantities, ``(B, C)``: column 0 the incident energy in MeV, column 1
(when the model is angle-conditioned) the polar angle in rad.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from caloforge.geometry import Geometry
from caloforge.models.latent_prior import kde_context
from caloforge.nn.kde import LatentKDE

__all__ = ["GenerativeModel", "LossOutput", "ShowerBatch"]


@dataclass
class ShowerBatch:
    """A training batch.

    Attributes:
        showers: Voxel energies, (B, n_voxels), MeV.
        conditions: Raw conditions, (B, C): incident energy in MeV [, angle in rad].
    """

    showers: Tensor
    conditions: Tensor

    def to(self, device: torch.device | str) -> ShowerBatch:
        """The batch on ``device``."""
        return ShowerBatch(self.showers.to(device), self.conditions.to(device))

    def __len__(self) -> int:
        return int(self.showers.shape[0])


@dataclass
class LossOutput:
    """What :meth:`GenerativeModel.loss` returns.

    Attributes:
        loss: Scalar tensor to minimise.
        metrics: Detached scalars to log (``{"kl": 0.3, ...}``).
    """

    loss: Tensor
    metrics: dict[str, float] = field(default_factory=dict)


class GenerativeModel(nn.Module, ABC):
    """Base class of all caloforge generative models.

    Subclasses declare :attr:`config_class` (the frozen dataclass mirroring their constructor
    arguments) and :meth:`smoke_config`, take ``(geometry, config=None, *, n_conditions=1)`` and
    implement :meth:`loss`, :meth:`decode` and :attr:`noise_dim`.

    Arguments:
        geometry: Readout geometry of the showers.
        config: An instance of :attr:`config_class` (``None``: its defaults).
        n_conditions: Number of condition columns (1: energy; 2: energy and angle).

    Raises:
        TypeError: ``config`` is not an instance of :attr:`config_class`.
    """

    #: Registry name, set by the ``MODELS.register`` decorator's class.
    name: ClassVar[str] = ""
    #: The frozen config dataclass of the family (its fields mirror the constructor arguments).
    config_class: ClassVar[type[Any]]
    #: The model's hyper-parameters, an instance of :attr:`config_class`.
    config: Any

    def __init__(self, geometry: Geometry, config: Any = None, *, n_conditions: int = 1) -> None:
        super().__init__()
        config_class = type(self).config_class
        if config is None:
            config = config_class()
        elif not isinstance(config, config_class):
            msg = f"{type(self).__name__} takes a {config_class.__name__} config, got {type(config).__name__}"
            raise TypeError(msg)
        self.geometry = geometry
        self.config = config
        self.n_conditions = n_conditions
        self._fitted: Tensor
        self.register_buffer("_fitted", torch.zeros((), dtype=torch.bool))

    @classmethod
    @abstractmethod
    def smoke_config(cls) -> Any:
        """A tiny instance of :attr:`config_class` that trains in seconds (tests, ``--dry-run``)."""

    # ------------------------------------------------------------------ preprocessing
    def fit_preprocessing(self, showers: Tensor, conditions: Tensor) -> None:  # noqa: ARG002
        """Fits the model's preprocessing on training data; called once before training.

        Arguments:
            showers: (N, n_voxels), MeV.
            conditions: (N, C), raw conditions.
        """
        self._fitted.fill_(True)

    @property
    def is_fitted(self) -> bool:
        """True once :meth:`fit_preprocessing` has run (also after loading a checkpoint)."""
        return bool(self._fitted)

    def fit_after_training(self, showers: Tensor, conditions: Tensor) -> None:
        """Fits what needs the trained network (a latent sampler); called once at the end of training.

        The trainer calls it at the end of :meth:`~caloforge.training.Trainer.fit`, with the EMA weights
        swapped in when EMA is on, before the final checkpoint, under ``torch.no_grad``. An
        implementation must not draw from torch's global random-number generator (a resumed run must
        stay bit-identical). Default: nothing.

        Arguments:
            showers: Training showers, (N, n_voxels), MeV.
            conditions: Their raw conditions, (N, C).
        """

    # ------------------------------------------------------------------ training
    def optimizer_groups(self) -> dict[str, list[nn.Parameter]]:
        """Parameter groups, each trained by its own optimizer. Default: one group ``"main"``."""
        return {"main": [p for p in self.parameters() if p.requires_grad]}

    def group_for_step(self, step: int) -> str:  # noqa: ARG002
        """The optimizer group that training step ``step`` updates. Default: ``"main"``."""
        return "main"

    def optimizer_settings(self) -> dict[str, dict[str, Any]]:
        """Per-group optimizer keyword arguments the model recommends (``{"critic": {"lr": 1e-4}}``).

        The trainer uses them unless the run's train config sets the value explicitly. Default: none.
        """
        return {}

    @abstractmethod
    def loss(self, batch: ShowerBatch, group: str = "main") -> LossOutput:
        """Training loss of ``group`` on a batch."""

    # ------------------------------------------------------------------ generation
    @property
    @abstractmethod
    def noise_dim(self) -> int:
        """Width of the noise input of :meth:`decode`."""

    @abstractmethod
    def decode(self, conditions: Tensor, noise: Tensor) -> Tensor:
        """Deterministic generation: conditions (B, C) + noise (B, noise_dim) → showers (B, n_voxels), MeV ≥ 0."""

    def sample_noise(self, n: int, *, generator: torch.Generator | None = None, device: Any = None) -> Tensor:
        """Standard-normal noise (n, noise_dim)."""
        device = device if device is not None else self._device()
        return torch.randn(n, self.noise_dim, generator=generator, device=device)

    def latent_kde_for_sampling(self) -> LatentKDE | None:
        """The fitted KDE that generation draws the first latent columns from, given the conditions.

        ``None`` (the default): the whole noise is standard normal. A model with a KDE latent sampler
        (BIB-AE, a VAE with ``latent_sampler: kde``) returns its fitted :class:`~caloforge.nn.kde.LatentKDE`.
        """
        return None

    def sample_noise_given(self, conditions: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        """Decode noise (B, noise_dim) for raw conditions (B, C), on their device: what every generation path draws.

        With a latent KDE (:meth:`latent_kde_for_sampling`), its first ``kde.latent_dim`` columns are drawn
        from the KDE given :func:`~caloforge.models.latent_prior.kde_context` of the conditions and the rest
        are standard normal; otherwise this is :meth:`sample_noise`.
        """
        n, device = conditions.shape[0], conditions.device
        kde = self.latent_kde_for_sampling()
        if kde is None:
            return self.sample_noise(n, generator=generator, device=device)
        z = kde.sample(kde_context(conditions), generator=generator).to(device)
        rest = torch.randn(n, self.noise_dim - kde.latent_dim, generator=generator, device=device)
        return torch.cat([z, rest], dim=1)

    @torch.no_grad()
    def sample(self, conditions: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        """Generates one shower per row of ``conditions`` (B, C); returns (B, n_voxels), MeV."""
        return self.decode(conditions, self.sample_noise_given(conditions, generator=generator))

    def _device(self) -> torch.device:
        for tensor in self.parameters():
            return tensor.device
        return torch.device("cpu")

"""What every two-stage CaloFlow model shares: preprocessing, flow I, teacher/student schedule.

A subclass supplies the voxel stage (flow II): a MAF teacher for the density, an IAF student for
fast sampling, and how voxel features and their context are laid out.

Why one registered model holds teacher and student: the trainer knows one model per run and steps
one optimizer group per step, so the two training phases are two groups of the same model —
``"teacher"`` (maximum likelihood of flows I and II) for the first ``teacher_steps`` steps,
``"student"`` (distillation, teacher frozen) afterwards. Checkpoints therefore carry both,
resuming needs nothing but the checkpoint, and constructors never read a teacher file. The
teacher stays available for :meth:`TwoStageFlow.log_prob`; ``sample_with`` picks the flow that
:meth:`TwoStageFlow.decode` runs.
"""

from __future__ import annotations

import dataclasses
import logging
from abc import abstractmethod
from typing import Any

import torch
from torch import Tensor, nn

from caloforge.geometry import Geometry
from caloforge.models.base import GenerativeModel, LossOutput, ShowerBatch
from caloforge.models.flows.config import CaloFlowConfig, ICaloFlowConfig
from caloforge.models.flows.maf import ConditionalMAF
from caloforge.models.flows.preprocess import FlowFeatures, FlowPreprocessing

__all__ = ["TwoStageFlow"]

logger = logging.getLogger(__name__)

GROUPS = ("teacher", "student")


class TwoStageFlow(GenerativeModel):
    """Base of :class:`~caloforge.models.flows.CaloFlow` and :class:`~caloforge.models.flows.ICaloFlow`.

    Flow I is a MAF over the ``n_layers`` layer features conditioned on the encoded conditions;
    it is sampled through its inverse (``n_layers`` passes, cheap) by teacher and student alike.

    Arguments:
        geometry: Readout geometry.
        config: Hyper-parameters (``energy_flow``, ``teacher_steps``, ``sample_with``, ...).
        n_conditions: 1 (energy) or 2 (energy and angle).
    """

    config: CaloFlowConfig | ICaloFlowConfig

    def __init__(self, geometry: Geometry, config: CaloFlowConfig | ICaloFlowConfig, *, n_conditions: int = 1) -> None:
        super().__init__(geometry, config, n_conditions=n_conditions)
        #: Voxel flow used by :meth:`decode`; may be switched after loading a checkpoint.
        self.sample_with = config.sample_with
        self._warned_undistilled = False
        self.preprocessing = FlowPreprocessing(
            geometry, n_conditions, noise_mev=config.noise_mev, alpha=config.alpha, log_eps=config.log_eps
        )
        self.energy_flow = ConditionalMAF(geometry.n_layers, n_conditions, config.energy_flow)
        self._student_steps: Tensor
        self.register_buffer("_student_steps", torch.zeros((), dtype=torch.long))

    # ------------------------------------------------------------------ voxel stage (subclasses)
    @property
    @abstractmethod
    def voxel_teacher(self) -> ConditionalMAF:
        """The voxel-stage MAF."""

    @abstractmethod
    def _voxel_log_prob(self, features: FlowFeatures) -> Tensor:
        """Teacher log-density of the voxel features given context and layers, (B,)."""

    @abstractmethod
    def _voxel_distill(self, features: FlowFeatures) -> LossOutput:
        """Distillation loss of the voxel-stage student."""

    @abstractmethod
    def _voxel_generate(self, context: Tensor, layers: Tensor, noise: Tensor, *, student: bool) -> Tensor:
        """Voxel features (B, n_voxels) from context, layer features and noise (B, n_voxels)."""

    # ------------------------------------------------------------------ preprocessing
    def fit_preprocessing(self, showers: Tensor, conditions: Tensor) -> None:
        """Fits the condition encoding and the feature standardisation.

        Arguments:
            showers: Training showers, (N, n_voxels), MeV.
            conditions: Raw conditions, (N, C).
        """
        self.preprocessing.fit(showers, conditions)
        super().fit_preprocessing(showers, conditions)

    # ------------------------------------------------------------------ training
    def optimizer_groups(self) -> dict[str, list[nn.Parameter]]:
        """``"teacher"``: flow I and the voxel MAF; ``"student"``: the voxel IAF."""
        student_ids = {id(p) for p in self._student_parameters()}
        teacher = [p for p in self.parameters() if id(p) not in student_ids]
        return {"teacher": teacher, "student": list(self._student_parameters())}

    @abstractmethod
    def _student_parameters(self) -> list[nn.Parameter]:
        """Parameters of the voxel-stage student."""

    def optimizer_settings(self) -> dict[str, dict[str, Any]]:
        """Adam keyword arguments per optimizer group."""
        return {"teacher": {"lr": self.config.lr_teacher}, "student": {"lr": self.config.lr_student}}

    def group_for_step(self, step: int) -> str:
        """``"teacher"`` for the first ``teacher_steps`` steps, ``"student"`` afterwards."""
        return "teacher" if step < self.config.teacher_steps else "student"

    def loss(self, batch: ShowerBatch, group: str = "teacher") -> LossOutput:
        """Loss of ``group`` on a batch.

        ``"teacher"``: negative log-likelihood of flows I and II per feature (nats), on showers
        dequantised with fresh uniform noise. ``"student"``: the distillation loss of the voxel
        student against the frozen teacher (see :func:`~caloforge.models.flows.distillation_loss`).

        Raises:
            KeyError: Unknown group.
        """
        if group not in GROUPS:
            msg = f"unknown optimizer group {group!r}; choices are {list(GROUPS)}"
            raise KeyError(msg)
        if group == "student":
            with torch.no_grad():
                features = self.preprocessing.encode(batch.showers, batch.conditions)
            if self.training and torch.is_grad_enabled():
                self._student_steps += 1
            return self._voxel_distill(features)
        features = self.preprocessing.encode(batch.showers, batch.conditions)
        nll_energy = -self.energy_flow.log_prob(features.layers, features.context).mean()
        nll_voxels = -self._voxel_log_prob(features).mean()
        total = (nll_energy + nll_voxels) / (features.layers.shape[1] + features.voxels.shape[1])
        metrics = {"nll_energy": float(nll_energy.detach()), "nll_voxels": float(nll_voxels.detach())}
        return LossOutput(total, metrics)

    # ------------------------------------------------------------------ density
    def log_prob(self, showers: Tensor, conditions: Tensor) -> Tensor:
        """Teacher log-likelihood of showers, nats.

        The density is over the layer energies divided by E_inc and the within-layer voxel
        fractions (the preprocessing Jacobian is included), after adding half the dequantisation
        noise to every voxel, so it is deterministic and comparable between showers.

        Arguments:
            showers: (B, n_voxels), MeV.
            conditions: Raw conditions, (B, C): incident energy in MeV [, angle in rad].

        Returns:
            log p(shower | conditions), (B,).
        """
        features = self.preprocessing.encode(showers, conditions, dequantise="mid")
        log_p = self.energy_flow.log_prob(features.layers, features.context)
        return log_p + self._voxel_log_prob(features) + features.log_jacobian

    # ------------------------------------------------------------------ generation
    @property
    def noise_dim(self) -> int:
        """n_layers (flow I latent) + n_voxels (voxel-stage latent)."""
        return self.geometry.n_layers + self.geometry.n_voxels

    @property
    def student_trained(self) -> bool:
        """True once the student has had at least one distillation step."""
        return bool(self._student_steps > 0)

    def decode(self, conditions: Tensor, noise: Tensor) -> Tensor:
        """Generated showers.

        Flow I's inverse gives layer features, then the voxel stage runs with ``sample_with``
        (the student falls back to the teacher, with a warning, until it has been distilled).

        Arguments:
            conditions: Raw conditions, (B, C): incident energy in MeV [, angle in rad].
            noise: Standard-normal latents, (B, n_layers + n_voxels).

        Returns:
            Voxel energies, (B, n_voxels), MeV ≥ 0, CaloChallenge order.
        """
        n_layers = self.geometry.n_layers
        context = self.preprocessing.context(conditions)
        layers = self.energy_flow.inverse(noise[:, :n_layers], context)
        student = self.sample_with == "student"
        if student and not self.student_trained:
            if not self._warned_undistilled:
                logger.warning("the student flow has not been distilled yet: sampling with the teacher")
                self._warned_undistilled = True
            student = False
        voxels = self._voxel_generate(context, layers, noise[:, n_layers:], student=student)
        return self.preprocessing.decode(layers, voxels, conditions)

    def extra_repr(self) -> str:
        """The config, shown by ``print(model)``."""
        return ", ".join(f"{f.name}={getattr(self.config, f.name)!r}" for f in dataclasses.fields(self.config))

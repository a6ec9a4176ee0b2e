"""CaloFlow: flow I over layer energies, flow II over all voxel fractions, MAF teacher → IAF student.

Example:
    >>> import torch
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.models import ShowerBatch
    >>> g = Geometry.regular("toy", n_layers=3, n_alpha=2, r_edges=[0, 1, 2])
    >>> model = CaloFlow(g, CaloFlow.smoke_config())
    >>> showers, conditions = torch.rand(16, 12) * 50, torch.full((16, 1), 1e3)
    >>> model.fit_preprocessing(showers, conditions)
    >>> [model.group_for_step(s) for s in (0, 1, 2)]
    ['teacher', 'student', 'student']
    >>> sorted(model.loss(ShowerBatch(showers, conditions), "teacher").metrics)
    ['nll_energy', 'nll_voxels']
    >>> model.log_prob(showers, conditions).shape
    torch.Size([16])
    >>> model.sample(conditions[:4]).shape
    torch.Size([4, 12])
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from caloforge.geometry import Geometry
from caloforge.models.base import LossOutput
from caloforge.models.flows.base import TwoStageFlow
from caloforge.models.flows.config import CaloFlowConfig, FlowConfig
from caloforge.models.flows.distill import distillation_loss
from caloforge.models.flows.maf import ConditionalIAF, ConditionalMAF
from caloforge.models.flows.preprocess import FlowFeatures
from caloforge.models.registry import MODELS

__all__ = ["CaloFlow"]


@MODELS.register("caloflow")
class CaloFlow(TwoStageFlow):
    """Two-stage normalizing flow with a distilled single-pass student.

    Flow I learns p(layer energies | E_inc); flow II learns p(voxel fractions | layer energies,
    E_inc) over the whole shower as one masked autoregressive flow with rational-quadratic spline
    transforms (the teacher, exact and fast log-likelihood). An inverse autoregressive flow with
    the same blocks (the student) is distilled from it and samples flow II in one pass per block.
    Training runs group ``"teacher"`` for ``teacher_steps`` steps, then group ``"student"``;
    :meth:`log_prob` always uses the teacher. See :class:`~caloforge.models.flows.base.TwoStageFlow`
    for why both live in one model.

    Flow II's masked networks emit ``n_voxels * (3 * bins - 1)`` spline parameters per block, so
    memory grows with the square of the shower size: use :class:`~caloforge.models.flows.ICaloFlow`
    for CaloChallenge datasets 2 and 3.

    Arguments:
        geometry: Readout geometry.
        config: Hyper-parameters.
        n_conditions: 1 (energy) or 2 (energy and angle).

    References:
        Krause, Shih, "CaloFlow: Fast and Accurate Generation of Calorimeter Showers with
        Normalizing Flows", https://arxiv.org/abs/2106.05285

        Krause, Shih, "CaloFlow II: Even Faster and Still Accurate Generation of Calorimeter
        Showers with Normalizing Flows", https://arxiv.org/abs/2110.11377
    """

    config_class: ClassVar[type[CaloFlowConfig]] = CaloFlowConfig
    config: CaloFlowConfig

    def __init__(self, geometry: Geometry, config: CaloFlowConfig | None = None, *, n_conditions: int = 1) -> None:
        config = config if config is not None else CaloFlowConfig()
        super().__init__(geometry, config, n_conditions=n_conditions)
        context = n_conditions + geometry.n_layers
        self.teacher = ConditionalMAF(geometry.n_voxels, context, config.voxel_flow)
        self.student = ConditionalIAF(geometry.n_voxels, context, config.student_flow)

    @classmethod
    def smoke_config(cls) -> CaloFlowConfig:
        """A tiny configuration that trains in seconds (tests, ``--dry-run``)."""
        tiny = FlowConfig(transforms=2, hidden=(16,), bins=4)
        return CaloFlowConfig(energy_flow=tiny, voxel_flow=tiny, student_flow=tiny, teacher_steps=1)

    @property
    def voxel_teacher(self) -> ConditionalMAF:
        """Flow II's MAF."""
        return self.teacher

    def _student_parameters(self) -> list[nn.Parameter]:
        return list(self.student.parameters())

    @staticmethod
    def _context(features: FlowFeatures) -> Tensor:
        return torch.cat([features.context, features.layers], dim=1)

    def _voxel_log_prob(self, features: FlowFeatures) -> Tensor:
        return self.teacher.log_prob(features.voxels, self._context(features))

    def _voxel_distill(self, features: FlowFeatures) -> LossOutput:
        return distillation_loss(
            self.teacher, self.student, features.voxels, self._context(features), self.config.distill_weights
        )

    def _voxel_generate(self, context: Tensor, layers: Tensor, noise: Tensor, *, student: bool) -> Tensor:
        full = torch.cat([context, layers], dim=1)
        return self.student(noise, full) if student else self.teacher.inverse(noise, full)

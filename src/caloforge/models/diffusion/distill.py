"""Few-step sampling by reflow: retrain the flow on its own noise → sample couplings so its paths straighten.

A trained flow-matching model (the teacher) defines a deterministic map from noise z to showers
x = Φ(z). Reflow draws pairs (z, Φ(z)) with an accurate many-step solver and fine-tunes a copy of
the model (the student) with the same flow-matching loss on the straight line from z to Φ(z).
The student's trajectories become nearly straight, so 1–4 Euler steps land close to where the
teacher's many-step solve lands. An optional second phase (the "k-rectified flow + distillation"
of Liu et al.) then trains the student's own k-step solve, back-propagated through its k network
evaluations, to land on Φ(z) directly.

Why reflow rather than progressive or consistency distillation: it reuses the model's own loss,
networks, preprocessing and solvers unchanged (the student *is* a ``FlowMatching`` model, so it
trains, saves, exports and samples like any other, with any solver), it needs one round of
teacher solves instead of the log2(N) rounds of progressive distillation, and it has no extra
schedule or target network to tune as consistency distillation has. Both stages (layer energies
and shapes) are reflowed; the shape stage is conditioned on the teacher's generated layer energies,
exactly as it is at generation time.

This module holds only what a training step computes: :class:`ReflowStudent` declares the two
phases as optimizer groups (``"reflow"`` for the first ``train_steps`` steps, ``"distill"``
afterwards, the way CaloFlow's teacher → student distillation is two groups), and its
:meth:`~ReflowStudent.loss` takes a :class:`ReflowBatch` of couplings. The one trainer
(:class:`caloforge.training.Trainer`) runs the loop; the couplings are a data step
(:func:`caloforge.training.make_reflow_pairs`), and :func:`caloforge.training.reflow` ties them
together. The student is not registered under a name of its own: it is saved (and checkpointed)
as the ``"flow-matching"`` model it is, so a reflow checkpoint loads as the student.

Example:
    >>> import torch
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=2, n_alpha=1, r_edges=[0, 1, 2])
    >>> teacher = FlowMatching(g, FlowMatching.smoke_config())
    >>> teacher.fit_preprocessing(torch.rand(16, 4) * 50, torch.full((16, 1), 1e4))
    >>> student = ReflowStudent.from_teacher(teacher, solver="euler", n_steps=1, train_steps=2)
    >>> [student.group_for_step(s) for s in range(3)]
    ['reflow', 'reflow', 'distill']
    >>> noise = torch.randn(8, teacher.noise_dim)
    >>> conditions = torch.full((8, 1), 1e4)
    >>> with torch.no_grad():
    ...     ends = torch.cat(teacher.integrate(conditions, noise, n_steps=4), dim=1)
    >>> sorted(student.loss(ReflowBatch(ends, conditions, noise), "distill").metrics)
    ['layer_loss', 'shape_loss']

References:
    Liu, Gong, Liu, "Flow Straight and Fast: Learning to Generate and Transfer Data with Rectified
    Flow", https://arxiv.org/abs/2209.03003
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from caloforge.geometry import Geometry
from caloforge.models.base import LossOutput, ShowerBatch
from caloforge.models.diffusion.config import FlowMatchingConfig, SolverName
from caloforge.models.diffusion.flow_matching import FlowMatching

__all__ = ["REFLOW_GROUPS", "ReflowBatch", "ReflowStudent", "endpoint_loss", "reflow_loss"]

#: The student's optimizer groups: reflow first, then end-point distillation.
REFLOW_GROUPS = ("reflow", "distill")


@dataclass
class ReflowBatch(ShowerBatch):
    """A batch of teacher couplings (noise → teacher end point) in model space.

    Attributes:
        showers: The teacher's end points, (B, noise_dim): the stage-1 variables, then the voxel
            fractions (model space, not MeV).
        conditions: Raw conditions, (B, C): incident energy in MeV [, angle in rad].
        noise: The initial noise of both stages, (B, noise_dim).
    """

    noise: Tensor

    def to(self, device: torch.device | str) -> ReflowBatch:
        """The batch on ``device``."""
        return ReflowBatch(self.showers.to(device), self.conditions.to(device), self.noise.to(device))


def _split(student: FlowMatching, batch: ReflowBatch) -> tuple[Tensor, Tensor, Tensor]:
    """Conditions (float), teacher stage-1 end points and teacher voxel end points of ``batch``."""
    n_stage1 = student.n_stage1
    return batch.conditions.float(), batch.showers[:, :n_stage1], batch.showers[:, n_stage1:]


def reflow_loss(student: FlowMatching, batch: ReflowBatch) -> LossOutput:
    """Flow-matching loss of both stages on the straight lines between paired noise and teacher end points.

    Returns:
        The weighted loss and its parts (``layer_loss``, ``shape_loss``).
    """
    conditions, layers, voxels = _split(student, batch)
    n_stage1 = layers.shape[1]
    encoded = student.condition_encoder(conditions)
    layer_loss = student.velocity_loss(student.layer_net, layers, encoded, x0=batch.noise[:, :n_stage1])
    context = student.shape_context(encoded, layers, conditions)
    shape_loss = student.velocity_loss(student.shape_net, voxels, context, x0=batch.noise[:, n_stage1:])
    return student.combine_losses(layer_loss, shape_loss)


def endpoint_loss(student: FlowMatching, batch: ReflowBatch) -> LossOutput:
    """Mean squared distance between the student's own few-step solve and the teacher's end points.

    The student integrates both stages from the paired noise with its configured solver and
    number of steps (gradients flow through every network evaluation); the shape stage is
    conditioned on the teacher's layer energies, as in :func:`reflow_loss`.

    Returns:
        The weighted loss and its parts (``layer_loss``, ``shape_loss``).
    """
    conditions, layers, voxels = _split(student, batch)
    own_layers, own_voxels = student.integrate(conditions, batch.noise, shape_layers=layers)
    return student.combine_losses(torch.mean((own_layers - layers) ** 2), torch.mean((own_voxels - voxels) ** 2))


class ReflowStudent(FlowMatching):
    """A flow-matching model trained on teacher couplings: group ``"reflow"``, then ``"distill"``.

    Steps ``0 … train_steps - 1`` update group ``"reflow"`` (:func:`reflow_loss`); later steps
    update group ``"distill"`` (:func:`endpoint_loss` of the student's own ``config.solver`` /
    ``config.n_steps`` solve). Both groups hold all parameters, each with its own optimizer (a
    fresh one for the second phase). The preprocessing is the teacher's, copied with its weights:
    :meth:`fit_preprocessing` refits nothing.

    Arguments:
        geometry: Readout geometry.
        config: The student's config (the teacher's, with the student's solver and steps).
        n_conditions: 1 (energy) or 2 (energy and angle).
        train_steps: Steps of the reflow phase.
    """

    def __init__(
        self,
        geometry: Geometry,
        config: FlowMatchingConfig | None = None,
        *,
        n_conditions: int = 1,
        train_steps: int = 0,
    ) -> None:
        super().__init__(geometry, config, n_conditions=n_conditions)
        if train_steps < 0:
            msg = f"train_steps must be non-negative, got {train_steps}"
            raise ValueError(msg)
        self.train_steps = train_steps

    @classmethod
    def from_teacher(
        cls, teacher: FlowMatching, *, solver: SolverName, n_steps: int, train_steps: int
    ) -> ReflowStudent:
        """A student with the teacher's weights and preprocessing that decodes with ``solver`` in ``n_steps`` steps.

        Raises:
            ValueError: The teacher's preprocessing is not fitted.
        """
        if not teacher.is_fitted:
            msg = "reflow needs a trained teacher; its preprocessing is not fitted"
            raise ValueError(msg)
        config = dataclasses.replace(teacher.config, solver=solver, n_steps=n_steps)
        student = cls(teacher.geometry, config, n_conditions=teacher.n_conditions, train_steps=train_steps)
        student.load_state_dict(teacher.state_dict())
        return student.to(teacher._device())

    def fit_preprocessing(self, showers: Tensor, conditions: Tensor) -> None:  # noqa: ARG002
        """Keeps the teacher's fitted preprocessing (the couplings are in its model space).

        Raises:
            ValueError: The student was not built from a fitted teacher.
        """
        if not self.is_fitted:
            msg = "a reflow student keeps its teacher's preprocessing; build it with ReflowStudent.from_teacher"
            raise ValueError(msg)

    def optimizer_groups(self) -> dict[str, list[nn.Parameter]]:
        """``"reflow"`` and ``"distill"``, each over every trainable parameter."""
        params = [p for p in self.parameters() if p.requires_grad]
        return {group: list(params) for group in REFLOW_GROUPS}

    def optimizer_settings(self) -> dict[str, dict[str, Any]]:
        """The teacher's learning rate for both groups (a run's train config usually sets its own)."""
        return {group: {"lr": self.config.lr} for group in REFLOW_GROUPS}

    def group_for_step(self, step: int) -> str:
        """``"reflow"`` for the first ``train_steps`` steps, ``"distill"`` afterwards."""
        return "reflow" if step < self.train_steps else "distill"

    def loss(self, batch: ShowerBatch, group: str = "reflow") -> LossOutput:
        """:func:`reflow_loss` (``"reflow"``) or :func:`endpoint_loss` (``"distill"``) on a batch of couplings.

        Raises:
            KeyError: Unknown group.
            TypeError: ``batch`` is not a :class:`ReflowBatch` (a student trains on teacher couplings).
        """
        if group not in REFLOW_GROUPS:
            msg = f"unknown optimizer group {group!r}; choices are {list(REFLOW_GROUPS)}"
            raise KeyError(msg)
        if not isinstance(batch, ReflowBatch):
            msg = f"a reflow student trains on teacher couplings (ReflowBatch), got {type(batch).__name__}"
            raise TypeError(msg)
        return reflow_loss(self, batch) if group == "reflow" else endpoint_loss(self, batch)

    def as_flow_matching(self) -> FlowMatching:
        """A plain :class:`FlowMatching` with the student's config, weights and preprocessing, in eval mode."""
        model = FlowMatching(self.geometry, self.config, n_conditions=self.n_conditions)
        model.load_state_dict(self.state_dict())
        return model.to(self._device()).eval()

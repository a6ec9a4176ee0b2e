"""Hyper-parameters of the CaloFlow family as frozen dataclasses.

:class:`FlowConfig` describes one conditional autoregressive spline flow (a stack of MADE blocks);
:class:`CaloFlowConfig` and :class:`ICaloFlowConfig` describe the two-stage models, each with a
teacher (masked autoregressive flow, fast density) and a student (inverse autoregressive flow,
fast sampling) for the voxel stage.

Example:
    >>> from caloforge.config import from_dict, to_dict
    >>> config = CaloFlowConfig(teacher_steps=10, sample_with="teacher")
    >>> from_dict(CaloFlowConfig, to_dict(config)) == config
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["CaloFlowConfig", "FlowConfig", "ICaloFlowConfig", "SampleWith"]

#: Which voxel flow :meth:`decode` runs: the distilled IAF student (one pass) or the MAF teacher.
SampleWith = Literal["student", "teacher"]


@dataclass(frozen=True)
class FlowConfig:
    """One conditional autoregressive flow with rational-quadratic spline transforms.

    Attributes:
        transforms: Number of MADE blocks (autoregressive transforms), orders alternating.
        hidden: Hidden widths of each block's masked MLP. Widths at least as large as the number
            of features keep every feature's full autoregressive context.
        bins: Number of spline bins K on the domain [-bound, bound].
        bound: Half-width of the spline domain; features outside pass through unchanged.
    """

    transforms: int = 4
    hidden: tuple[int, ...] = (256, 256)
    bins: int = 8
    bound: float = 5.0

    def __post_init__(self) -> None:
        if self.transforms < 1:
            msg = f"transforms must be at least 1, got {self.transforms}"
            raise ValueError(msg)
        if self.bins < 2:
            msg = f"bins must be at least 2, got {self.bins}"
            raise ValueError(msg)
        if not self.hidden or min(self.hidden) < 1:
            msg = f"hidden needs at least one positive width, got {self.hidden}"
            raise ValueError(msg)


def _check_common(teacher_steps: int, noise_mev: float, distill_weights: tuple[float, float, float]) -> None:
    if teacher_steps < 0:
        msg = f"teacher_steps must be non-negative, got {teacher_steps}"
        raise ValueError(msg)
    if noise_mev < 0:
        msg = f"noise_mev must be non-negative, got {noise_mev}"
        raise ValueError(msg)
    if len(distill_weights) != 3 or min(distill_weights) < 0 or sum(distill_weights) <= 0:
        msg = f"distill_weights needs three non-negative weights, not all 0, got {distill_weights}"
        raise ValueError(msg)


@dataclass(frozen=True)
class CaloFlowConfig:
    """Configuration of :class:`caloforge.models.flows.CaloFlow`.

    Attributes:
        energy_flow: Flow I, p(layer energies | E_inc).
        voxel_flow: Flow II teacher (MAF), p(voxel fractions | layer energies, E_inc).
        student_flow: Flow II student (IAF); same feature order as the teacher.
        teacher_steps: Training steps of the ``"teacher"`` group (maximum likelihood of flows I
            and II); later steps train the ``"student"`` group by distillation.
        sample_with: Voxel flow used by :meth:`decode` (``"student"``: one pass per block).
        noise_mev: Width of the uniform noise added to every voxel before preprocessing
            (CaloFlow's dequantisation, MeV); generated voxels below it are set to 0.
        alpha: Logit offset of the voxel fractions.
        log_eps: Offset of the log transform of the layer energies divided by E_inc.
        distill_weights: Weights of the data-space, latent-space and block-wise distillation losses.
        lr_teacher: Adam learning rate of the ``"teacher"`` group.
        lr_student: Adam learning rate of the ``"student"`` group.
    """

    energy_flow: FlowConfig = field(default_factory=lambda: FlowConfig(transforms=6, hidden=(64, 64)))
    voxel_flow: FlowConfig = field(default_factory=lambda: FlowConfig(transforms=6, hidden=(512, 512)))
    student_flow: FlowConfig = field(default_factory=lambda: FlowConfig(transforms=6, hidden=(512, 512)))
    teacher_steps: int = 20_000
    sample_with: SampleWith = "student"
    noise_mev: float = 1e-3
    alpha: float = 1e-6
    log_eps: float = 1e-8
    distill_weights: tuple[float, float, float] = (1.0, 1.0, 1.0)
    lr_teacher: float = 1e-3
    lr_student: float = 1e-3

    def __post_init__(self) -> None:
        _check_common(self.teacher_steps, self.noise_mev, self.distill_weights)


@dataclass(frozen=True)
class ICaloFlowConfig:
    """Configuration of :class:`caloforge.models.flows.ICaloFlow` (layer by layer).

    Attributes:
        energy_flow: Flow I, p(layer energies | E_inc).
        layer_flow: Layer flow teacher (MAF), p(layer k fractions | previous layers, energies, k),
            shared by all layers.
        student_flow: Layer flow student (IAF).
        n_previous: Number of preceding layers in the context of each layer's flow.
        teacher_steps: Training steps of the ``"teacher"`` group; later steps distil.
        sample_with: Layer flow used by :meth:`decode`.
        noise_mev: Dequantisation noise width, MeV (see :class:`CaloFlowConfig`).
        alpha: Logit offset of the voxel fractions.
        log_eps: Offset of the log transform of the layer energies divided by E_inc.
        distill_weights: Weights of the data-space, latent-space and block-wise distillation losses.
        lr_teacher: Adam learning rate of the ``"teacher"`` group.
        lr_student: Adam learning rate of the ``"student"`` group.
    """

    energy_flow: FlowConfig = field(default_factory=lambda: FlowConfig(transforms=6, hidden=(128, 128)))
    layer_flow: FlowConfig = field(default_factory=lambda: FlowConfig(transforms=6, hidden=(256, 256)))
    student_flow: FlowConfig = field(default_factory=lambda: FlowConfig(transforms=6, hidden=(256, 256)))
    n_previous: int = 1
    teacher_steps: int = 20_000
    sample_with: SampleWith = "student"
    noise_mev: float = 5e-3
    alpha: float = 1e-6
    log_eps: float = 1e-8
    distill_weights: tuple[float, float, float] = (1.0, 1.0, 1.0)
    lr_teacher: float = 1e-3
    lr_student: float = 1e-3

    def __post_init__(self) -> None:
        _check_common(self.teacher_steps, self.noise_mev, self.distill_weights)
        if self.n_previous < 0:
            msg = f"n_previous must be non-negative, got {self.n_previous}"
            raise ValueError(msg)

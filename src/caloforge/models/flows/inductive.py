"""iCaloFlow: a layer-by-layer (inductive) CaloFlow for high-granularity geometries.

Example:
    >>> import torch
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=4, n_alpha=2, r_edges=[0, 1, 2])
    >>> model = ICaloFlow(g, ICaloFlow.smoke_config())
    >>> showers, conditions = torch.rand(16, 16) * 50, torch.full((16, 1), 1e3)
    >>> model.fit_preprocessing(showers, conditions)
    >>> model.log_prob(showers, conditions).shape
    torch.Size([16])
    >>> model.sample(conditions[:4]).shape
    torch.Size([4, 16])
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor, nn

from caloforge.geometry import Geometry
from caloforge.models.base import LossOutput
from caloforge.models.flows.base import TwoStageFlow
from caloforge.models.flows.config import FlowConfig, ICaloFlowConfig
from caloforge.models.flows.distill import distillation_loss
from caloforge.models.flows.maf import ConditionalIAF, ConditionalMAF
from caloforge.models.flows.preprocess import FlowFeatures
from caloforge.models.registry import MODELS

__all__ = ["ICaloFlow"]


@MODELS.register("icaloflow")
class ICaloFlow(TwoStageFlow):
    """Inductive CaloFlow: one flow per layer, shared across layers, conditioned on earlier layers.

    Flow I learns p(layer energies | E_inc) as in CaloFlow. The voxel stage factorises the
    shower layer by layer, p(f_k | f_{k-1}, …, f_{k-n}, layer energies, E_inc, k), with one MAF
    (teacher) shared by all layers; its context is the encoded conditions, all layer features, a
    one-hot layer index and the features of the ``n_previous`` preceding layers (zeros before
    the first). Memory and time per step therefore grow with the layer size, not the shower size.
    An IAF student with the same context is distilled from it; sampling runs the layers in turn,
    one pass per block each. Training uses teacher forcing: all layers of a shower enter one
    batched likelihood evaluation.

    Arguments:
        geometry: Readout geometry; every layer must have the same number of voxels.
        config: Hyper-parameters.
        n_conditions: 1 (energy) or 2 (energy and angle).

    Raises:
        ValueError: The layers of ``geometry`` differ in size.

    References:
        Buckley, Krause, Pang, Shih, "Inductive CaloFlow", https://arxiv.org/abs/2305.11934

        Krause, Shih, "CaloFlow: Fast and Accurate Generation of Calorimeter Showers with
        Normalizing Flows", https://arxiv.org/abs/2106.05285
    """

    config_class: ClassVar[type[ICaloFlowConfig]] = ICaloFlowConfig
    config: ICaloFlowConfig

    def __init__(self, geometry: Geometry, config: ICaloFlowConfig | None = None, *, n_conditions: int = 1) -> None:
        config = config if config is not None else ICaloFlowConfig()
        sizes = set(geometry.layer_sizes)
        if len(sizes) != 1:
            msg = f"ICaloFlow needs layers of equal size, {geometry.name!r} has sizes {sorted(sizes)}; use 'caloflow'"
            raise ValueError(msg)
        super().__init__(geometry, config, n_conditions=n_conditions)
        self.layer_size = geometry.layer_sizes[0]
        n_layers = geometry.n_layers
        context = n_conditions + 2 * n_layers + config.n_previous * self.layer_size
        self.teacher = ConditionalMAF(self.layer_size, context, config.layer_flow)
        self.student = ConditionalIAF(self.layer_size, context, config.student_flow)
        self.layer_index: Tensor
        self.register_buffer("layer_index", torch.eye(n_layers))

    @classmethod
    def smoke_config(cls) -> ICaloFlowConfig:
        """A tiny configuration that trains in seconds (tests, ``--dry-run``)."""
        tiny = FlowConfig(transforms=2, hidden=(16,), bins=4)
        return ICaloFlowConfig(energy_flow=tiny, layer_flow=tiny, student_flow=tiny, teacher_steps=1)

    @property
    def voxel_teacher(self) -> ConditionalMAF:
        """The shared layer MAF."""
        return self.teacher

    def _student_parameters(self) -> list[nn.Parameter]:
        return list(self.student.parameters())

    def _rows(self, features: FlowFeatures) -> tuple[Tensor, Tensor]:
        """Teacher-forced rows: voxels (B·L, layer_size) and their contexts (B·L, context)."""
        b, n_layers, n_prev = features.voxels.shape[0], self.geometry.n_layers, self.config.n_previous
        voxels = features.voxels.reshape(b, n_layers, self.layer_size)
        padded = torch.cat([voxels.new_zeros(b, n_prev, self.layer_size), voxels], dim=1)
        previous = [padded[:, n_prev - j : n_prev - j + n_layers] for j in range(1, n_prev + 1)]
        shared = torch.cat([features.context, features.layers], dim=1)[:, None].expand(b, n_layers, -1)
        index = self.layer_index[None].expand(b, -1, -1)
        context = torch.cat([shared, index, *previous], dim=2)
        return voxels.reshape(b * n_layers, -1), context.reshape(b * n_layers, -1)

    def _voxel_log_prob(self, features: FlowFeatures) -> Tensor:
        rows, context = self._rows(features)
        return self.teacher.log_prob(rows, context).reshape(features.voxels.shape[0], -1).sum(dim=1)

    def _voxel_distill(self, features: FlowFeatures) -> LossOutput:
        rows, context = self._rows(features)
        return distillation_loss(self.teacher, self.student, rows, context, self.config.distill_weights)

    def _voxel_generate(self, context: Tensor, layers: Tensor, noise: Tensor, *, student: bool) -> Tensor:
        b, n_prev, size = context.shape[0], self.config.n_previous, self.layer_size
        shared = torch.cat([context, layers], dim=1)
        history = [noise.new_zeros(b, size) for _ in range(n_prev)]
        out = []
        for k in range(self.geometry.n_layers):
            previous = history[::-1][:n_prev] if n_prev else []
            full = torch.cat([shared, self.layer_index[k].expand(b, -1), *previous], dim=1)
            z = noise[:, k * size : (k + 1) * size]
            layer = self.student(z, full) if student else self.teacher.inverse(z, full)
            out.append(layer)
            history.append(layer)
        return torch.cat(out, dim=1)

"""Conditional flow matching (registered as ``"flow-matching"``), its networks, paths and the reflow student
(trained by :func:`caloforge.training.reflow`)."""

from __future__ import annotations

from caloforge.models.diffusion.config import FlowMatchingConfig
from caloforge.models.diffusion.denoiser import LayerEnergyNet, LayerTransformer
from caloforge.models.diffusion.distill import ReflowBatch, ReflowStudent, endpoint_loss, reflow_loss
from caloforge.models.diffusion.flow_matching import FlowMatching, with_sampler
from caloforge.models.diffusion.occupancy import calibrate_occupancy
from caloforge.models.diffusion.paths import LinearPath, sample_times

__all__ = [
    "FlowMatching",
    "FlowMatchingConfig",
    "LayerEnergyNet",
    "LayerTransformer",
    "LinearPath",
    "ReflowBatch",
    "ReflowStudent",
    "calibrate_occupancy",
    "endpoint_loss",
    "reflow_loss",
    "sample_times",
    "with_sampler",
]

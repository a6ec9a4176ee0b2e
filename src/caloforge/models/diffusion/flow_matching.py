"""Conditional flow matching for showers: a layer-energy flow, then a shape flow given layer energies.

Example:
    >>> import torch
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.models import ShowerBatch
    >>> g = Geometry.regular("toy", n_layers=3, n_alpha=2, r_edges=[0, 1, 2])
    >>> model = FlowMatching(g, FlowMatching.smoke_config())
    >>> showers, conditions = torch.rand(16, 12) * 50, torch.full((16, 1), 1e4)
    >>> model.fit_preprocessing(showers, conditions)
    >>> sorted(model.loss(ShowerBatch(showers, conditions)).metrics)
    ['layer_loss', 'shape_loss']
    >>> model.noise_dim, model.sample(conditions[:4]).shape
    (16, torch.Size([4, 12]))
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from caloforge.data.augment import AngularSymmetry
from caloforge.data.layer_transforms import ResponseLayersMeV, ResponseShares, StickBreaking
from caloforge.data.transforms import (
    Compose,
    ConditionEncoder,
    LayerFractions,
    Log,
    Log1pScaled,
    Logit,
    Standardize,
    Transform,
)
from caloforge.geometry import Geometry
from caloforge.models.base import GenerativeModel, LossOutput, ShowerBatch
from caloforge.models.diffusion.config import FlowMatchingConfig, SolverName
from caloforge.models.diffusion.denoiser import LayerEnergyNet, LayerTransformer
from caloforge.models.diffusion.paths import LinearPath, sample_times
from caloforge.models.registry import MODELS

__all__ = ["FlowMatching", "with_sampler"]


@MODELS.register("flow-matching")
class FlowMatching(GenerativeModel):
    """Two-stage conditional flow matching (CaloDREAM-style) on preprocessed voxels.

    Stage 1 learns the layer energies given the incident energy (and angle): a dense velocity
    network on the standardised ``layer_parametrisation`` variables — by default the log response
    and the log share of every layer (:class:`~caloforge.data.transforms.ResponseShares`), else
    CaloFlow's stick-breaking variables or every ``log(E_layer / E_inc + eps)``. Stage 2 learns the
    shower shape given the conditions and the layer energies (as standardised
    ``log(E_layer / E_inc + eps)``): a layer-token transformer on the standardised
    ``log(E_voxel / E_layer + eps)``. Both follow the straight (rectified / OT) path of
    :class:`~caloforge.models.diffusion.paths.LinearPath`. :meth:`decode` integrates both fields
    with the configured solver and number of steps, renormalises each layer's voxel fractions to
    sum to one and multiplies by the generated layer energy, so showers come out in MeV ≥ 0 in
    CaloChallenge order. The noise of both stages is concatenated: ``noise_dim = L + n_voxels``.

    The solvers come from :mod:`caloforge.solvers`, which depend on torch only; they are
    imported inside :meth:`decode` so that importing the model never imports
    :mod:`caloforge.sampling` (whose ``generate`` depends on models), avoiding an import cycle.

    Arguments:
        geometry: Readout geometry.
        config: Hyper-parameters.
        n_conditions: 1 (energy) or 2 (energy and angle).

    References:
        Lipman et al., "Flow Matching for Generative Modeling", https://arxiv.org/abs/2210.02747

        Favaro et al., "CaloDREAM — Detector Response Emulation via Attentive flow Matching",
        https://arxiv.org/abs/2405.09629
    """

    config_class: ClassVar[type[FlowMatchingConfig]] = FlowMatchingConfig
    config: FlowMatchingConfig

    def __init__(self, geometry: Geometry, config: FlowMatchingConfig | None = None, *, n_conditions: int = 1) -> None:
        super().__init__(geometry, config, n_conditions=n_conditions)
        config = self.config
        n_layers = geometry.n_layers
        self.path = LinearPath(config.sigma_min)
        self.condition_encoder = ConditionEncoder(n_conditions)
        self.layer_fractions = LayerFractions(geometry)
        stage1, self.n_stage1 = _stage1_transform(config, n_layers)
        self.layer_norm = Compose(stage1, Standardize(self.n_stage1, min_std=config.min_std))
        self.context_norm = Compose(Log(config.layer_log_eps), Standardize(n_layers, min_std=config.min_std))
        shared = config.voxel_standardisation == "shared"
        voxel_map: Transform = Log(config.voxel_log_eps)
        if config.voxel_transform == "logit":
            voxel_map = Logit(config.voxel_logit_alpha)
        elif config.voxel_transform == "log1p-mev":
            voxel_map = Log1pScaled(config.voxel_scale_mev)
        self.voxel_norm = Compose(voxel_map, Standardize(geometry.n_voxels, min_std=config.min_std, shared=shared))
        self.symmetry: AngularSymmetry | None = None
        if config.augment == "angular":
            if n_conditions > 1:
                msg = "augment='angular' holds only for particles entering along the axis; it needs energy-only conditions"
                raise ValueError(msg)
            self.symmetry = AngularSymmetry(geometry)
        self.occupancy_edges: Tensor
        self.voxel_cut: Tensor
        if config.occupancy_bins > 0:
            self.register_buffer("occupancy_edges", torch.zeros(config.occupancy_bins - 1))
            self.register_buffer("voxel_cut", torch.zeros(config.occupancy_bins, geometry.n_voxels))
        self.layer_net = LayerEnergyNet(self.n_stage1, n_conditions, config.layer_hidden, config.layer_embed_dim)
        self.shape_net = LayerTransformer(
            geometry,
            n_conditions + n_layers,
            dim=config.dim,
            depth=config.depth,
            heads=config.heads,
            mlp_ratio=config.mlp_ratio,
            dropout=config.dropout,
            skip=config.shape_skip,
        )

    @classmethod
    def smoke_config(cls) -> FlowMatchingConfig:
        """A tiny configuration that trains in seconds (tests, ``--dry-run``)."""
        return FlowMatchingConfig(
            layer_hidden=(32,), layer_embed_dim=16, dim=16, depth=1, heads=2, solver="euler", n_steps=2
        )

    # ------------------------------------------------------------------ preprocessing
    def fit_preprocessing(self, showers: Tensor, conditions: Tensor) -> None:
        """Fits the condition encoding and the log-standardisation of both stages.

        Arguments:
            showers: Training showers, (N, n_voxels), MeV.
            conditions: Raw conditions, (N, C).
        """
        showers, conditions = showers.float(), conditions.float()
        self.condition_encoder.fit(conditions)
        layers, fractions = self._layers_and_fractions(showers, conditions)
        self.layer_norm.fit(layers, conditions)
        self.context_norm.fit(layers, conditions)
        self.voxel_norm.fit(fractions, conditions)
        super().fit_preprocessing(showers, conditions)

    def preprocess(self, showers: Tensor, conditions: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Showers (B, V) MeV → model-space stage-1 variables (B, L), voxel fractions (B, V) and shape context (B, L).

        With ``dequantise_mev`` > 0 the voxel fractions are random (fresh dequantisation noise per call).
        """
        layers, fractions = self._layers_and_fractions(showers, conditions)
        context = self.context_norm(layers, conditions)
        return self.layer_norm(layers, conditions), self.voxel_norm(fractions, conditions), context

    def _layers_and_fractions(self, showers: Tensor, conditions: Tensor) -> tuple[Tensor, Tensor]:
        """Layer energies / E_inc of the showers (B, L) and the shape-stage voxels (B, V), dequantised if configured.

        The voxels are fractions of their layer's energy, or energies in MeV with ``voxel_transform: log1p-mev``.
        """
        layers = self.layer_fractions.layer_energies(showers) / conditions[:, :1]
        level = self.config.dequantise_mev
        voxels = torch.where(showers < level, torch.rand_like(showers) * level, showers) if level > 0 else showers
        if self.config.voxel_transform == "log1p-mev":
            return layers, voxels
        return layers, self.layer_fractions.split(self.layer_fractions(voxels, conditions))[1]

    def shape_context(self, encoded: Tensor, y_layers: Tensor, conditions: Tensor) -> Tensor:
        """Conditioning of the shape network: encoded conditions and the layer energies of stage-1 output ``y_layers``."""
        layers = self.layer_norm.inverse(y_layers, conditions)
        return torch.cat([encoded, self.context_norm(layers, conditions)], dim=1)

    def postprocess(self, y_layers: Tensor, y_voxels: Tensor, conditions: Tensor) -> Tensor:
        """Model space → showers (B, V) in MeV ≥ 0; voxel fractions are clipped at 1, then renormalised per layer.

        With dequantisation, the voxels that survive the threshold cut are rescaled to carry the whole
        generated layer energy again: the cut removes the dequantisation noise, which in the sparse
        tails of a shower is a sizeable part of a layer.
        """
        layers = self.layer_norm.inverse(y_layers, conditions)
        # A voxel holds at most its whole layer: clipping the rare far-out values of the shape flow at
        # fraction 1 stops one of them from taking a layer's energy when the layer is renormalised.
        voxels = self.voxel_norm.inverse(y_voxels, conditions)
        if self.config.voxel_transform != "log1p-mev":  # energies need no clip: normalising bounds them
            voxels = voxels.clamp(max=1.0)
        showers = self._spread_over_layers(layers, voxels, conditions)
        threshold = self.config.voxel_threshold_mev
        if threshold <= 0 and self.config.occupancy_bins == 0:
            return showers
        if threshold > 0:
            showers = torch.where(showers > threshold, showers, torch.zeros_like(showers))
        if self.config.occupancy_bins > 0:
            showers = torch.where(showers >= self.occupancy_cut(conditions), showers, torch.zeros_like(showers))
        if self.config.dequantise_mev > 0 or self.config.voxel_transform == "log1p-mev" or self.config.occupancy_bins:
            showers = self._spread_over_layers(layers, showers, conditions)
        return showers

    def _spread_over_layers(self, layers: Tensor, voxels: Tensor, conditions: Tensor) -> Tensor:
        """Non-negative voxels (B, V) rescaled so that each layer carries ``layers`` (B, L, units of E_inc), MeV."""
        fractions = self.layer_fractions.normalise(voxels)
        return self.layer_fractions.inverse(torch.cat([layers, fractions], dim=1), conditions)

    def occupancy_bin(self, conditions: Tensor) -> Tensor:
        """Index (B,) of the occupancy-calibration energy bin of each row of ``conditions`` (B, C)."""
        log_e = torch.log(conditions[:, :1].clamp_min(1e-30))
        return (log_e >= self.occupancy_edges[None, :]).sum(dim=1)  # comparisons only: exports to ONNX

    def occupancy_cut(self, conditions: Tensor) -> Tensor:
        """Calibrated per-voxel cuts (B, V) MeV for the incident energies of ``conditions`` (B, C)."""
        return self.voxel_cut[self.occupancy_bin(conditions)]

    # ------------------------------------------------------------------ training
    def optimizer_settings(self) -> dict[str, dict[str, Any]]:
        """Adam keyword arguments of the single group ``"main"``."""
        return {"main": {"lr": self.config.lr}}

    def loss(self, batch: ShowerBatch, group: str = "main") -> LossOutput:
        """Flow-matching loss: MSE between predicted and path velocities of both stages.

        The shape network is conditioned on the true (preprocessed) layer energies.

        Raises:
            KeyError: Unknown group.
        """
        if group != "main":
            msg = f"unknown optimizer group {group!r}; choices are ['main']"
            raise KeyError(msg)
        conditions = batch.conditions.float()
        encoded = self.condition_encoder(conditions)
        showers = batch.showers.float()
        if self.symmetry is not None and self.training:
            showers = self.symmetry(showers)
        y_layers, y_voxels, layer_context = self.preprocess(showers, conditions)
        layer_loss = self.velocity_loss(self.layer_net, y_layers, encoded)
        shape_loss = self.velocity_loss(self.shape_net, y_voxels, torch.cat([encoded, layer_context], dim=1))
        return self.combine_losses(layer_loss, shape_loss)

    def combine_losses(self, layer_loss: Tensor, shape_loss: Tensor) -> LossOutput:
        """The weighted sum of the two stages' losses, with both parts as metrics."""
        total = self.config.layer_loss_weight * layer_loss + shape_loss
        metrics = {"layer_loss": float(layer_loss.detach()), "shape_loss": float(shape_loss.detach())}
        return LossOutput(total, metrics)

    def velocity_loss(self, net: nn.Module, x1: Tensor, context: Tensor, x0: Tensor | None = None) -> Tensor:
        """Mean squared error of ``net``'s velocity on the path from x0 (default: fresh noise) to x1 (B, D)."""
        x0 = torch.randn_like(x1) if x0 is None else x0
        t = sample_times(x1.shape[0], self.config.time_sampling, device=x1.device)
        v = net(self.path.sample(x0, x1, t), t, context)
        return torch.mean((v - self.path.velocity(x0, x1, t)) ** 2)

    # ------------------------------------------------------------------ generation
    @property
    def noise_dim(self) -> int:
        """Layer-stage noise (n_layers, or n_layers + 1 with ``"shares"``) followed by shape-stage noise (n_voxels)."""
        return self.n_stage1 + self.geometry.n_voxels

    def decode(
        self, conditions: Tensor, noise: Tensor, *, solver: SolverName | None = None, n_steps: int | None = None
    ) -> Tensor:
        """Integrates both stages from the given noise; deterministic.

        Arguments:
            conditions: Raw conditions, (B, C): incident energy in MeV [, angle in rad].
            noise: Standard-normal noise, (B, noise_dim): stage 1, then the voxels.
            solver: Solver name overriding the config's (for step-count studies).
            n_steps: Number of steps overriding the config's.

        Returns:
            Voxel energies, (B, n_voxels), MeV ≥ 0, CaloChallenge order.
        """
        y_layers, y_voxels = self.integrate(conditions, noise, solver=solver, n_steps=n_steps)
        return self.postprocess(y_layers, y_voxels, conditions.float())

    def integrate(
        self,
        conditions: Tensor,
        noise: Tensor,
        *,
        solver: SolverName | None = None,
        n_steps: int | None = None,
        shape_layers: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Model-space end points of both stages: stage-1 variables (B, n_stage1) and voxel fractions (B, V).

        ``shape_layers`` (model-space stage-1 variables, e.g. a teacher's) conditions the shape stage
        instead of this model's own stage-1 output (distillation); the returned stage-1 output is still
        this model's.
        """
        from caloforge.solvers import build_solver, solve

        conditions = conditions.float()
        encoded = self.condition_encoder(conditions)
        steps = n_steps if n_steps is not None else self.config.n_steps
        ode = build_solver(solver if solver is not None else self.config.solver)
        n_stage1 = self.n_stage1
        noise = noise.to(encoded.dtype)
        y_layers = solve(lambda x, t: self.layer_net(x, t, encoded), noise[:, :n_stage1], ode, steps)
        context = self.shape_context(encoded, y_layers if shape_layers is None else shape_layers, conditions)
        y_voxels = solve(lambda x, t: self.shape_net(x, t, context), noise[:, n_stage1:], ode, steps)
        return y_layers, y_voxels

    def extra_repr(self) -> str:
        """The config, shown by ``print(model)``."""
        return ", ".join(f"{f.name}={getattr(self.config, f.name)!r}" for f in dataclasses.fields(self.config))


def _stage1_transform(config: FlowMatchingConfig, n_layers: int) -> tuple[Transform, int]:
    """The stage-1 transform of layer energies / E_inc and its output width."""
    if config.layer_parametrisation == "shares":
        return ResponseShares(config.layer_log_eps), n_layers + 1
    if config.layer_parametrisation == "shares-mev":
        return ResponseLayersMeV(config.layer_scale_mev, config.layer_log_eps), n_layers + 1
    if config.layer_parametrisation == "stick-breaking":
        return StickBreaking(config.layer_log_eps, config.layer_logit_alpha), n_layers
    return Log(config.layer_log_eps), n_layers


def with_sampler(model: FlowMatching, solver: SolverName | None = None, n_steps: int | None = None) -> FlowMatching:
    """A copy of ``model`` (same weights and preprocessing) whose config decodes with another solver / step count.

    Example:
        >>> from caloforge.geometry import Geometry
        >>> g = Geometry.regular("toy", n_layers=2, n_alpha=1, r_edges=[0, 1, 2])
        >>> fast = with_sampler(FlowMatching(g, FlowMatching.smoke_config()), "rk4", 1)
        >>> fast.config.solver, fast.config.n_steps
        ('rk4', 1)
    """
    changes: dict[str, Any] = {}
    if solver is not None:
        changes["solver"] = solver
    if n_steps is not None:
        changes["n_steps"] = n_steps
    config = dataclasses.replace(model.config, **changes)
    copy = type(model)(model.geometry, config, n_conditions=model.n_conditions)
    copy.load_state_dict(model.state_dict())
    return copy.to(model._device())

"""Hyper-parameters of the conditional flow-matching model, as a frozen dataclass.

Example:
    >>> from caloforge.config import from_dict, to_dict
    >>> config = FlowMatchingConfig(dim=32, solver="heun", n_steps=8)
    >>> from_dict(FlowMatchingConfig, to_dict(config)) == config
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from caloforge.solvers import check_solver

__all__ = ["FlowMatchingConfig", "SolverName"]

SolverName = str
"""A name registered in :data:`caloforge.solvers.SOLVERS` (checked when a config is built)."""


@dataclass(frozen=True)
class FlowMatchingConfig:
    """Configuration of :class:`caloforge.models.diffusion.FlowMatching`.

    Attributes:
        layer_hidden: Hidden widths of the layer-energy velocity MLP.
        layer_embed_dim: Width of its time + condition embedding.
        dim: Token width of the layer-token transformer (shape network).
        depth: Transformer blocks.
        heads: Attention heads (divides ``dim``).
        mlp_ratio: Feed-forward width of the blocks relative to ``dim``.
        dropout: Dropout in the transformer blocks.
        shape_skip: Voxel-space linear skip connection from each layer token's input to its output
            velocity (see :class:`~caloforge.models.diffusion.denoiser.LayerTransformer`).
        sigma_min: Width of the conditional path at the data end (0: rectified flow).
        time_sampling: Distribution of the training times: ``"uniform"`` or ``"logit-normal"``.
        layer_parametrisation: Stage-1 variables: ``"shares"`` (log response and the log of each
            layer's share of it, renormalised at generation; L + 1 variables), ``"stick-breaking"``
            (log response and logits of each layer's share of the energy left from it on,
            CaloFlow's u) — with both, the generated layer energies add up to the generated
            response — or ``"log"`` (the log of every layer energy / incident energy on its own,
            which lets a single layer inflate the total), or ``"shares-mev"``: the log response and
            ``log(1 + E_i / layer_scale_mev)`` of every layer energy in MeV, renormalised to the
            response like ``"shares"`` but linear below one minimum-ionising hit, so that empty
            layers and single-hit layers are not ten units apart
            (:class:`~caloforge.data.layer_transforms.ResponseLayersMeV`).
        layer_scale_mev: The scale of ``"shares-mev"``, MeV.
        layer_log_eps: Offset of the log of the response (stick-breaking) or of each layer energy /
            incident energy (log); also of the layer energies given to the shape network.
        layer_logit_alpha: Squeeze of the stick-breaking shares before their logit.
        voxel_log_eps: Offset of the log of voxel energy / layer energy (``voxel_transform: log``).
        voxel_transform: Map of the voxels before their standardisation: of the voxel fractions
            (voxel energy / layer energy) ``"log"`` (``log(f + voxel_log_eps)``) or ``"logit"``
            (CaloDREAM's ``logit(α + (1 − 2α) f)`` with α = ``voxel_logit_alpha``); or
            ``"log1p-mev"``, ``log(1 + E / voxel_scale_mev)`` of the voxel energy in MeV itself,
            which is linear below the energy of a single minimum-ionising hit: an empty voxel and
            a voxel with one hit are then close, where the log of fractions puts them ten units
            apart and the shape flow fills the gap with sub-MeV deposits that Geant4 never makes.
            Generated voxels are renormalised to the generated layer energies in every case.
        voxel_scale_mev: The scale of ``voxel_transform: log1p-mev``, MeV.
        voxel_logit_alpha: The α of ``voxel_transform: logit``.
        dequantise_mev: Where > 0, training replaces every voxel below this energy (MeV; the
            readout threshold, 0.01515 for CaloChallenge) by uniform noise in (0, dequantise_mev)
            before the voxel fractions are taken, so that the shape flow learns a continuous
            density instead of a point mass at zero; generation cuts at ``voxel_threshold_mev``
            again. The layer-energy stage always sees the undisturbed showers.
        min_std: Floor on the fitted per-feature std of both stages (log space).
        voxel_standardisation: ``"shared"``: one mean and std for all log voxel fractions, so
            voxels that are empty in almost every shower keep their rare non-zero values within a
            few units; ``"per-voxel"``: a mean and std per voxel (their non-zero values can sit
            at a hundred standard deviations).
        voxel_threshold_mev: Generated voxels below this energy (MeV) are set to 0 (the readout
            threshold of the training data, 0.01515 for CaloChallenge).
        augment: ``"angular"``: train on a random rotation (whole angular bins) or mirror image of
            every shower (:class:`~caloforge.data.augment.AngularSymmetry`), exact for particles
            entering a cylindrical calorimeter along its axis; energy-only conditioning. ``"none"``: off.
        occupancy_bins: Number of incident-energy bins of the occupancy calibration (0: none). A
            calibrated model (:func:`~caloforge.models.diffusion.occupancy.calibrate_occupancy`,
            ``caloforge calibrate``) zeroes each voxel below a cut, per energy bin, chosen on
            training showers so that the voxel is populated as often as in them; the layers are
            renormalised to their generated energies afterwards.
        layer_loss_weight: Weight of the layer-energy loss relative to the shape loss.
        lr: Adam learning rate.
        solver: ODE solver used by :meth:`~caloforge.models.diffusion.FlowMatching.decode`.
        n_steps: Solver steps of both stages (network evaluations: ``n_steps`` × solver stages).
    """

    layer_hidden: tuple[int, ...] = (256, 256)
    layer_embed_dim: int = 64
    dim: int = 128
    depth: int = 4
    heads: int = 4
    mlp_ratio: float = 2.0
    dropout: float = 0.0
    shape_skip: bool = False
    sigma_min: float = 0.0
    time_sampling: Literal["uniform", "logit-normal"] = "logit-normal"
    layer_parametrisation: Literal["shares", "shares-mev", "stick-breaking", "log"] = "shares"
    layer_scale_mev: float = 1.0
    layer_log_eps: float = 1e-6
    layer_logit_alpha: float = 1e-6
    voxel_log_eps: float = 1e-7
    voxel_transform: Literal["log", "logit", "log1p-mev"] = "log"
    voxel_scale_mev: float = 1.0
    voxel_logit_alpha: float = 1e-6
    dequantise_mev: float = 0.0
    min_std: float = 0.05
    voxel_standardisation: Literal["shared", "per-voxel"] = "per-voxel"
    voxel_threshold_mev: float = 0.0
    augment: Literal["none", "angular"] = "none"
    occupancy_bins: int = 0
    layer_loss_weight: float = 1.0
    lr: float = 5e-4
    solver: SolverName = "midpoint"
    n_steps: int = 16

    def __post_init__(self) -> None:
        check_solver(self.solver)
        if self.n_steps < 1:
            msg = f"n_steps must be at least 1, got {self.n_steps}"
            raise ValueError(msg)
        if self.dim % self.heads:
            msg = f"heads ({self.heads}) must divide dim ({self.dim})"
            raise ValueError(msg)
        if self.layer_log_eps <= 0 or self.voxel_log_eps <= 0:
            msg = f"log offsets must be positive, got {self.layer_log_eps}, {self.voxel_log_eps}"
            raise ValueError(msg)
        if not 0.0 < self.layer_logit_alpha < 0.5:
            msg = f"layer_logit_alpha must be in (0, 0.5), got {self.layer_logit_alpha}"
            raise ValueError(msg)
        if self.layer_parametrisation not in ("shares", "shares-mev", "stick-breaking", "log"):
            choices = "['log', 'shares', 'shares-mev', 'stick-breaking']"
            msg = f"unknown layer_parametrisation {self.layer_parametrisation!r}; choices are {choices}"
            raise ValueError(msg)
        if self.occupancy_bins < 0:
            msg = f"occupancy_bins must be >= 0, got {self.occupancy_bins}"
            raise ValueError(msg)
        if self.augment not in ("none", "angular"):
            msg = f"unknown augment {self.augment!r}; choices are ['angular', 'none']"
            raise ValueError(msg)
        if self.voxel_transform not in ("log", "logit", "log1p-mev"):
            msg = f"unknown voxel_transform {self.voxel_transform!r}; choices are ['log', 'log1p-mev', 'logit']"
            raise ValueError(msg)
        if self.voxel_scale_mev <= 0 or self.layer_scale_mev <= 0:
            msg = f"voxel_scale_mev and layer_scale_mev must be positive, got {self.voxel_scale_mev}, {self.layer_scale_mev}"
            raise ValueError(msg)
        if not 0.0 < self.voxel_logit_alpha < 0.5:
            msg = f"voxel_logit_alpha must be in (0, 0.5), got {self.voxel_logit_alpha}"
            raise ValueError(msg)
        if self.dequantise_mev < 0:
            msg = f"dequantise_mev must be >= 0, got {self.dequantise_mev}"
            raise ValueError(msg)
        if self.voxel_standardisation not in ("shared", "per-voxel"):
            msg = f"unknown voxel_standardisation {self.voxel_standardisation!r}; choices are ['per-voxel', 'shared']"
            raise ValueError(msg)
        if not 0.0 <= self.sigma_min < 1.0:
            msg = f"sigma_min must be in [0, 1), got {self.sigma_min}"
            raise ValueError(msg)

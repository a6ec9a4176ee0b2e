"""CaloFlow's preprocessing: showers ↔ (layer-energy features, voxel-fraction features).

A shower (B, n_voxels) in MeV is dequantised with uniform noise, split into layer energies over
the incident energy ``u_l = E_l / E_inc`` and within-layer voxel fractions ``f_v = x_v / E_l``, and
both are mapped to roughly standard-normal features: ``standardise(log(u + eps))`` for flow I and
``standardise(logit(f))`` for flow II. The inverse clamps to the physical range, renormalises the
fractions of each layer to sum to 1 and applies the readout threshold, so generated showers are
MeV ≥ 0 in CaloChallenge order. All fitted statistics are buffers (they travel in checkpoints).

Example:
    >>> import torch
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=3, n_alpha=2, r_edges=[0, 1, 2])
    >>> prep = FlowPreprocessing(g, noise_mev=0.0)
    >>> x, c = torch.rand(8, 12) * 10 + 1, torch.full((8, 1), 500.0)
    >>> prep.fit(x, c)
    >>> features = prep.encode(x, c, dequantise="none")
    >>> features.layers.shape, features.voxels.shape, features.log_jacobian.shape
    (torch.Size([8, 3]), torch.Size([8, 12]), torch.Size([8]))
    >>> bool(torch.allclose(prep.decode(features.layers, features.voxels, c), x, rtol=1e-3))
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from caloforge.data.transforms import ConditionEncoder, LayerFractions, Log, Logit, Standardize
from caloforge.geometry import Geometry

__all__ = ["FlowFeatures", "FlowPreprocessing"]

#: ``"random"``: uniform noise in [0, noise) (training); ``"mid"``: noise/2 (deterministic
#: density evaluation); ``"none"``: no noise.
Dequantise = Literal["random", "mid", "none"]


@dataclass
class FlowFeatures:
    """Showers in the flows' feature space.

    Attributes:
        context: Encoded conditions, (B, C), in [0, 1].
        layers: Standardised log layer energies over E_inc, (B, n_layers).
        voxels: Standardised logit voxel fractions, (B, n_voxels).
        log_jacobian: log |det d(layers, voxels) / d(u, f)| per shower, (B,), so that
            ``log p(u, f) = log p(features) + log_jacobian``.
    """

    context: Tensor
    layers: Tensor
    voxels: Tensor
    log_jacobian: Tensor


class FlowPreprocessing(nn.Module):
    """Fitted, invertible map between showers in MeV and CaloFlow features.

    Arguments:
        geometry: Readout geometry.
        n_conditions: 1 (energy) or 2 (energy and angle).
        noise_mev: Width of the dequantisation noise and readout threshold of generated voxels, MeV.
        alpha: Logit offset of the voxel fractions.
        log_eps: Offset of the log of the layer energies over E_inc.
    """

    def __init__(
        self,
        geometry: Geometry,
        n_conditions: int = 1,
        *,
        noise_mev: float = 1e-3,
        alpha: float = 1e-6,
        log_eps: float = 1e-8,
    ) -> None:
        super().__init__()
        self.noise_mev = noise_mev
        self.condition_encoder = ConditionEncoder(n_conditions)
        self.fractions = LayerFractions(geometry)
        self.layer_log = Log(eps=log_eps)
        self.layer_std = Standardize(geometry.n_layers)
        self.voxel_logit = Logit(alpha=alpha)
        self.voxel_std = Standardize(geometry.n_voxels)

    def dequantise(self, showers: Tensor, mode: Dequantise) -> Tensor:
        """Adds uniform noise of width ``noise_mev`` (``"random"``), half of it (``"mid"``) or nothing."""
        if mode == "none" or self.noise_mev <= 0:
            return showers
        if mode == "mid":
            return showers + 0.5 * self.noise_mev
        return showers + self.noise_mev * torch.rand_like(showers)

    def fit(self, showers: Tensor, conditions: Tensor) -> None:
        """Fits the condition range and the feature standardisation.

        Arguments:
            showers: Training showers, (N, n_voxels), MeV.
            conditions: Raw conditions, (N, C).
        """
        showers, conditions = showers.float(), conditions.float()
        self.condition_encoder.fit(conditions)
        u, f = self.fractions.split(self.fractions(self.dequantise(showers, "mid"), conditions))
        self.layer_std.fit(self.layer_log(u, conditions), conditions)
        self.voxel_std.fit(self.voxel_logit(f, conditions), conditions)

    def encode(self, showers: Tensor, conditions: Tensor, *, dequantise: Dequantise = "random") -> FlowFeatures:
        """Showers (B, n_voxels) MeV and raw conditions (B, C) → :class:`FlowFeatures`."""
        showers, conditions = showers.float(), conditions.float()
        u, f = self.fractions.split(self.fractions(self.dequantise(showers, dequantise), conditions))
        layers = self.layer_std(self.layer_log(u, conditions), conditions)
        voxels = self.voxel_std(self.voxel_logit(f, conditions), conditions)
        # d/du standardise(log(u + eps)) = 1 / ((u + eps) std)
        log_jac = -torch.log(u + self.layer_log.eps).sum(1) - torch.log(self.layer_std.std).sum()
        # d/df standardise(logit(s)), s = alpha + (1 - 2 alpha) f: (1 - 2 alpha) / (s (1 - s) std)
        alpha = self.voxel_logit.alpha
        s = alpha + (1 - 2 * alpha) * f.clamp(0.0, 1.0)
        log_jac = log_jac + f.shape[1] * math.log(1 - 2 * alpha) - torch.log(s * (1 - s)).sum(1)
        log_jac = log_jac - torch.log(self.voxel_std.std).sum()
        return FlowFeatures(self.condition_encoder(conditions), layers, voxels, log_jac)

    def context(self, conditions: Tensor) -> Tensor:
        """Encoded conditions, (B, C) raw → (B, C) in [0, 1]."""
        encoded: Tensor = self.condition_encoder(conditions.float())
        return encoded

    def decode(self, layers: Tensor, voxels: Tensor, conditions: Tensor) -> Tensor:
        """Features → showers (B, n_voxels), MeV ≥ 0, below-threshold voxels set to 0.

        Arguments:
            layers: Layer features, (B, n_layers).
            voxels: Voxel features, (B, n_voxels).
            conditions: Raw conditions, (B, C).
        """
        conditions = conditions.float()
        u = self.layer_log.inverse(self.layer_std.inverse(layers, conditions), conditions)
        f = self.voxel_logit.inverse(self.voxel_std.inverse(voxels, conditions), conditions)
        f = self.fractions.normalise(f)
        showers = self.fractions.inverse(torch.cat([u, f], dim=1), conditions)
        if self.noise_mev <= 0:
            return showers
        return torch.where(showers >= self.noise_mev, showers, torch.zeros_like(showers))

"""The conditional WGAN critic, optionally fed per-layer energy features of its input.

Example:
    >>> import torch
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=3, n_alpha=4, r_edges=[0, 1, 2, 4, 8, 16])
    >>> critic = Critic(g, n_conditions=1, hidden=(16,))
    >>> x, fractions = torch.randn(5, 60), torch.rand(5, 60) / 60
    >>> critic(x, fractions, torch.rand(5, 1)).shape
    torch.Size([5])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from caloforge.data.transforms import LayerSum, Standardize
from caloforge.geometry import Geometry
from caloforge.nn.mlp import MLP, Activation

__all__ = ["Critic"]

_LAYER_EPS = 1e-6
_LAYER_MAX = 1e3  # keeps early, wild generator outputs finite


class Critic(nn.Module):
    """Scores showers given their conditions; higher means "more like the training data".

    The input is the preprocessed voxel vector, the encoded conditions and, when
    ``layer_features`` is set, the standardised ``log(layer energy / E_inc + 1e-6)`` of each layer,
    which makes the longitudinal profile directly visible to a dense critic. No batch
    normalisation is used, as the gradient penalty is defined per sample.

    Arguments:
        geometry: Readout geometry (gives the voxel → layer map).
        n_conditions: Width of the encoded conditions.
        hidden: Hidden widths.
        activation: Hidden activation.
        layer_features: Append per-layer energy features.
    """

    def __init__(
        self,
        geometry: Geometry,
        n_conditions: int = 1,
        hidden: Sequence[int] = (512, 256, 128),
        activation: Activation = "leaky_relu",
        *,
        layer_features: bool = True,
    ) -> None:
        super().__init__()
        self.n_layers = geometry.n_layers if layer_features else 0
        self.layer_features = layer_features
        self.layer_sum = LayerSum(geometry)
        self.layer_norm = Standardize(max(self.n_layers, 1), min_std=0.1)
        self.net = MLP(geometry.n_voxels + self.n_layers + n_conditions, 1, hidden, activation)

    def _layer_log_fractions(self, fractions: Tensor) -> Tensor:
        layers = self.layer_sum(fractions).clamp(max=_LAYER_MAX)
        return torch.log(layers + _LAYER_EPS)

    def fit(self, fractions: Tensor) -> None:
        """Fits the layer-feature standardisation on real voxel energy fractions (N, n_voxels)."""
        if self.layer_features:
            self.layer_norm.fit(self._layer_log_fractions(fractions), fractions[:, :1])

    def forward(self, x: Tensor, fractions: Tensor, conditions: Tensor) -> Tensor:
        """Critic scores.

        Arguments:
            x: Preprocessed voxels, (B, n_voxels).
            fractions: The same showers as voxel energy / incident energy, (B, n_voxels); must be a
                differentiable function of ``x`` for the gradient penalty to see the layer features.
            conditions: Encoded conditions, (B, C).

        Returns:
            Scores, (B,).
        """
        parts = [x, conditions]
        if self.layer_features:
            parts.insert(1, self.layer_norm(self._layer_log_fractions(fractions), conditions))
        scores: Tensor = self.net(torch.cat(parts, dim=1))
        return scores.squeeze(1)

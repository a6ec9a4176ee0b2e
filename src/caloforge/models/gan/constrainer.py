"""The energy constrainer: a regression network estimating the incident energy of a shower.

Example:
    >>> import torch
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=3, n_alpha=4, r_edges=[0, 1, 2, 4, 8, 16])
    >>> c = Constrainer(g, hidden=(16,))
    >>> c(torch.rand(5, 60) * 100).shape
    torch.Size([5])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from caloforge.data.transforms import LayerSum, Standardize
from caloforge.geometry import Geometry
from caloforge.nn.mlp import MLP, Activation

__all__ = ["Constrainer"]


class Constrainer(nn.Module):
    """Regresses the encoded incident energy (log-scaled to [0, 1]) from a shower in MeV.

    Its inputs are ``log(1 + E / MeV)`` of every layer sum and of the total deposit,
    standardised with statistics fitted on real showers: absolute deposited energies and the
    longitudinal profile, which determine the incident energy of an electromagnetic shower and
    are what the generator's energy response must get right. (Voxel-level inputs made the
    regression much slower to learn at GAN learning rates without improving it.) It is trained on real showers; the generator is
    then penalised by the squared difference between the requested energy and the constrainer's
    estimate on its showers.

    Arguments:
        geometry: Readout geometry (gives the voxel → layer map).
        hidden: Hidden widths.
        activation: Hidden activation.

    References:
        Erdmann, Glombitza, Quast, "Precise simulation of electromagnetic calorimeter showers
        using a Wasserstein Generative Adversarial Network", https://arxiv.org/abs/1807.01954
    """

    def __init__(
        self,
        geometry: Geometry,
        hidden: Sequence[int] = (128, 64),
        activation: Activation = "leaky_relu",
    ) -> None:
        super().__init__()
        self.n_layers = geometry.n_layers
        self.layer_sum = LayerSum(geometry)
        width = self.n_layers + 1
        self.norm = Standardize(width, min_std=0.1)
        self.net = MLP(width, 1, hidden, activation)

    def features(self, showers: Tensor) -> Tensor:
        """Unstandardised inputs: log(1 + MeV) of the layer sums and the total, (B, L + 1)."""
        layers = self.layer_sum(showers)
        return torch.log1p(torch.cat([layers, layers.sum(dim=1, keepdim=True)], dim=1))

    def fit(self, showers: Tensor) -> None:
        """Fits the input standardisation on real showers (N, n_voxels), MeV."""
        features = self.features(showers)
        self.norm.fit(features, features[:, :1])

    def forward(self, showers: Tensor) -> Tensor:
        """Showers (B, n_voxels), MeV → estimated encoded energy (B,)."""
        features = self.features(showers)
        energy: Tensor = self.net(self.norm(features, features[:, :1]))
        return energy.squeeze(1)

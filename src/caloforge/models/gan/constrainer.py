"""The energy constrainer: a regression network estimating the incident energy of a shower.

Example:
    >>> import torch
    >>> c = Constrainer(n_voxels=60, hidden=(16,))
    >>> c(torch.rand(5, 60) * 100).shape
    torch.Size([5])
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from caloforge.data.transforms import Compose, Log, Standardize
from caloforge.nn.mlp import MLP, Activation

__all__ = ["Constrainer"]


class Constrainer(nn.Module):
    """Regresses the encoded incident energy (log-scaled to [0, 1]) from a shower in MeV.

    It reads the physical shower through its own fitted ``log(1 MeV + x)`` + standardisation, so it
    sees absolute deposited energies, which is what constrains the generator's energy response. It
    is trained on real showers; the generator is then penalised by the squared difference between
    the requested energy and the constrainer's estimate on its showers.

    Arguments:
        n_voxels: Input width.
        hidden: Hidden widths.
        activation: Hidden activation.

    References:
        Erdmann, Glombitza, Quast, "Precise simulation of electromagnetic calorimeter showers
        using a Wasserstein Generative Adversarial Network", https://arxiv.org/abs/1807.01954
    """

    def __init__(
        self,
        n_voxels: int,
        hidden: Sequence[int] = (128, 64),
        activation: Activation = "leaky_relu",
    ) -> None:
        super().__init__()
        self.inputs = Compose(Log(eps=1.0), Standardize(n_voxels, min_std=0.1))
        self.net = MLP(n_voxels, 1, hidden, activation)

    def fit(self, showers: Tensor, conditions: Tensor) -> None:
        """Fits the input standardisation on real showers (N, n_voxels), MeV, and raw conditions (N, C)."""
        self.inputs.fit(showers, conditions)

    def forward(self, showers: Tensor) -> Tensor:
        """Showers (B, n_voxels), MeV → estimated encoded energy (B,)."""
        return self.net(self.inputs(showers, showers[:, :1])).squeeze(1)

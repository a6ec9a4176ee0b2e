"""The dense conditional generator: noise and encoded conditions → preprocessed voxels.

Example:
    >>> import torch
    >>> g = Generator(n_voxels=60, latent_dim=8, n_conditions=1, hidden=(16,))
    >>> g(torch.randn(5, 8), torch.rand(5, 1)).shape
    torch.Size([5, 60])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from caloforge.nn.mlp import MLP, Activation

__all__ = ["Generator"]


class Generator(nn.Module):
    """Maps noise and encoded conditions to voxels in the model's preprocessed (standardised log) space.

    A plain MLP: the cost per shower is dominated by ``hidden[-1] x n_voxels`` multiply-adds, which
    keeps generation well below a millisecond per shower on a CPU.

    Arguments:
        n_voxels: Output width.
        latent_dim: Noise width.
        n_conditions: Width of the encoded conditions.
        hidden: Hidden widths.
        activation: Hidden activation.
    """

    def __init__(
        self,
        n_voxels: int,
        latent_dim: int,
        n_conditions: int = 1,
        hidden: Sequence[int] = (256, 256),
        activation: Activation = "leaky_relu",
    ) -> None:
        super().__init__()
        self.net = MLP(latent_dim + n_conditions, n_voxels, hidden, activation)

    @property
    def head(self) -> nn.Linear:
        """The output layer (last hidden width → n_voxels)."""
        head = self.net[-1]
        assert isinstance(head, nn.Linear)
        return head

    def features(self, noise: Tensor, conditions: Tensor) -> Tensor:
        """The last hidden activations, (B, hidden[-1]) (the input of :attr:`head`)."""
        h = torch.cat([noise, conditions], dim=1)
        for layer in list(self.net)[:-1]:
            h = layer(h)
        return h

    def forward(self, noise: Tensor, conditions: Tensor) -> Tensor:
        """Noise (B, latent_dim) and encoded conditions (B, C) → preprocessed voxels (B, n_voxels)."""
        out: Tensor = self.head(self.features(noise, conditions))
        return out

"""The BIB-AE's critics: one on (input, reconstruction) pairs with batch-statistics features, one on latents.

The pair critic replaces a pixel loss: it scores a pair of cell grids stacked as two channels, real
pairs ``(x, x)`` against reconstructed ones ``(x, x̃)``, so the decoder learns what a faithful
reconstruction looks like rather than a squared-error average of possible showers. Besides the
convolution features it sees per-shower summaries of both members (mean cell value, hit fraction,
mean absolute difference) and their batch mean and standard deviation (minibatch statistics, which
let a critic notice a collapsed batch).

Example:
    >>> import torch
    >>> critic = PairCritic((3, 4, 5), (4,), 16, n_conditions=1, circular=True)
    >>> x = torch.rand(6, 60)
    >>> critic(x, x, torch.rand(6, 1)).shape
    torch.Size([6])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from caloforge.models.bibae.networks import ConvEncoder, DenseEncoder
from caloforge.nn.mlp import MLP

__all__ = ["LatentCritic", "PairCritic", "pair_statistics", "reset_parameters"]

#: Per-shower summaries of a pair: 2 × (mean cell, hit fraction) + mean absolute difference.
_N_STATS = 5


def pair_statistics(x: Tensor, x_rec: Tensor) -> Tensor:
    """Per-shower summaries of a pair and their batch mean and std, (B, 3 · 5).

    Arguments:
        x: Cells (B, V) in network units.
        x_rec: Reconstructed cells (B, V).
    """
    stats = torch.stack(
        [
            x.mean(1),
            x_rec.mean(1),
            (x > 0).to(x.dtype).mean(1),
            (x_rec > 0).to(x.dtype).mean(1),
            (x - x_rec).abs().mean(1),
        ],
        dim=1,
    )
    mean = stats.mean(0, keepdim=True).expand_as(stats)
    # sqrt(var + ε): a constant feature (the zero difference of real pairs) has std 0, where std's gradient is NaN
    std = (stats.var(0, keepdim=True, unbiased=False) + 1e-6).sqrt().expand_as(stats)
    return torch.cat([stats, mean, std], dim=1)


class PairCritic(nn.Module):
    """WGAN critic on (input, reconstruction) pairs of cell grids, with batch statistics.

    Arguments:
        shape: The grid (L, A, R), or ``None`` for the dense fallback (then ``n_cells`` is needed).
        channels: Channels of the stride-2 convolutions.
        hidden: Width of the dense head.
        n_conditions: Width of the encoded conditions.
        circular: The second grid axis wraps around.
        n_cells: Cells per shower (dense fallback only).
    """

    def __init__(
        self,
        shape: tuple[int, int, int] | None,
        channels: Sequence[int],
        hidden: int,
        *,
        n_conditions: int,
        circular: bool = False,
        n_cells: int = 0,
    ) -> None:
        super().__init__()
        extra = n_conditions + 3 * _N_STATS
        self.trunk: ConvEncoder | DenseEncoder
        if shape is not None:
            self.trunk = ConvEncoder(
                shape, channels, hidden, n_conditions=extra, out_features=1, circular=circular, in_channels=2
            )
        else:
            self.trunk = DenseEncoder(n_cells, hidden, n_conditions=extra, out_features=1, in_channels=2)

    def forward(self, x: Tensor, x_rec: Tensor, conditions: Tensor) -> Tensor:
        """Scores (B,) of pairs: cells (B, V), reconstructions (B, V), encoded conditions (B, C)."""
        pair = torch.stack([x, x_rec], dim=1).flatten(1)
        side = torch.cat([conditions, pair_statistics(x, x_rec)], dim=1)
        out: Tensor = self.trunk(pair, side)
        return out[:, 0]


class LatentCritic(nn.Module):
    """WGAN critic telling encoded latents from N(0, 1) draws.

    Arguments:
        latent_dim: Latent width.
        hidden: Width of the hidden layers.
    """

    def __init__(self, latent_dim: int, hidden: int) -> None:
        super().__init__()
        self.net = MLP(latent_dim, 1, (hidden, hidden), "leaky_relu")

    def forward(self, z: Tensor) -> Tensor:
        """(B, latent_dim) → (B,)."""
        out: Tensor = self.net(z)
        return out[:, 0]


def reset_parameters(module: nn.Module) -> None:
    """Re-initialises every sub-module that can (fresh weights from torch's random-number generator)."""
    for sub in module.modules():
        reset = getattr(sub, "reset_parameters", None)
        if sub is not module and callable(reset):
            reset()

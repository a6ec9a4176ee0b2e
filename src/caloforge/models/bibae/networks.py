"""The BIB-AE's encoder, decoder and post-processor over the geometry's (layers × cells) grid.

A regular geometry (every layer binned alike) is a 3-D grid: (L, X, Y) for Cartesian layers, (L, α, r)
for ring × angle layers, whose angular axis is padded circularly (α wraps around). The grid networks
are strided 3-D convolutions (each halving every axis, rounding up) with dense heads; the decoder
mirrors them with nearest-neighbour up-sampling to the exact grid size, so any grid size works. A
geometry whose layers differ in binning has no grid: :func:`build_autoencoder` then returns dense
(MLP) networks over the flat voxels.

Example:
    >>> import torch
    >>> enc = ConvEncoder((3, 4, 5), (4, 8), 16, n_conditions=1, out_features=6, circular=True)
    >>> dec = ConvDecoder((3, 4, 5), (4, 8), 16, in_features=7)
    >>> enc(torch.rand(2, 60), torch.rand(2, 1)).shape, dec(torch.rand(2, 7)).shape
    (torch.Size([2, 6]), torch.Size([2, 60]))
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from caloforge.nn.mlp import MLP

__all__ = ["ConvDecoder", "ConvEncoder", "DenseDecoder", "DenseEncoder", "PaddedConv3d", "PostProcessor", "grid_shapes"]

Grid = tuple[int, int, int]


def grid_shapes(shape: Grid, n_stages: int) -> list[Grid]:
    """The grid after 0, 1, …, ``n_stages`` stride-2 convolutions (each axis halved, rounded up)."""
    shapes = [shape]
    for _ in range(n_stages):
        shapes.append(tuple(math.ceil(d / 2) for d in shapes[-1]))  # type: ignore[arg-type]
    return shapes


class PaddedConv3d(nn.Module):
    """3×3×3 convolution padded by one cell: circularly along the second grid axis when ``circular``.

    Arguments:
        in_channels: Input channels.
        out_channels: Output channels.
        stride: 1, or 2 to halve every axis (rounding up).
        circular: The second axis (α of ring × angle layers) wraps around.
    """

    def __init__(self, in_channels: int, out_channels: int, *, stride: int = 1, circular: bool = False) -> None:
        super().__init__()
        self.circular = circular
        self.conv = nn.Conv3d(in_channels, out_channels, kernel_size=3, stride=stride)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, L, A, R) → (B, C', L', A', R')."""
        if self.circular:
            x = torch.cat([x[:, :, :, -1:], x, x[:, :, :, :1]], dim=3)
            x = F.pad(x, (1, 1, 0, 0, 1, 1))
        else:
            x = F.pad(x, (1, 1, 1, 1, 1, 1))
        out: Tensor = self.conv(x)
        return out


class ConvEncoder(nn.Module):
    """Strided 3-D convolutions, then a dense head on the flattened features and the conditions.

    Arguments:
        shape: The grid (L, A, R).
        channels: Channels of the stride-2 convolutions.
        hidden: Width of the dense head.
        n_conditions: Width of the encoded conditions.
        out_features: Output width.
        circular: The second grid axis wraps around.
        in_channels: Channels of the input grid (2 for a critic on pairs).
    """

    def __init__(
        self,
        shape: Grid,
        channels: Sequence[int],
        hidden: int,
        *,
        n_conditions: int,
        out_features: int,
        circular: bool = False,
        in_channels: int = 1,
    ) -> None:
        super().__init__()
        self.shape, self.in_channels = shape, in_channels
        blocks: list[nn.Module] = []
        width = in_channels
        for c in channels:
            blocks += [PaddedConv3d(width, c, stride=2, circular=circular), nn.LeakyReLU(0.2)]
            width = c
        self.convs = nn.Sequential(*blocks)
        n_flat = width * math.prod(grid_shapes(shape, len(channels))[-1])
        self.head = MLP(n_flat + n_conditions, out_features, (hidden,), "leaky_relu")

    def features(self, y: Tensor) -> Tensor:
        """(B, in_channels · n_cells) → flattened convolution features (B, n_flat)."""
        out: Tensor = self.convs(y.reshape(y.shape[0], self.in_channels, *self.shape))
        return out.flatten(1)

    def forward(self, y: Tensor, conditions: Tensor) -> Tensor:
        """(B, in_channels · n_cells), (B, n_conditions) → (B, out_features)."""
        out: Tensor = self.head(torch.cat([self.features(y), conditions], dim=1))
        return out


class ConvDecoder(nn.Module):
    """A dense stem onto the coarsest grid, then up-sampling 3-D convolutions; ReLU output (exact zeros).

    Arguments:
        shape: The grid (L, A, R).
        channels: The encoder's channels (used in reverse).
        hidden: Width of the dense stem.
        in_features: Input width (latent, noise and conditions).
        circular: The second grid axis wraps around.
    """

    def __init__(
        self, shape: Grid, channels: Sequence[int], hidden: int, *, in_features: int, circular: bool = False
    ) -> None:
        super().__init__()
        shapes = grid_shapes(shape, len(channels))
        self.coarse, self.channels = shapes[-1], list(channels)[::-1]
        self.stem = MLP(in_features, self.channels[0] * math.prod(self.coarse), (hidden,), "leaky_relu")
        blocks: list[nn.Module] = []
        widths = [*self.channels[1:], self.channels[-1]]
        for c_in, c_out, size in zip(self.channels, widths, shapes[-2::-1], strict=True):
            blocks += [nn.Upsample(size=size, mode="nearest"), PaddedConv3d(c_in, c_out, circular=circular)]
            blocks.append(nn.LeakyReLU(0.2))
        blocks += [PaddedConv3d(widths[-1], 1, circular=circular), nn.ReLU()]
        self.blocks = nn.Sequential(*blocks)

    def forward(self, x: Tensor) -> Tensor:
        """(B, in_features) → (B, n_cells), ≥ 0."""
        h = nn.functional.leaky_relu(self.stem(x), 0.2).reshape(x.shape[0], self.channels[0], *self.coarse)
        out: Tensor = self.blocks(h)
        return out.flatten(1)


class DenseEncoder(nn.Module):
    """The fallback encoder for geometries without a grid: an MLP on the flat cells and the conditions.

    Arguments:
        n_cells: Input width per channel.
        hidden: Width of the hidden layers.
        n_conditions: Width of the encoded conditions.
        out_features: Output width.
        in_channels: Channels (2 for a critic on pairs).
    """

    def __init__(self, n_cells: int, hidden: int, *, n_conditions: int, out_features: int, in_channels: int = 1) -> None:
        super().__init__()
        self.trunk = MLP(in_channels * n_cells, hidden, (2 * hidden,), "leaky_relu")
        self.head = MLP(hidden + n_conditions, out_features, (hidden,), "leaky_relu")

    def features(self, y: Tensor) -> Tensor:
        """(B, in_channels · n_cells) → (B, hidden)."""
        return nn.functional.leaky_relu(self.trunk(y), 0.2)

    def forward(self, y: Tensor, conditions: Tensor) -> Tensor:
        """(B, in_channels · n_cells), (B, n_conditions) → (B, out_features)."""
        out: Tensor = self.head(torch.cat([self.features(y), conditions], dim=1))
        return out


class DenseDecoder(nn.Module):
    """The fallback decoder: an MLP onto the flat cells, ReLU output (exact zeros).

    Arguments:
        n_cells: Output width.
        hidden: Width of the hidden layers.
        in_features: Input width (latent, noise and conditions).
    """

    def __init__(self, n_cells: int, hidden: int, *, in_features: int) -> None:
        super().__init__()
        self.net = MLP(in_features, n_cells, (hidden, 2 * hidden), "leaky_relu")

    def forward(self, x: Tensor) -> Tensor:
        """(B, in_features) → (B, n_cells), ≥ 0."""
        return torch.relu(self.net(x))


class PostProcessor(nn.Module):
    """Per-cell correction: 1×1×1 convolutions on (cell value, energy sum, E_inc), added to the cell.

    A 1×1×1 convolution is the same small network applied to every cell; here it is written as a
    ``Conv1d`` with kernel 1 over the flat cells, which is that convolution for any grid (and for
    geometries without one). The last layer starts at zero, so an untrained post-processor is the
    identity (on cells ≥ 0). Empty cells stay empty: the correction is masked to hit cells, so
    generation keeps the decoder's exact zeros.

    Arguments:
        n_conditions: Width of the encoded conditions.
        hidden: Channels of the hidden 1×1×1 convolutions.
    """

    def __init__(self, n_conditions: int, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(2 + n_conditions, hidden, 1),
            nn.LeakyReLU(0.2),
            nn.Conv1d(hidden, hidden, 1),
            nn.LeakyReLU(0.2),
            nn.Conv1d(hidden, 1, 1),
        )
        last = self.net[-1]
        if isinstance(last, nn.Conv1d) and last.bias is not None:
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)

    def forward(self, y: Tensor, energy_sum: Tensor, conditions: Tensor) -> Tensor:
        """Cells (B, V) ≥ 0, energy-sum feature (B, 1), encoded conditions (B, C) → corrected cells (B, V) ≥ 0."""
        per_shower = torch.cat([energy_sum, conditions], dim=1)[:, :, None].expand(-1, -1, y.shape[1])
        delta = self.net(torch.cat([y[:, None, :], per_shower], dim=1))[:, 0]
        return torch.relu(y + delta) * (y > 0).to(y.dtype)

"""CaloGAN's generator: one locally-connected stream per calorimeter layer, chained layer to layer.

Example:
    >>> import torch
    >>> g = Generator([(1, 8), (4, 5)], latent_dim=8, n_conditions=1, channels=4)
    >>> [tuple(x.shape) for x in g(torch.randn(3, 8), torch.rand(3, 1))]
    [(3, 8), (3, 20)]
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import torch
from torch import Tensor, nn

from caloforge.models.calogan.locally_connected import LocallyConnected2d

__all__ = ["Generator", "LayerStream"]

_SLOPE = 0.2
_GATE_BIAS = -2.0  # the transfer gate starts mostly closed: each stream first learns its own layer


class LayerStream(nn.Module):
    """The generator stream of one layer: dense → reshape → locally-connected layers → ReLU.

    With ``previous`` set (the "locally aware" path), the image generated for the previous layer
    is mapped onto this layer's grid by a learned linear map and mixed into this layer's output
    through a per-voxel sigmoid gate computed by a 1×1 locally-connected layer from both images,
    the paper's attention-like intra-layer transfer (``out = (1 − g)·own + g·carried``). A final
    ReLU makes empty voxels exactly zero, which gives the sparsity of real showers.

    Arguments:
        shape: (rows, columns) of the layer: (angular, radial) or (x, y) bins.
        in_features: Width of the stream input (scaled latent and encoded conditions).
        channels: Channels of the locally-connected layers.
        n_lc_layers: Number of locally-connected layers (the last has one output channel).
        kernel_size: Odd kernel width.
        circular_rows: The rows are angular bins covering the full circle.
        previous: Number of voxels of the previous layer (``None``: no transfer).
    """

    def __init__(
        self,
        shape: tuple[int, int],
        in_features: int,
        channels: int = 8,
        n_lc_layers: int = 2,
        kernel_size: int = 3,
        *,
        circular_rows: bool = False,
        previous: int | None = None,
    ) -> None:
        super().__init__()
        self.shape = shape
        self.channels = channels
        n = shape[0] * shape[1]
        self.dense = nn.Linear(in_features, channels * n)
        widths = [channels] * n_lc_layers + [1]
        self.lcs = nn.ModuleList(
            LocallyConnected2d(a, b, shape, kernel_size, circular_rows=circular_rows) for a, b in pairwise(widths)
        )
        self.transfer = nn.Linear(previous, n) if previous is not None else None
        self.gate = LocallyConnected2d(2, 1, shape, 1) if previous is not None else None
        if self.gate is not None and self.gate.bias is not None:
            nn.init.constant_(self.gate.bias, _GATE_BIAS)

    def forward(self, h: Tensor, previous: Tensor | None = None) -> Tensor:
        """Stream input (B, in_features) [and previous layer image (B, n_prev)] → layer (B, n), ≥ 0."""
        b, n = h.shape[0], self.shape[0] * self.shape[1]
        x = nn.functional.leaky_relu(self.dense(h), _SLOPE).reshape(b, n, self.channels).transpose(0, 1)
        for i, lc in enumerate(self.lcs):  # pixel-major (n, B, C)
            x = lc(x)
            if i < len(self.lcs) - 1:
                x = nn.functional.leaky_relu(x, _SLOPE)
        if self.transfer is not None and self.gate is not None and previous is not None:
            carried = self.transfer(previous).T[:, :, None]
            g = torch.sigmoid(self.gate(torch.cat([x, carried], dim=2)))
            x = (1 - g) * x + g * carried
        return torch.relu(x[:, :, 0].T)


class Generator(nn.Module):
    """All layer streams; the latent vector is shared, scaled by the encoded energy (paper: z·E).

    The stream input is ``[z · (½ + ê), c]``: the latent multiplied by the encoded incident energy
    ê ∈ [0, 1] (shifted so that the lowest energy does not zero it), concatenated with the encoded
    conditions ``c``. Streams run in layer order so each can receive the previous layer's image.

    Arguments:
        shapes: (rows, columns) of each non-empty layer, in depth order.
        latent_dim: Latent width.
        n_conditions: Width of the encoded conditions.
        channels: Channels of the locally-connected layers.
        n_lc_layers: Locally-connected layers per stream.
        kernel_size: Odd kernel width.
        circular: Per layer, whether its rows are angular bins (wrap around).
        attention: Chain the streams (the locally aware path).
    """

    def __init__(
        self,
        shapes: Sequence[tuple[int, int]],
        latent_dim: int,
        n_conditions: int = 1,
        channels: int = 8,
        n_lc_layers: int = 2,
        kernel_size: int = 3,
        *,
        circular: Sequence[bool] | None = None,
        attention: bool = True,
    ) -> None:
        super().__init__()
        circular = list(circular) if circular is not None else [False] * len(shapes)
        sizes = [r * c for r, c in shapes]
        self.streams = nn.ModuleList(
            LayerStream(
                shape,
                latent_dim + n_conditions,
                channels,
                n_lc_layers,
                kernel_size,
                circular_rows=circular[i],
                previous=sizes[i - 1] if attention and i > 0 else None,
            )
            for i, shape in enumerate(shapes)
        )

    def forward(self, noise: Tensor, conditions: Tensor) -> list[Tensor]:
        """Latent (B, latent_dim) and encoded conditions (B, C) → one image (B, n_l) ≥ 0 per layer."""
        h = torch.cat([noise * (0.5 + conditions[:, :1]), conditions], dim=1)
        images: list[Tensor] = []
        for stream in self.streams:
            images.append(stream(h, images[-1] if images else None))
        return images

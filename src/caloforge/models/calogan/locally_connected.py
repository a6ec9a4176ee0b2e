"""Locally-connected 2-D layers: a convolution whose kernel weights differ at every position.

CaloGAN's generator and discriminator use them because a calorimeter image is not translation
invariant: the core of a shower always sits in the same bins, so each bin gets its own filter.

Activations are kept *pixel-major*, (H·W, B, C): a pixel's neighbourhood is then one gather
along the first axis (a fixed index table, zero padding through an extra all-zero row) and the
per-pixel filters one batched matrix product, one (B, k²·C_in) × (k²·C_in, C_out) product per
pixel. It exports to ONNX as ``Gather`` / ``Transpose`` / ``MatMul``.

Example:
    >>> import torch
    >>> lc = LocallyConnected2d(2, 3, (4, 5), kernel_size=3, circular_rows=True)
    >>> lc(torch.randn(20, 7, 2)).shape
    torch.Size([20, 7, 3])
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["LocallyConnected2d", "neighbour_index", "pad_image"]


def neighbour_index(shape: tuple[int, int], kernel_size: int, *, circular_rows: bool = False) -> Tensor:
    """For every pixel of an (H, W) image, the flat indices of its k×k neighbourhood.

    Arguments:
        shape: (H, W).
        kernel_size: Odd kernel width k.
        circular_rows: Rows wrap around (angular bins covering the full circle); columns never do.

    Returns:
        (H·W, k²) long tensor, row-major offsets; ``H·W`` marks a neighbour outside the image.

    Example:
        >>> neighbour_index((1, 3), 3)[1].tolist()
        [3, 3, 3, 0, 1, 2, 3, 3, 3]
    """
    h, w = shape
    half = kernel_size // 2
    rows = torch.arange(h)[:, None, None, None] + torch.arange(-half, half + 1)[None, None, :, None]
    cols = torch.arange(w)[None, :, None, None] + torch.arange(-half, half + 1)[None, None, None, :]
    rows, cols = rows.expand(h, w, kernel_size, kernel_size), cols.expand(h, w, kernel_size, kernel_size)
    if circular_rows and h > 1:
        rows = rows % h
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    index = torch.where(inside, rows * w + cols, torch.full_like(rows, h * w))
    return index.reshape(h * w, kernel_size * kernel_size)


def pad_image(x: Tensor, pad: int, *, circular_rows: bool = False) -> Tensor:
    """Pads an image batch (B, C, H, W) by ``pad`` on each side, with the same rule as :func:`neighbour_index`.

    Arguments:
        x: Images, (B, C, H, W).
        pad: Padding width.
        circular_rows: Wrap the row axis when it has more than ``pad`` rows (zeros otherwise).

    Returns:
        Padded images, (B, C, H + 2·pad, W + 2·pad).
    """
    if pad == 0:
        return x
    b, c, h, w = x.shape
    if circular_rows and h > pad:
        x = torch.cat([x[:, :, h - pad :], x, x[:, :, :pad]], dim=2)
    else:
        rows = x.new_zeros(b, c, pad, w)
        x = torch.cat([rows, x, rows], dim=2)
    cols = x.new_zeros(b, c, x.shape[2], pad)
    return torch.cat([cols, x, cols], dim=3)


class LocallyConnected2d(nn.Module):
    """A "same"-padded 2-D layer with an independent ``kernel_size``² filter bank at every pixel.

    Input and output are pixel-major, (H·W, B, C) (see the module docstring).

    Arguments:
        in_channels: Input channels C_in.
        out_channels: Output channels C_out.
        shape: Spatial shape (H, W) of the images (fixed: the weights are per pixel).
        kernel_size: Odd kernel width k.
        circular_rows: Rows wrap around (angular bins of a cylindrical layer).
        bias: Add a per-pixel, per-channel bias.

    References:
        Paganini, de Oliveira, Nachman, "CaloGAN: Simulating 3D high energy particle showers in
        multilayer electromagnetic calorimeters with generative adversarial networks",
        https://arxiv.org/abs/1712.10321
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        shape: tuple[int, int],
        kernel_size: int = 3,
        *,
        circular_rows: bool = False,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            msg = f"kernel_size must be a positive odd number, got {kernel_size}"
            raise ValueError(msg)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.shape = (int(shape[0]), int(shape[1]))
        self.kernel_size = kernel_size
        n_pixels, n_offsets = self.shape[0] * self.shape[1], kernel_size * kernel_size
        self.index: Tensor
        index = neighbour_index(self.shape, kernel_size, circular_rows=circular_rows).flatten()
        self.register_buffer("index", index, persistent=False)
        bound = 1.0 / math.sqrt(in_channels * n_offsets)
        weight = torch.empty(n_pixels, n_offsets * in_channels, out_channels).uniform_(-bound, bound)
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(torch.empty(n_pixels, 1, out_channels).uniform_(-bound, bound)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        """Pixel-major images (H·W, B, C_in) → (H·W, B, C_out)."""
        n, b, c = x.shape
        k2 = self.kernel_size * self.kernel_size
        if k2 == 1:
            out = torch.bmm(x, self.weight)
        else:
            padded = torch.cat([x, x.new_zeros(1, b, c)], dim=0).transpose(0, 1)  # (B, H·W + 1, C_in)
            patches = padded.index_select(1, self.index).reshape(b, n, k2 * c).transpose(0, 1)
            out = torch.bmm(patches, self.weight)  # one (B, k²·C_in) @ (k²·C_in, C_out) per pixel
        return out + self.bias if self.bias is not None else out

    def extra_repr(self) -> str:
        """Channels, shape and kernel, shown by ``print``."""
        return f"{self.in_channels}, {self.out_channels}, shape={self.shape}, kernel_size={self.kernel_size}"

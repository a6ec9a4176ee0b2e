"""Embeddings of scalar inputs (diffusion / flow time, encoded conditions) for conditional networks.

Example:
    >>> import torch
    >>> emb = SinusoidalEmbedding(8)
    >>> emb(torch.tensor([0.0, 0.5, 1.0])).shape
    torch.Size([3, 8])
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["ScalarEmbedding", "SinusoidalEmbedding"]


class SinusoidalEmbedding(nn.Module):
    """Transformer-style sin/cos features of a scalar such as the flow time t ∈ [0, 1].

    Arguments:
        dim: Output width (even).
        max_period: Longest period, in units of the input times ``scale``.
        scale: Factor applied to the input first (1000 maps t ∈ [0, 1] onto diffusion-step units).

    Raises:
        ValueError: If ``dim`` is odd or < 2.
    """

    def __init__(self, dim: int, max_period: float = 10_000.0, scale: float = 1000.0) -> None:
        super().__init__()
        if dim < 2 or dim % 2:
            msg = f"embedding width must be even and at least 2, got {dim}"
            raise ValueError(msg)
        half = dim // 2
        freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
        self.freqs: Tensor
        self.register_buffer("freqs", freqs, persistent=False)
        self.scale = scale

    def forward(self, t: Tensor) -> Tensor:
        """(B,) or (B, 1) → (B, dim)."""
        args = (t.reshape(-1, 1).to(self.freqs.dtype) * self.scale) * self.freqs
        return torch.cat([torch.sin(args), torch.cos(args)], dim=-1)


class ScalarEmbedding(nn.Module):
    """Time and condition embedding: sinusoidal features of t plus the conditions, through a small MLP.

    Arguments:
        n_conditions: Width of the (already encoded) condition vector, (B, C).
        dim: Output width.
        time_features: Width of the sinusoidal time features.
    """

    def __init__(self, n_conditions: int, dim: int, time_features: int = 32) -> None:
        super().__init__()
        self.time = SinusoidalEmbedding(time_features)
        self.net = nn.Sequential(nn.Linear(time_features + n_conditions, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t: Tensor, conditions: Tensor) -> Tensor:
        """t (B,) and conditions (B, C) → (B, dim)."""
        return self.net(torch.cat([self.time(t), conditions], dim=-1))  # type: ignore[no-any-return]

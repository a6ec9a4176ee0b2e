"""MADE: the masked network that emits autoregressive spline parameters, and one spline block.

zuko's generic ``MaskedMLP`` derives its masks from a dense (features*params, features)
adjacency matrix, whose construction is cubic in the number of features — minutes for the
6,480 voxels of CaloChallenge dataset 2. Here the masks come directly from MADE's degree
construction (linear in the layer sizes); zuko still supplies the rational-quadratic spline and the
autoregressive transform (forward in one pass, inverse in one pass per feature).

Example:
    >>> import torch
    >>> made = MADE(3, 1, 2, hidden=(8,), order=torch.tensor([2, 0, 1]))
    >>> made(torch.randn(4, 3), torch.rand(4, 1)).shape
    torch.Size([4, 3, 2])

References:
    Germain, Gregor, Murray, Larochelle, "MADE: Masked Autoencoder for Distribution Estimation",
    https://arxiv.org/abs/1502.03509
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ["MADE", "MaskedLinear", "SplineBlock"]


class MaskedLinear(nn.Linear):
    """A linear layer whose weight is multiplied by a fixed 0/1 mask (out_features, in_features)."""

    def __init__(self, mask: Tensor) -> None:
        super().__init__(mask.shape[1], mask.shape[0])
        self.mask: Tensor
        self.register_buffer("mask", mask.to(self.weight.dtype))

    def forward(self, x: Tensor) -> Tensor:
        """(*, in_features) → (*, out_features)."""
        return F.linear(x, self.weight * self.mask, self.bias)


class MADE(nn.Module):
    """Masked MLP: (x, context) → ``params`` numbers per feature, feature i seeing only x_j with order_j < order_i.

    Input degrees are ``order + 1`` for the features and 0 for the context; hidden degrees are
    spread evenly over 0 ... features - 1, so narrow layers still cover every feature.

    Arguments:
        features: Width D of ``x``.
        context: Width of the context vector (seen by every output).
        params: Outputs per feature.
        hidden: Hidden widths.
        order: Autoregressive rank of each feature, a permutation of 0 ... D - 1, (D,).
    """

    def __init__(self, features: int, context: int, params: int, hidden: Sequence[int], order: Tensor) -> None:
        super().__init__()
        self.features, self.params = features, params
        degree_in = torch.cat([torch.as_tensor(order, dtype=torch.long) + 1, torch.zeros(context, dtype=torch.long)])
        layers: list[nn.Module] = []
        previous = degree_in
        for width in hidden:
            degree = torch.arange(width) * features // width
            layers += [MaskedLinear(degree[:, None] >= previous[None, :]), nn.ReLU()]
            previous = degree
        degree_out = (torch.as_tensor(order, dtype=torch.long) + 1).repeat_interleave(params)
        layers.append(MaskedLinear(degree_out[:, None] > previous[None, :]))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor, context: Tensor) -> Tensor:
        """x (B, D), context (B, C) → parameters (B, D, params)."""
        out: Tensor = self.net(torch.cat([x, context], dim=-1))
        return out.reshape(*out.shape[:-1], self.features, self.params)


class SplineBlock(nn.Module):
    """One autoregressive rational-quadratic spline transform, conditioned on a context vector.

    Calling the block with a context (B, C) returns a zuko ``AutoregressiveTransform``: its
    forward runs the MADE once, its inverse once per feature.

    Arguments:
        features: Width D of the transformed vector.
        context: Width of the context vector.
        hidden: Hidden widths of the MADE.
        order: Autoregressive rank of each feature, (D,).
        bins: Number of spline bins K.
        bound: Spline domain [-bound, bound]; outside it the transform is the identity.
        zuko: The imported :mod:`zuko` module.
    """

    def __init__(
        self,
        features: int,
        context: int,
        hidden: Sequence[int],
        order: Tensor,
        *,
        bins: int,
        bound: float,
        zuko: Any,
    ) -> None:
        super().__init__()
        self._zuko = zuko
        self.bins, self.features = bins, features
        self.spline = partial(zuko.transforms.MonotonicRQSTransform, bound=bound)
        self.made = MADE(features, context, 3 * bins - 1, hidden, order)

    def _meta(self, context: Tensor, x: Tensor) -> Any:
        widths, heights, derivatives = self.made(x, context).split([self.bins, self.bins, self.bins - 1], dim=-1)
        return self._zuko.transforms.DependentTransform(self.spline(widths, heights, derivatives), 1)

    def forward(self, context: Tensor) -> Any:
        """The transform given the context (B, C)."""
        return self._zuko.transforms.AutoregressiveTransform(partial(self._meta, context), self.features)

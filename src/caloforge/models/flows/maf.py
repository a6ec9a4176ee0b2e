"""Conditional autoregressive spline flows: the MAF teacher and the IAF student.

Both are stacks of autoregressive blocks (a MADE emitting the parameters of zuko's monotonic
rational-quadratic splines, see :mod:`.made`); they differ only in which direction is the cheap one.

* :class:`ConditionalMAF` maps data ``x`` to latent ``z`` in one pass per block, so the density
  ``log p(x | c)`` is fast and sampling (the inverse) needs one pass *per feature*.
* :class:`ConditionalIAF` maps latent ``z`` to data ``x`` in one pass per block, so sampling is
  fast and the density needs the slow inverse. Block ``i`` of a student is meant to learn the
  inverse of block ``i`` of its teacher (same feature order), see :mod:`.distill`.

zuko is imported lazily, inside the constructors, so that importing caloforge never needs it.

Example:
    >>> import torch
    >>> flow = ConditionalMAF(4, 2, FlowConfig(transforms=2, hidden=(16,), bins=4))
    >>> x, c = torch.randn(3, 4), torch.rand(3, 2)
    >>> flow.log_prob(x, c).shape
    torch.Size([3])
    >>> z, _ = flow(x, c)
    >>> bool(torch.allclose(flow.inverse(z, c), x, atol=1e-4))
    True

References:
    Papamakarios, Pavlakou, Murray, "Masked Autoregressive Flow for Density Estimation",
    https://arxiv.org/abs/1705.07057

    Kingma et al., "Improved Variational Inference with Inverse Autoregressive Flow",
    https://arxiv.org/abs/1606.04934

    Durkan et al., "Neural Spline Flows", https://arxiv.org/abs/1906.04032
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from caloforge.models.flows.config import FlowConfig
from caloforge.models.flows.made import SplineBlock

__all__ = ["ConditionalIAF", "ConditionalMAF", "require_zuko", "standard_normal_log_prob"]

_ZUKO_MISSING = "normalizing-flow models need the zuko package: pip install 'caloforge[flows]'"


def require_zuko() -> Any:
    """Imports and returns :mod:`zuko`.

    Raises:
        ImportError: zuko is not installed (the message names the ``caloforge[flows]`` extra).
    """
    try:
        import zuko
        import zuko.flows.autoregressive
        import zuko.transforms
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(_ZUKO_MISSING) from err
    return zuko


def standard_normal_log_prob(z: Tensor) -> Tensor:
    """log N(z; 0, 1) summed over the last axis, (B, D) → (B,), nats."""
    return -0.5 * (z.square().sum(dim=-1) + z.shape[-1] * math.log(2 * math.pi))


class _SplineStack(nn.Module):
    """``config.transforms`` MADE spline blocks, feature orders alternating (ascending, descending)."""

    def __init__(self, features: int, context: int, config: FlowConfig) -> None:
        super().__init__()
        if features < 2:
            msg = f"an autoregressive flow needs at least 2 features, got {features}"
            raise ValueError(msg)
        zuko = require_zuko()
        self.features, self.context = features, context
        orders = [torch.arange(features), torch.arange(features).flip(0)]
        self.blocks = nn.ModuleList(
            SplineBlock(
                features, context, config.hidden, orders[i % 2], bins=config.bins, bound=config.bound, zuko=zuko
            )
            for i in range(config.transforms)
        )

    def block(self, index: int, context: Tensor) -> Any:
        """The torch ``Transform`` of block ``index`` given the context (B, context)."""
        return self.blocks[index](context)


class ConditionalMAF(_SplineStack):
    """Masked autoregressive flow x → z with spline transforms, conditioned on a context vector.

    Arguments:
        features: Width D of ``x``.
        context: Width of the context vector.
        config: Blocks, hidden widths and spline bins.
    """

    def forward(self, x: Tensor, context: Tensor) -> tuple[Tensor, Tensor]:
        """Data (B, D) → latent (B, D) and log |det J| (B,); one pass per block."""
        ladj = x.new_zeros(x.shape[0])
        for i in range(len(self.blocks)):
            x, block_ladj = self.block(i, context).call_and_ladj(x)
            ladj = ladj + block_ladj
        return x, ladj

    def states(self, x: Tensor, context: Tensor) -> list[Tensor]:
        """``[x, h_1, ..., z]``: the input of every block and the final latent, each (B, D)."""
        out = [x]
        for i in range(len(self.blocks)):
            out.append(self.block(i, context)(out[-1]))
        return out

    def log_prob(self, x: Tensor, context: Tensor) -> Tensor:
        """log p(x | context), (B, D) → (B,), nats."""
        z, ladj = self(x, context)
        log_prob: Tensor = standard_normal_log_prob(z) + ladj
        return log_prob

    def inverse(self, z: Tensor, context: Tensor) -> Tensor:
        """Latent (B, D) → data (B, D): slow, D sequential passes per block."""
        for i in reversed(range(len(self.blocks))):
            z = self.block(i, context).inv(z)
        return z


class ConditionalIAF(_SplineStack):
    """Inverse autoregressive flow z → x with spline transforms, conditioned on a context vector.

    Block ``i`` runs in its cheap direction from latent towards data: sampling costs one pass per
    block, whatever the number of features.

    Arguments:
        features: Width D of ``x``.
        context: Width of the context vector.
        config: Blocks, hidden widths and spline bins.
    """

    def forward(self, z: Tensor, context: Tensor) -> Tensor:
        """Latent (B, D) → data (B, D); one pass per block."""
        for i in reversed(range(len(self.blocks))):
            z = self.block(i, context)(z)
        return z

    def inverse(self, x: Tensor, context: Tensor) -> tuple[Tensor, Tensor]:
        """Data (B, D) → latent (B, D) and log |det dz/dx| (B,): slow, D passes per block."""
        ladj = x.new_zeros(x.shape[0])
        for i in range(len(self.blocks)):
            t = self.block(i, context).inv
            z = t(x)
            ladj = ladj + t.log_abs_det_jacobian(x, z)
            x = z
        return x, ladj

    def log_prob(self, x: Tensor, context: Tensor) -> Tensor:
        """The student's own log q(x | context), (B, D) → (B,), nats (slow direction)."""
        z, ladj = self.inverse(x, context)
        return standard_normal_log_prob(z) + ladj

"""Stage-1 parametrisations of layer energies: invertible maps that keep the generated total bounded.

A model of the energy per layer that treats every layer on its own can inflate the total: one
layer's error adds to the response. These transforms (nothing to fit, nothing saved) map the layer
energies / E_inc (B, L) to variables from which any model output inverts to non-negative layer
energies that add up to a generated response: CaloFlow's stick-breaking shares, log response plus
log shares, and log response plus an absolute ``log(1 + E / scale)`` of every layer.

Example:
    >>> import torch
    >>> t = ResponseShares()
    >>> e = torch.tensor([[0.5, 0.3, 0.0, 0.2]])
    >>> [round(v, 4) for v in t.inverse(t(e, e), e)[0].tolist()]
    [0.5, 0.3, 0.0, 0.2]
"""

from __future__ import annotations

import torch
from torch import Tensor

from caloforge.data.transforms import Logit, Transform

__all__ = ["ResponseLayersMeV", "ResponseShares", "StickBreaking"]

class StickBreaking(Transform):
    """Layer energies ↔ total energy and stick-breaking fractions, in an unbounded space (CaloFlow's u).

    For layer energies e (B, L) in units of E_inc (the first block of :class:`LayerFractions`),
    u₀ = Σ e is the response and u_i = e_{i−1} / Σ_{j≥i−1} e_j (i = 1 … L−1) the share of layer
    i−1 in what is left from it on (0 when nothing is left). The output is ``log(u₀ + eps)``
    followed by the logits of the squeezed u_i (see :class:`Logit`). Whatever values a model
    generates, the inverse gives non-negative layer energies that add up to exactly u₀·E_inc, so
    errors in deep, nearly empty layers cannot inflate the total energy the way independent
    per-layer energies can.

    Arguments:
        eps: Offset of the log of the response.
        alpha: Squeeze of the fractions before the logit.

    References:
        Krause, Shih, "CaloFlow: Fast and Accurate Generation of Calorimeter Showers with
        Normalizing Flows", https://arxiv.org/abs/2106.05285

    Example:
        >>> t = StickBreaking()
        >>> e = torch.tensor([[0.5, 0.3, 0.0, 0.2]])
        >>> [round(v, 4) for v in t.inverse(t(e, e), e)[0].tolist()]
        [0.5, 0.3, 0.0, 0.2]
    """

    def __init__(self, eps: float = 1e-6, alpha: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.logit = Logit(alpha)

    def forward(self, x: Tensor, conditions: Tensor) -> Tensor:
        """Layer energies / E_inc (B, L) → (B, L): log response, then L − 1 fraction logits."""
        x = x.clamp_min(0.0)
        total = x.sum(dim=1, keepdim=True)
        remaining = torch.flip(torch.cumsum(torch.flip(x, [1]), dim=1), [1])[:, :-1]
        u = torch.where(remaining > 0, x[:, :-1] / remaining.clamp_min(1e-30), torch.zeros_like(remaining))
        return torch.cat([torch.log(total + self.eps), self.logit(u.clamp(0.0, 1.0), conditions)], dim=1)

    def inverse(self, y: Tensor, conditions: Tensor) -> Tensor:
        """(B, L) → non-negative layer energies / E_inc (B, L) summing to the generated response."""
        total = torch.clamp(torch.exp(y[:, :1]) - self.eps, min=0.0)
        u = self.logit.inverse(y[:, 1:], conditions)
        # Share left after layers 0 … i−1: exp(cumsum(log(1 − u))) exports to ONNX (CumSum), cumprod does not.
        log_left = torch.cumsum(torch.log((1.0 - u).clamp_min(1e-30)), dim=1)
        left = torch.cat([torch.ones_like(total), torch.exp(log_left)], dim=1)
        shares = left * torch.cat([u, torch.ones_like(total)], dim=1)
        return total * shares


class ResponseShares(Transform):
    """Layer energies ↔ log response and log layer shares of it (one more output than input).

    For layer energies e (B, L) in units of E_inc, the output (B, L + 1) is ``log(Σe + eps)``
    followed by ``log(e_i / Σe + eps)``. The inverse clips the shares at 0 and renormalises them
    to sum to one, so the layer energies always add up to the generated response, while each layer
    is still modelled on its own scale (unlike :class:`StickBreaking`, where an error in an early
    share shifts every later layer).

    Arguments:
        eps: Offset of both logs.

    Example:
        >>> t = ResponseShares()
        >>> e = torch.tensor([[0.5, 0.3, 0.0, 0.2]])
        >>> [round(v, 4) for v in t.inverse(t(e, e), e)[0].tolist()]
        [0.5, 0.3, 0.0, 0.2]
    """

    def __init__(self, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: Tensor, conditions: Tensor) -> Tensor:  # noqa: ARG002
        """Layer energies / E_inc (B, L) → (B, L + 1)."""
        x = x.clamp_min(0.0)
        total = x.sum(dim=1, keepdim=True)
        shares = torch.where(total > 0, x / total.clamp_min(1e-30), torch.zeros_like(x))
        return torch.log(torch.cat([total, shares], dim=1) + self.eps)

    def inverse(self, y: Tensor, conditions: Tensor) -> Tensor:  # noqa: ARG002
        """(B, L + 1) → non-negative layer energies / E_inc (B, L) summing to the generated response."""
        values = torch.clamp(torch.exp(y) - self.eps, min=0.0)
        total, shares = values[:, :1], values[:, 1:]
        norm = shares.sum(dim=1, keepdim=True)
        return torch.where(norm > 0, total * shares / norm.clamp_min(1e-30), torch.zeros_like(shares))


class ResponseLayersMeV(Transform):
    """Layer energies ↔ log response and ``log(1 + E_i / scale)`` of every layer energy in MeV.

    Like :class:`ResponseShares` the inverse renormalises the layers to add up to the generated
    response, but each layer is mapped on an absolute scale that is linear below ``scale`` (about
    one minimum-ionising hit): an empty layer and a layer with a single hit are close, where the
    log of shares puts them ten units apart and a model fills the gap with sub-MeV layers that
    Geant4 never produces.

    Arguments:
        scale_mev: Energy where the layer map turns from linear to logarithmic, MeV.
        eps: Offset of the log of the response.

    Example:
        >>> t = ResponseLayersMeV()
        >>> e, c = torch.tensor([[0.5, 0.3, 0.0, 0.2]]), torch.tensor([[100.0]])
        >>> [round(v, 4) for v in t.inverse(t(e, c), c)[0].tolist()]
        [0.5, 0.3, 0.0, 0.2]
    """

    def __init__(self, scale_mev: float = 1.0, eps: float = 1e-6) -> None:
        super().__init__()
        self.scale_mev, self.eps = scale_mev, eps

    def forward(self, x: Tensor, conditions: Tensor) -> Tensor:
        """Layer energies / E_inc (B, L) → (B, L + 1)."""
        x = x.clamp_min(0.0)
        total = torch.log(x.sum(dim=1, keepdim=True) + self.eps)
        return torch.cat([total, torch.log1p(x * conditions[:, :1] / self.scale_mev)], dim=1)

    def inverse(self, y: Tensor, conditions: Tensor) -> Tensor:  # noqa: ARG002
        """(B, L + 1) → non-negative layer energies / E_inc (B, L) summing to the generated response."""
        total = torch.clamp(torch.exp(y[:, :1]) - self.eps, min=0.0)
        log_layers = y[:, 1:].clamp(max=80.0)
        layers = torch.clamp(torch.expm1(log_layers), min=0.0)
        norm = layers.sum(dim=1, keepdim=True)
        # Every layer at or below zero: share the response by exp(y) rather than lose it.
        fallback = torch.exp(log_layers)
        layers = torch.where(norm > 0, layers, fallback)
        norm = torch.where(norm > 0, norm, fallback.sum(dim=1, keepdim=True))
        return total * layers / norm.clamp_min(1e-30)



"""A configurable multi-layer perceptron, the workhorse of the dense models.

Example:
    >>> import torch
    >>> net = MLP(4, 2, hidden=(16, 16), activation="leaky_relu")
    >>> net(torch.zeros(3, 4)).shape
    torch.Size([3, 2])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from torch import Tensor, nn

__all__ = ["MLP", "Activation", "make_activation"]

Activation = Literal["relu", "leaky_relu", "gelu", "silu", "tanh"]


def make_activation(name: Activation) -> nn.Module:
    """The activation module called ``name``."""
    table: dict[str, type[nn.Module]] = {
        "relu": nn.ReLU,
        "leaky_relu": nn.LeakyReLU,
        "gelu": nn.GELU,
        "silu": nn.SiLU,
        "tanh": nn.Tanh,
    }
    if name not in table:
        msg = f"unknown activation {name!r}; choices are {sorted(table)}"
        raise ValueError(msg)
    return table[name]()


class MLP(nn.Sequential):
    """Linear → activation (→ layer norm) (→ dropout) blocks, then a final linear layer.

    Arguments:
        in_features: Input width.
        out_features: Output width.
        hidden: Widths of the hidden layers.
        activation: Activation name.
        layer_norm: Add ``LayerNorm`` after each hidden activation.
        dropout: Dropout probability after each hidden block.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden: Sequence[int] = (256, 256),
        activation: Activation = "silu",
        *,
        layer_norm: bool = False,
        dropout: float = 0.0,
    ) -> None:
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), make_activation(activation)]
            if layer_norm:
                layers.append(nn.LayerNorm(h))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))
        super().__init__(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """(*, in_features) → (*, out_features)."""
        for layer in self:
            x = layer(x)
        return x

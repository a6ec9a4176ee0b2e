"""CaloGAN's discriminator: per-layer image blocks, energy and sparsity features, minibatch discrimination.

Example:
    >>> import torch
    >>> d = Discriminator([(1, 8), (4, 5)], n_conditions=1, channels=4, features=8, hidden=(16,))
    >>> images = [torch.rand(6, 8), torch.rand(6, 20)]
    >>> logits, energy = d(images, torch.rand(6, 2), torch.rand(6, 1))
    >>> logits.shape, energy.shape
    (torch.Size([6]), torch.Size([6]))
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from caloforge.data.transforms import Standardize
from caloforge.models.calogan.locally_connected import LocallyConnected2d, pad_image
from caloforge.nn.mlp import MLP

__all__ = ["Discriminator", "MinibatchDiscrimination"]

_SLOPE = 0.2
_LAYER_EPS = 1e-6
_LAYER_MAX = 1e3  # keeps early, wild generator outputs finite


class MinibatchDiscrimination(nn.Module):
    """Salimans et al.'s minibatch discrimination: how close each sample is to the rest of its batch.

    ``M = x·T`` is reshaped to (N, B, C); the output for sample i and kernel b is
    ``Σ_{j≠i} exp(−‖M_ib − M_jb‖₁)``, which lets the discriminator detect a collapsed generator
    (all samples alike).

    Arguments:
        in_features: Input width A.
        kernels: Number of kernels B.
        dim: Kernel dimension C.

    References:
        Salimans et al., "Improved Techniques for Training GANs", https://arxiv.org/abs/1606.03498
    """

    def __init__(self, in_features: int, kernels: int = 10, dim: int = 5) -> None:
        super().__init__()
        self.kernels, self.dim = kernels, dim
        self.weight = nn.Parameter(torch.randn(in_features, kernels * dim) * 0.1)

    def forward(self, x: Tensor) -> Tensor:
        """(N, A) → (N, B)."""
        m = (x @ self.weight).reshape(-1, self.kernels, self.dim)
        distance = (m[:, None] - m[None]).abs().sum(dim=3)  # (N, N, B)
        return torch.exp(-distance).sum(dim=1) - 1.0


class _LayerBlock(nn.Module):
    """Features of one layer's image: convolution → locally-connected layer → dense."""

    def __init__(self, shape: tuple[int, int], channels: int, features: int, kernel_size: int, circular: bool) -> None:
        super().__init__()
        self.shape, self.pad, self.circular = shape, kernel_size // 2, circular
        self.conv = nn.Conv2d(1, channels, kernel_size)
        self.lc = LocallyConnected2d(channels, channels, shape, kernel_size, circular_rows=circular)
        self.dense = nn.Linear(channels * shape[0] * shape[1], features)

    def forward(self, x: Tensor) -> Tensor:
        b = x.shape[0]
        h = x.reshape(b, 1, *self.shape)
        h = nn.functional.leaky_relu(self.conv(pad_image(h, self.pad, circular_rows=self.circular)), _SLOPE)
        h = h.flatten(2).permute(2, 0, 1)  # pixel-major (n, B, C)
        h = nn.functional.leaky_relu(self.lc(h), _SLOPE)
        return nn.functional.leaky_relu(self.dense(h.transpose(0, 1).reshape(b, -1)), _SLOPE)


class Discriminator(nn.Module):
    """Scores showers (real/fake logit) and estimates their encoded incident energy.

    Inputs per shower: each layer's image (in the model's per-layer units, seen through
    ``log1p(x / τ)``), the standardised log energy fraction of each layer and of the total, the
    soft occupancy ``mean(1 − exp(−x/τ))`` of each layer (the paper's sparsity feature, made
    differentiable), minibatch-discrimination outputs of the image features and of the energy
    features, and the encoded conditions. The second output is the auxiliary energy regression.

    Arguments:
        shapes: (rows, columns) of each non-empty layer.
        n_conditions: Width of the encoded conditions.
        channels: Channels of the per-layer blocks.
        features: Features per layer block.
        hidden: Hidden widths of the head.
        kernel_size: Odd kernel width.
        minibatch_kernels: Minibatch-discrimination kernels (0: none).
        minibatch_dim: Minibatch-discrimination kernel dimension.
        occupancy_scale: τ of the image compression and the soft occupancy.
        circular: Per layer, whether its rows wrap around.
    """

    def __init__(
        self,
        shapes: Sequence[tuple[int, int]],
        n_conditions: int = 1,
        channels: int = 8,
        features: int = 32,
        hidden: Sequence[int] = (128, 64),
        kernel_size: int = 3,
        minibatch_kernels: int = 10,
        minibatch_dim: int = 5,
        occupancy_scale: float = 0.01,
        *,
        circular: Sequence[bool] | None = None,
    ) -> None:
        super().__init__()
        circular = list(circular) if circular is not None else [False] * len(shapes)
        n_layers = len(shapes)
        self.occupancy_scale = occupancy_scale
        self.blocks = nn.ModuleList(
            _LayerBlock(shape, channels, features, kernel_size, circular[i]) for i, shape in enumerate(shapes)
        )
        self.energy_norm = Standardize(n_layers + 1, min_std=0.1)
        n_energy = 2 * n_layers + 1
        self.minibatch_images = (
            MinibatchDiscrimination(n_layers * features, minibatch_kernels, minibatch_dim)
            if minibatch_kernels
            else None
        )
        self.minibatch_energies = (
            MinibatchDiscrimination(n_energy, minibatch_kernels, minibatch_dim) if minibatch_kernels else None
        )
        width = n_layers * features + n_energy + 2 * minibatch_kernels + n_conditions
        self.head = MLP(width, 2, hidden, "leaky_relu")

    @staticmethod
    def _log_energies(layer_fractions: Tensor) -> Tensor:
        total = layer_fractions.sum(dim=1, keepdim=True)
        both = torch.cat([layer_fractions, total], dim=1).clamp(max=_LAYER_MAX)
        return torch.log(both + _LAYER_EPS)

    def fit(self, layer_fractions: Tensor) -> None:
        """Fits the energy-feature standardisation on real layer energy fractions (N, n_layers)."""
        self.energy_norm.fit(self._log_energies(layer_fractions), layer_fractions[:, :1])

    def forward(self, images: Sequence[Tensor], layer_fractions: Tensor, conditions: Tensor) -> tuple[Tensor, Tensor]:
        """Scores and energy estimates.

        Arguments:
            images: Per layer, (B, n_l), ≥ 0, in the model's per-layer units.
            layer_fractions: Energy of each layer / incident energy, (B, n_layers).
            conditions: Encoded conditions, (B, C).

        Returns:
            Real/fake logits (B,) and estimates of the encoded incident energy (B,).
        """
        tau = self.occupancy_scale
        feats = torch.cat([block(torch.log1p(x / tau)) for block, x in zip(self.blocks, images, strict=True)], dim=1)
        occupancy = torch.stack([(1 - torch.exp(-x / tau)).mean(dim=1) for x in images], dim=1)
        energies = torch.cat([self.energy_norm(self._log_energies(layer_fractions), conditions), occupancy], dim=1)
        parts = [feats, energies, conditions]
        if self.minibatch_images is not None and self.minibatch_energies is not None:
            parts += [self.minibatch_images(feats), self.minibatch_energies(energies)]
        out: Tensor = self.head(torch.cat(parts, dim=1))
        return out[:, 0], out[:, 1]

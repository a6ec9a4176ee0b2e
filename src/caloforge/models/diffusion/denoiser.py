"""Velocity networks of the flow-matching model: a dense net for layer energies, a layer-token transformer for shapes.

Both map a state x_t, the flow time t and a conditioning vector to a velocity of the state's
shape; they know nothing of the probability path or the solver.

Example:
    >>> import torch
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=3, n_alpha=2, r_edges=[0, 1, 2])
    >>> net = LayerTransformer(g, n_context=4, dim=16, depth=1, heads=2)
    >>> net(torch.randn(5, g.n_voxels), torch.rand(5), torch.randn(5, 4)).shape
    torch.Size([5, 12])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from caloforge.geometry import Geometry
from caloforge.nn.embeddings import ScalarEmbedding
from caloforge.nn.mlp import MLP

__all__ = ["LayerEnergyNet", "LayerTransformer"]


class LayerEnergyNet(nn.Module):
    """Dense velocity network for the per-layer energies (CaloDREAM's energy network, as an MLP).

    Arguments:
        n_features: Width of the state (the number of layers).
        n_context: Width of the conditioning vector (encoded conditions).
        hidden: Hidden widths.
        embed_dim: Width of the time + condition embedding.
    """

    def __init__(
        self, n_features: int, n_context: int, hidden: Sequence[int] = (256, 256), embed_dim: int = 64
    ) -> None:
        super().__init__()
        self.embed = ScalarEmbedding(n_context, embed_dim)
        self.net = MLP(n_features + embed_dim, n_features, hidden, "silu")

    def forward(self, x: Tensor, t: Tensor, context: Tensor) -> Tensor:
        """x (B, L), t (B,), context (B, C) → velocity (B, L)."""
        return self.net(torch.cat([x, self.embed(t, context)], dim=-1))  # type: ignore[no-any-return]


class LayerTransformer(nn.Module):
    """Transformer over layer tokens: each calorimeter layer's voxels form one token.

    Layers of different sizes (CaloChallenge dataset 1) are zero-padded to the largest layer. A
    token is the linear embedding of its voxels plus a learned layer-position embedding plus the
    time + context embedding (context: encoded conditions and the standardised layer energies,
    so the network learns shapes given layer energies). A pre-norm transformer encoder mixes the
    layers; a shared linear head maps each token back to its voxels.

    Arguments:
        geometry: Readout geometry (number and sizes of layers, voxel order).
        n_context: Width of the conditioning vector, (B, n_context).
        dim: Token width.
        depth: Number of transformer blocks.
        heads: Attention heads (must divide ``dim``).
        mlp_ratio: Width of the feed-forward block relative to ``dim``.
        dropout: Dropout inside the transformer blocks.
        skip: Add a linear map of each input token to its output (a voxel-space skip connection,
            zero at initialisation), so the velocity is not limited to the rank of a ``dim``-wide
            token when ``dim`` is smaller than the voxels of a layer.

    References:
        Favaro et al., "CaloDREAM — Detector Response Emulation via Attentive flow Matching",
        https://arxiv.org/abs/2405.09629
    """

    def __init__(
        self,
        geometry: Geometry,
        n_context: int,
        *,
        dim: int = 128,
        depth: int = 4,
        heads: int = 4,
        mlp_ratio: float = 2.0,
        dropout: float = 0.0,
        skip: bool = False,
    ) -> None:
        super().__init__()
        sizes = list(geometry.layer_sizes)
        self.n_layers, self.n_voxels, self.token_size = len(sizes), geometry.n_voxels, max(sizes)
        gather, scatter = _token_indices(sizes, self.token_size)
        self.gather_index: Tensor
        self.register_buffer("gather_index", gather, persistent=False)
        self.scatter_index: Tensor
        self.register_buffer("scatter_index", scatter, persistent=False)
        self.embed_in = nn.Linear(self.token_size, dim)
        self.position = nn.Parameter(torch.randn(self.n_layers, dim) * 0.02)
        self.embed_cond = ScalarEmbedding(n_context, dim)
        block = nn.TransformerEncoderLayer(
            dim, heads, int(dim * mlp_ratio), dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.blocks = nn.TransformerEncoder(block, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, self.token_size)
        self.skip = nn.Linear(self.token_size, self.token_size, bias=False) if skip else None
        if self.skip is not None:
            nn.init.zeros_(self.skip.weight)

    def forward(self, x: Tensor, t: Tensor, context: Tensor) -> Tensor:
        """x (B, n_voxels), t (B,), context (B, n_context) → velocity (B, n_voxels)."""
        padded = torch.cat([x, x.new_zeros(x.shape[0], 1)], dim=1)
        tokens = padded[:, self.gather_index].reshape(x.shape[0], self.n_layers, self.token_size)
        h = self.embed_in(tokens) + self.position + self.embed_cond(t, context)[:, None, :]
        h = self.head(self.norm(self.blocks(h)))
        if self.skip is not None:
            h = h + self.skip(tokens)
        out: Tensor = h.reshape(x.shape[0], -1)[:, self.scatter_index]
        return out


def _token_indices(sizes: Sequence[int], token_size: int) -> tuple[Tensor, Tensor]:
    """Index maps between flat voxels (V,) and padded tokens (L·P,); padding reads voxel V (a zero)."""
    n_voxels = sum(sizes)
    gather = torch.full((len(sizes), token_size), n_voxels, dtype=torch.long)
    scatter = torch.empty(n_voxels, dtype=torch.long)
    offset = 0
    for layer, size in enumerate(sizes):
        gather[layer, :size] = torch.arange(offset, offset + size)
        scatter[offset : offset + size] = layer * token_size + torch.arange(size)
        offset += size
    return gather.reshape(-1), scatter

"""The BIB-AE's non-adversarial loss terms: KL divergence, latent MMD, sorted hit-energy MMD, sorted cells.

Example:
    >>> import torch
    >>> a = torch.randn(256, 4)
    >>> bool(latent_mmd(a, torch.randn(256, 4)) < latent_mmd(a + 2.0, torch.randn(256, 4)))
    True
    >>> x = torch.rand(32, 10)
    >>> float(sorted_cell_loss(x, x.flip(0)))
    0.0
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["hit_energy_mmd", "kl_divergence", "latent_mmd", "sorted_cell_loss"]

#: Scales of the inverse multiquadratic kernels of the latent MMD (times 2 · latent_dim), as in WAE.
_LATENT_SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
#: Widths of the Gaussian kernels of the hit-energy MMD, in network units (cells lie in about [0, 1]).
_HIT_WIDTHS = (0.01, 0.03, 0.1, 0.3)


def kl_divergence(mu: Tensor, log_var: Tensor) -> Tensor:
    """KL(N(mu, exp(log_var)) ‖ N(0, 1)) per latent dimension, averaged over the batch; (B, d) → scalar."""
    return torch.mean(-0.5 * (1 + log_var - mu.square() - log_var.exp()))


def latent_mmd(z: Tensor, prior: Tensor) -> Tensor:
    """Maximum mean discrepancy between latents ``z`` (B, d) and prior draws (B, d), multi-scale IMQ kernels.

    References:
        Tolstikhin et al., "Wasserstein Auto-Encoders", https://arxiv.org/abs/1711.01558
    """
    n, d = z.shape
    both = torch.cat([z, prior])
    dist = torch.cdist(both, both).square()
    kernel = sum(c / (c + dist) for c in (2.0 * d * s for s in _LATENT_SCALES))
    assert isinstance(kernel, Tensor)
    off = 1.0 - torch.eye(2 * n, device=z.device, dtype=z.dtype)  # unbiased: no self-similarities
    kernel = kernel * off
    k_zz, k_pp, k_zp = kernel[:n, :n], kernel[n:, n:], kernel[:n, n:]
    norm = max(n * (n - 1), 1)
    return k_zz.sum() / norm + k_pp.sum() / norm - 2.0 * k_zp.mean()


def hit_energy_mmd(real: Tensor, fake: Tensor, n_hits: int) -> Tensor:
    """MMD between the ``n_hits`` largest cell values of two batches, sorted (1-D Gaussian kernels).

    The hit-energy spectrum of the batch — the MIP peak included — is what the post-processor fixes;
    sorting makes the comparison independent of where in the shower a hit is.

    Arguments:
        real: Real cells (B, V), network units.
        fake: Generated cells (B, V).
        n_hits: Hits per batch that enter (at most B · V).
    """
    k = min(n_hits, real.numel())
    a = torch.topk(real.flatten(), k).values[:, None]
    b = torch.topk(fake.flatten(), k).values[:, None]
    total = real.new_zeros(())
    for width in _HIT_WIDTHS:
        scale = -0.5 / width**2
        k_aa = torch.exp(scale * (a - a.T).square()).mean()
        k_bb = torch.exp(scale * (b - b.T).square()).mean()
        k_ab = torch.exp(scale * (a - b.T).square()).mean()
        total = total + k_aa + k_bb - 2.0 * k_ab
    return total


def sorted_cell_loss(real: Tensor, fake: Tensor) -> Tensor:
    """Mean squared difference of each cell's values sorted over the batch (1-D Wasserstein-2 per cell).

    Arguments:
        real: Real cells (B, V).
        fake: Generated cells (B, V), the same batch size.
    """
    return torch.mean((torch.sort(real, dim=0).values - torch.sort(fake, dim=0).values).square())

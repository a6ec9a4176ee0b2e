"""A conditional Gaussian kernel density estimate of latent vectors, sampled exactly given the conditions.

DESY's BIB-AE replaces the N(0, 1) prior at generation time by a KDE of the encoded training latents,
fitted jointly with the incident energy, so that generated latents follow the aggregate posterior the
decoder was trained on. With a product of Gaussian kernels over the rows ``(z_i, c_i)`` and bandwidths
``h = (h_z, h_c)``, the conditional density of z given c is itself a Gaussian mixture,

    p(z | c) = Σ_i w_i(c) N(z; z_i, diag h_z²),   w_i(c) ∝ Π_j exp(−(c_j − c_ij)² / (2 h_cj²)),

so :meth:`LatentKDE.sample` draws it exactly: a row i with weight w_i(c), then ``z_i + h_z ⊙ ε``.
Bandwidths follow Scott's rule per dimension, ``h_j = σ_j n^(−1/(D+4))`` with D the total dimension,
times ``bandwidth_scale``. The rows are buffers, so the estimate travels in the model's checkpoint.

References:
    E. Buhmann et al., "Getting High: High Fidelity Simulation of High Granularity Calorimeters with
    High Speed", arXiv:2005.05334; D. W. Scott, "Multivariate Density Estimation" (1992), ch. 6.

Example:
    >>> import torch
    >>> kde = LatentKDE(latent_dim=2, context_dim=1)
    >>> c = torch.linspace(0, 1, 500)[:, None]
    >>> z = torch.cat([3 * c, -c], dim=1) + 0.01 * torch.randn(500, 2)
    >>> kde.fit(z, c)
    >>> draws = kde.sample(torch.full((200, 1), 0.5), generator=torch.Generator().manual_seed(0))
    >>> draws.shape, bool(abs(draws[:, 0].mean() - 1.5) < 0.1)
    (torch.Size([200, 2]), True)
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["LatentKDE"]

#: Conditional weights are computed for this many draws at a time (a (chunk, rows) matrix).
_CHUNK = 1024


class LatentKDE(nn.Module):
    """Gaussian product-kernel KDE over rows (latent z (d,), context c (k,)), sampled as z | c.

    Arguments:
        latent_dim: Width d of the latent vectors.
        context_dim: Width k of the context (0: an unconditional KDE).
        max_points: At most this many rows are kept (a seeded random subset of the fitted ones).
        bandwidth_scale: Factor on Scott's-rule bandwidths (< 1 follows the data more closely).

    Raises:
        ValueError: Non-positive ``latent_dim``, ``max_points`` or ``bandwidth_scale``, negative ``context_dim``.
    """

    points: Tensor
    bandwidth: Tensor

    def __init__(
        self, latent_dim: int, context_dim: int = 0, *, max_points: int = 20_000, bandwidth_scale: float = 1.0
    ) -> None:
        super().__init__()
        if latent_dim < 1 or context_dim < 0 or max_points < 1 or not bandwidth_scale > 0:
            msg = (
                "LatentKDE needs latent_dim ≥ 1, context_dim ≥ 0, max_points ≥ 1 and bandwidth_scale > 0, got "
                f"{latent_dim}, {context_dim}, {max_points}, {bandwidth_scale}"
            )
            raise ValueError(msg)
        self.latent_dim, self.context_dim = latent_dim, context_dim
        self.max_points, self.bandwidth_scale = max_points, bandwidth_scale
        width = latent_dim + context_dim
        self.register_buffer("points", torch.zeros(0, width))
        self.register_buffer("bandwidth", torch.ones(width))

    @property
    def is_fitted(self) -> bool:
        """True once :meth:`fit` has stored rows (also after loading a fitted checkpoint)."""
        return self.points.shape[0] > 0

    @torch.no_grad()
    def fit(self, latents: Tensor, context: Tensor | None = None, *, seed: int = 0) -> None:
        """Stores the rows and their bandwidths.

        Arguments:
            latents: (N, d) latent vectors.
            context: (N, k) context of each row (required when ``context_dim > 0``).
            seed: Seed of the random subset kept when N > ``max_points`` (torch's global RNG is untouched).

        Raises:
            ValueError: Shapes that do not match, fewer than two rows, or non-finite values.
        """
        rows = self._rows(latents, context)
        if rows.shape[0] < 2 or not bool(torch.isfinite(rows).all()):
            msg = f"LatentKDE.fit needs at least two finite rows, got {rows.shape[0]} (finite: {bool(torch.isfinite(rows).all())})"
            raise ValueError(msg)
        if rows.shape[0] > self.max_points:
            generator = torch.Generator().manual_seed(seed)
            keep = torch.randperm(rows.shape[0], generator=generator)[: self.max_points]
            rows = rows[keep.to(rows.device)]
        n, width = rows.shape
        sigma = rows.std(dim=0).clamp_min(1e-6)
        self.points = rows.to(self.bandwidth.device, torch.float32).clone()
        self.bandwidth = (self.bandwidth_scale * sigma * n ** (-1.0 / (width + 4))).to(self.points)

    def _rows(self, latents: Tensor, context: Tensor | None) -> Tensor:
        if latents.ndim != 2 or latents.shape[1] != self.latent_dim:
            msg = f"LatentKDE expects latents of shape (N, {self.latent_dim}), got {tuple(latents.shape)}"
            raise ValueError(msg)
        if self.context_dim == 0:
            return latents.float()
        if context is None or context.shape != (latents.shape[0], self.context_dim):
            got = None if context is None else tuple(context.shape)
            msg = f"LatentKDE expects a context of shape ({latents.shape[0]}, {self.context_dim}), got {got}"
            raise ValueError(msg)
        return torch.cat([latents.float(), context.to(latents.device).float()], dim=1)

    @torch.no_grad()
    def sample(
        self, context: Tensor | None = None, n: int | None = None, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """Draws one latent per context row (or ``n`` latents of an unconditional KDE).

        Arguments:
            context: (B, k) context (required when ``context_dim > 0``).
            n: Number of draws when ``context_dim == 0``.
            generator: Random generator on the KDE's device (None: torch's global RNG).

        Returns:
            (B, d) latents on the KDE's device.

        Raises:
            RuntimeError: The KDE was never fitted.
            ValueError: Missing or misshaped context / count.
        """
        if not self.is_fitted:
            msg = "the latent KDE is not fitted; fit it on encoded training showers first"
            raise RuntimeError(msg)
        device = self.points.device
        latents, h_z = self.points[:, : self.latent_dim], self.bandwidth[: self.latent_dim]
        if self.context_dim == 0:
            if n is None or n < 0:
                msg = "an unconditional LatentKDE.sample needs a count n ≥ 0"
                raise ValueError(msg)
            index = torch.randint(latents.shape[0], (n,), generator=generator, device=device)
        else:
            if context is None or context.ndim != 2 or context.shape[1] != self.context_dim:
                got = None if context is None else tuple(context.shape)
                msg = f"LatentKDE.sample expects a context of shape (B, {self.context_dim}), got {got}"
                raise ValueError(msg)
            index = self._conditional_rows(context.to(device).float(), generator)
        noise = torch.randn(index.shape[0], self.latent_dim, generator=generator, device=device)
        return latents[index] + h_z * noise

    def _conditional_rows(self, context: Tensor, generator: torch.Generator | None) -> Tensor:
        """A row index per context row, drawn with the kernel weights of the context dimensions."""
        stored = self.points[:, self.latent_dim :] / self.bandwidth[self.latent_dim :]
        scaled = context / self.bandwidth[self.latent_dim :]
        parts = []
        for start in range(0, scaled.shape[0], _CHUNK):
            log_w = -0.5 * torch.cdist(scaled[start : start + _CHUNK], stored).square()
            probs = torch.softmax(log_w, dim=1)
            parts.append(torch.multinomial(probs, 1, generator=generator).squeeze(1))
        return torch.cat(parts) if parts else torch.zeros(0, dtype=torch.long, device=context.device)

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any) -> None:
        """Resizes the row buffer to the stored one, so fitted and unfitted checkpoints both load."""
        stored = state_dict.get(prefix + "points")
        if isinstance(stored, Tensor) and stored.ndim == 2 and stored.shape[1] == self.points.shape[1]:
            self.points = torch.empty_like(stored, device=self.points.device)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extra_repr(self) -> str:
        return (
            f"latent_dim={self.latent_dim}, context_dim={self.context_dim}, rows={self.points.shape[0]}, "
            f"max_points={self.max_points}, bandwidth_scale={self.bandwidth_scale}"
        )

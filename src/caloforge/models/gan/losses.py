"""Wasserstein losses and the gradient penalty of WGAN-GP.

Example:
    >>> import torch
    >>> w = torch.tensor([3.0, 4.0])  # linear critic D(x) = w·x has |∇D| = 5 everywhere
    >>> real, fake = torch.randn(8, 2), torch.randn(8, 2)
    >>> float(gradient_penalty(lambda x: x @ w, real, fake))
    16.0
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["critic_loss", "generator_adversarial_loss", "gradient_penalty"]


def critic_loss(d_real: Tensor, d_fake: Tensor) -> Tensor:
    """Wasserstein critic loss E[D(fake)] - E[D(real)] (minimised by the critic).

    Arguments:
        d_real: Critic outputs on real showers, (B,).
        d_fake: Critic outputs on generated showers, (B,).

    Returns:
        Scalar; its negative estimates the Wasserstein-1 distance.
    """
    return d_fake.mean() - d_real.mean()


def generator_adversarial_loss(d_fake: Tensor) -> Tensor:
    """Wasserstein generator loss -E[D(fake)], (B,) → scalar."""
    return -d_fake.mean()


def gradient_penalty(
    critic: Callable[[Tensor], Tensor],
    real: Tensor,
    fake: Tensor,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Two-sided gradient penalty E[(‖∇ₓ D(x̂)‖₂ - 1)²] on random interpolates x̂ of real and fake.

    Arguments:
        critic: Maps inputs (B, D) to scores (B,); conditions are bound by the caller.
        real: Real inputs, (B, D).
        fake: Generated inputs, (B, D); detached from the generator.
        generator: Random generator for the interpolation weights.

    Returns:
        Scalar penalty, differentiable with respect to the critic's parameters.

    References:
        Gulrajani et al., "Improved Training of Wasserstein GANs", https://arxiv.org/abs/1704.00028
    """
    alpha = torch.rand(real.shape[0], 1, generator=generator, device=real.device, dtype=real.dtype)
    create_graph = torch.is_grad_enabled()  # False in validation: the penalty is then just a value
    with torch.enable_grad():  # the penalty needs the input gradient even under no_grad
        mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
        scores = critic(mixed)
        (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=create_graph)
    penalty: Tensor = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
    return penalty

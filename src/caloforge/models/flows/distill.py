"""Probability density distillation of a MAF teacher into an IAF student (CaloFlow II).

Sampling a MAF costs one network pass per feature; an IAF samples in one pass per block but has
no fast density, so it cannot be trained by maximum likelihood on data. CaloFlow II trains it to
reproduce its teacher instead. With the teacher frozen, three mean-squared errors are combined:

* **data space**: real data ``x`` → teacher latent ``z = T(x)`` (fast direction) → student
  ``S(z)`` should give back ``x``;
* **latent space**: fresh noise ``ε`` → student sample ``S(ε)`` → teacher ``T(S(ε))`` should give
  back ``ε`` (gradients reach the student through the frozen teacher);
* **block-wise**: block ``i`` of the student, fed the teacher's intermediate state ``h_{i+1}``,
  should give the teacher's ``h_i`` (teacher forcing of every MADE block).

Example:
    >>> import torch
    >>> from caloforge.models.flows.config import FlowConfig
    >>> from caloforge.models.flows.maf import ConditionalIAF, ConditionalMAF
    >>> config = FlowConfig(transforms=2, hidden=(16,), bins=4)
    >>> teacher, student = ConditionalMAF(4, 1, config), ConditionalIAF(4, 1, config)
    >>> x, c = torch.randn(8, 4), torch.rand(8, 1)
    >>> out = distillation_loss(teacher, student, x, c)
    >>> sorted(out.metrics)
    ['distill_block', 'distill_data', 'distill_latent']
    >>> out.loss.backward()
    >>> all(p.grad is not None for p in student.parameters())
    True
    >>> any(p.grad is not None for p in teacher.parameters())
    False

References:
    Krause, Shih, "CaloFlow II: Even Faster and Still Accurate Generation of Calorimeter Showers
    with Normalizing Flows", https://arxiv.org/abs/2110.11377

    van den Oord et al., "Parallel WaveNet: Fast High-Fidelity Speech Synthesis",
    https://arxiv.org/abs/1711.10433
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn

from caloforge.models.base import LossOutput
from caloforge.models.flows.maf import ConditionalIAF, ConditionalMAF

__all__ = ["distillation_loss", "frozen", "student_discrepancy"]


@contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Within the block, ``module``'s parameters record no gradient (inputs still do)."""
    flags = [(p, p.requires_grad) for p in module.parameters()]
    for p, _ in flags:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)


def distillation_loss(
    teacher: ConditionalMAF,
    student: ConditionalIAF,
    x: Tensor,
    context: Tensor,
    weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> LossOutput:
    """The weighted data-space, latent-space and block-wise distillation loss.

    Only the student's parameters receive gradients.

    Arguments:
        teacher: Trained MAF, x → z.
        student: IAF with the same features, context width and number of blocks, z → x.
        x: Training data in feature space, (B, D).
        context: Context vectors, (B, context).
        weights: Weights of the data, latent and block-wise terms.

    Returns:
        The loss and its three terms (``distill_data``, ``distill_latent``, ``distill_block``).

    Raises:
        ValueError: Teacher and student have different numbers of blocks.
    """
    if len(teacher.blocks) != len(student.blocks):
        msg = f"teacher has {len(teacher.blocks)} blocks, student {len(student.blocks)}: they must match"
        raise ValueError(msg)
    with torch.no_grad():
        states = teacher.states(x, context)
    data = torch.mean((student(states[-1], context) - x) ** 2)
    block = torch.stack(
        [torch.mean((student.block(i, context)(states[i + 1]) - states[i]) ** 2) for i in range(len(student.blocks))]
    ).mean()
    noise = torch.randn_like(x)
    with frozen(teacher):
        back, _ = teacher(student(noise, context), context)
    latent = torch.mean((back - noise) ** 2)
    w_data, w_latent, w_block = weights
    total = w_data * data + w_latent * latent + w_block * block
    metrics = {
        "distill_data": float(data.detach()),
        "distill_latent": float(latent.detach()),
        "distill_block": float(block.detach()),
    }
    return LossOutput(total, metrics)


@torch.no_grad()
def student_discrepancy(teacher: ConditionalMAF, student: ConditionalIAF, noise: Tensor, context: Tensor) -> float:
    """Mean squared difference between student and teacher samples from the same noise.

    Arguments:
        teacher: The MAF (sampled through its slow inverse).
        student: The IAF.
        noise: Standard-normal latents, (B, D).
        context: Context vectors, (B, context).

    Returns:
        mean((S(ε) - T⁻¹(ε))²) over all entries; 0 for a perfect student.
    """
    return float(torch.mean((student(noise, context) - teacher.inverse(noise, context)) ** 2))

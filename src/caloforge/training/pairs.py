"""Reflow couplings as training data: (noise, teacher end point, conditions) triples from a teacher's solves.

Reflow (:mod:`caloforge.models.diffusion.distill`) trains a student on pairs of noise and the end
point of the teacher's many-step solve from that noise. Drawing them is a data step, done once
before training: :func:`make_reflow_pairs` solves the teacher's ODE from seeded noise, and
:class:`ReflowPairs` hands them to the :class:`~caloforge.training.Trainer` exactly as
:class:`~caloforge.training.data.ShowerTensors` hands showers (the same seeded per-epoch
shuffling, data-parallel sharding and mid-epoch resume), as
:class:`~caloforge.models.diffusion.distill.ReflowBatch` batches.

Example:
    >>> import torch
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.models.diffusion import FlowMatching
    >>> g = Geometry.regular("toy", n_layers=2, n_alpha=1, r_edges=[0, 1, 2])
    >>> teacher = FlowMatching(g, FlowMatching.smoke_config())
    >>> teacher.fit_preprocessing(torch.rand(16, 4) * 50, torch.full((16, 1), 1e4))
    >>> pairs = make_reflow_pairs(teacher, torch.full((3, 1), 1e4), n_pairs=5, n_steps=2)
    >>> len(pairs), pairs.noise.shape == pairs.showers.shape
    (5, True)
    >>> type(next(pairs.batches(2, epoch=0, seed=0))).__name__
    'ReflowBatch'
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from tqdm.auto import tqdm

from caloforge.models.diffusion.config import SolverName
from caloforge.models.diffusion.distill import ReflowBatch
from caloforge.models.diffusion.flow_matching import FlowMatching
from caloforge.training.data import ShowerTensors

__all__ = ["ReflowPairs", "make_reflow_pairs"]


@dataclass
class ReflowPairs(ShowerTensors):
    """Teacher couplings in the teacher's model space, on the CPU.

    Attributes:
        showers: The teacher's end points, (N, noise_dim): stage-1 variables, then voxel fractions.
        conditions: Raw conditions, (N, C).
        noise: The initial noise of both stages, (N, noise_dim).
    """

    noise: Tensor

    def take(self, index: Tensor) -> ReflowBatch:
        """The couplings at ``index`` (a 1-d index tensor)."""
        return ReflowBatch(self.showers[index], self.conditions[index], self.noise[index])


@torch.no_grad()
def make_reflow_pairs(
    teacher: FlowMatching,
    conditions: Tensor,
    *,
    n_pairs: int,
    solver: SolverName = "midpoint",
    n_steps: int = 16,
    batch_size: int = 512,
    generator: torch.Generator | None = None,
    progress: bool = False,
) -> ReflowPairs:
    """Solves the teacher's ODE from fresh noise for ``n_pairs`` conditions.

    Arguments:
        teacher: A fitted flow-matching model (solved on its device, in eval mode).
        conditions: Raw conditions to draw from, (M, C); cycled to ``n_pairs`` rows.
        n_pairs: Number of couplings.
        solver: Solver of the teacher's solves.
        n_steps: Steps of the teacher's solves.
        batch_size: Couplings solved per teacher batch.
        generator: Random generator of the noise (drawn on the CPU, so the same seed gives the
            same noise on every device).
        progress: Show a progress bar.

    Returns:
        The couplings, on the CPU.

    Raises:
        ValueError: No conditions, or a non-positive count.
    """
    if conditions.shape[0] == 0:
        msg = "reflow needs at least one condition row to draw pairs for"
        raise ValueError(msg)
    if min(n_pairs, n_steps, batch_size) < 1:
        msg = f"n_pairs, n_steps and batch_size must be positive, got {n_pairs}, {n_steps}, {batch_size}"
        raise ValueError(msg)
    device = teacher._device()
    index = torch.arange(n_pairs) % conditions.shape[0]
    cond = conditions[index].float()
    noise = torch.randn(n_pairs, teacher.noise_dim, generator=generator)
    ends = []
    was_training = teacher.training
    teacher.eval()
    for start in tqdm(range(0, n_pairs, batch_size), desc="reflow pairs", disable=not progress):
        sl = slice(start, start + batch_size)
        layers, voxels = teacher.integrate(cond[sl].to(device), noise[sl].to(device), solver=solver, n_steps=n_steps)
        ends.append(torch.cat([layers, voxels], dim=1).cpu())
    teacher.train(was_training)
    return ReflowPairs(torch.cat(ends), cond.cpu(), noise)

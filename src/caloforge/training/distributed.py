"""Data-parallel training across processes started by ``torchrun`` (NCCL on GPU, gloo on CPU).

``torchrun --nproc-per-node N -m caloforge train ...`` sets ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK`` and the rendezvous variables; :func:`init_distributed` reads them. Each process
trains on its shard of every batch order; after the backward pass the gradients of the stepped
group are averaged with one all-reduce per tensor (the synchronisation that
:class:`torch.nn.parallel.DistributedDataParallel` performs; done explicitly because a model's
loss is not its ``forward`` and a GAN steps only one of its groups). Only rank 0 logs metrics and
writes checkpoints.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

__all__ = ["DistributedContext", "all_reduce_gradients", "any_rank", "broadcast_module", "init_distributed"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistributedContext:
    """This process's place in the job.

    Attributes:
        rank: Global rank.
        world_size: Number of processes.
        local_rank: Rank on this node (selects the GPU).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """True on rank 0, the process that logs and writes checkpoints."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        """True when more than one process takes part."""
        return self.world_size > 1


def init_distributed(device: torch.device) -> DistributedContext:
    """Joins the process group described by the torchrun environment variables, if any.

    Arguments:
        device: The training device type; CUDA uses NCCL and pins ``LOCAL_RANK``'s GPU, CPU uses gloo.

    Returns:
        The context (``world_size == 1`` without torchrun).
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext()
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(local_rank)
        dist.init_process_group(backend=backend)
        logger.info("rank %d/%d joined the %s process group", rank, world_size, backend)
    return DistributedContext(rank, world_size, local_rank)


def all_reduce_gradients(params: Iterable[nn.Parameter], world_size: int) -> None:
    """Averages the gradients of ``params`` over all processes (in place)."""
    for p in params:
        if p.grad is not None:
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
            p.grad.div_(world_size)


def broadcast_module(module: nn.Module) -> None:
    """Copies rank 0's parameters and buffers to every process."""
    for tensor in [*module.parameters(), *module.buffers()]:
        dist.broadcast(tensor.data, src=0)


def any_rank(flag: bool, device: torch.device) -> bool:
    """``True`` on every process when ``flag`` is true on any (a no-op without a process group)."""
    if not dist.is_initialized():
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item() > 0)

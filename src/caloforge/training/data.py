"""Training data: loading (file or simulator), a seeded train/validation split, and batch iteration.

Showers are held in memory as tensors; each epoch shuffles them with a generator seeded by
``(seed, epoch)``, so an epoch's order depends only on the seed and the epoch number and a resumed
run sees exactly the batches the uninterrupted run would. Under data parallelism each process
takes every ``world_size``-th shower of the shuffled order (what
:class:`torch.utils.data.DistributedSampler` does), padded by wrapping so all processes run the
same number of steps.

Example:
    >>> import numpy as np
    >>> from caloforge.data import ShowerData
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=1, n_alpha=1, r_edges=[0, 1])
    >>> data = ShowerData(np.arange(1, 11, dtype=np.float32), np.ones((10, 1)), g)
    >>> train, val = split_data(data, 0.2, seed=0)
    >>> len(train), len(val)
    (8, 2)
    >>> tensors = ShowerTensors.from_data(train)
    >>> [len(b) for b in tensors.batches(3, epoch=0, seed=0)]
    [3, 3]
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from caloforge.data import ShowerData, is_par04_angle_source, read_par04_angles, read_showers
from caloforge.models.base import ShowerBatch
from caloforge.training.config import DataConfig

__all__ = ["ShowerTensors", "load_training_data", "split_data"]

logger = logging.getLogger(__name__)


def load_training_data(config: DataConfig) -> ShowerData:
    """Reads the configured file (events ``start:stop``) or simulates showers.

    Raises:
        caloforge.data.ShowerFileError: Unreadable file or geometry mismatch.
        ValueError: Bad simulator settings.
    """
    if config.path is not None and is_par04_angle_source(config.path):  # Par04 per-angle files: a directory or glob
        data = read_par04_angles(config.path, config.geometry, start=config.start, stop=config.stop)
    elif config.path is not None:
        data = read_showers(config.path, config.geometry, start=config.start, stop=config.stop)
    else:
        from caloforge.data import parse_energy_spec
        from caloforge.geometry import get_geometry
        from caloforge.simulate import GFlashSimulator

        if config.simulate is None or config.geometry is None:
            msg = "data: set path, or simulate together with geometry"
            raise ValueError(msg)
        sim = config.simulate
        rng = np.random.default_rng(sim.seed)
        energies = parse_energy_spec(sim.energy).sample(sim.n, rng)
        data = GFlashSimulator(get_geometry(config.geometry)).simulate(energies, rng)
        logger.info("simulated %d %s showers (%s)", sim.n, config.geometry, sim.energy)
    if not config.use_angles and data.angles is not None:
        data = ShowerData(data.energies, data.showers, data.geometry, None, data.attrs)
    return data


def split_data(data: ShowerData, val_fraction: float, *, seed: int) -> tuple[ShowerData, ShowerData | None]:
    """Random train/validation split, reproducible from ``seed``.

    Returns:
        ``(train, val)``; ``val`` is ``None`` when ``val_fraction`` is 0 or leaves no shower.
    """
    n_val = round(len(data) * val_fraction)
    if n_val == 0:
        return data, None
    if n_val >= len(data):
        msg = f"val_fraction {val_fraction} leaves no training showers out of {len(data)}"
        raise ValueError(msg)
    order = np.random.default_rng(seed).permutation(len(data))
    return data.subset(np.sort(order[n_val:])), data.subset(np.sort(order[:n_val]))


@dataclass
class ShowerTensors:
    """Showers and conditions as tensors.

    Attributes:
        showers: (N, n_voxels), MeV.
        conditions: (N, C), raw conditions.
    """

    showers: Tensor
    conditions: Tensor

    @classmethod
    def from_data(cls, data: ShowerData) -> ShowerTensors:
        """Tensors sharing memory with ``data``'s arrays."""
        return cls(torch.from_numpy(data.showers), torch.from_numpy(data.conditions()))

    def __len__(self) -> int:
        return int(self.showers.shape[0])

    def n_batches(self, batch_size: int, *, world_size: int = 1, drop_last: bool = True) -> int:
        """Batches per epoch and process."""
        per_rank = -(-len(self) // world_size)
        if drop_last and per_rank >= batch_size:
            return per_rank // batch_size
        return -(-per_rank // batch_size)

    def batches(
        self,
        batch_size: int,
        *,
        epoch: int,
        seed: int,
        shuffle: bool = True,
        rank: int = 0,
        world_size: int = 1,
        start: int = 0,
        drop_last: bool = True,
    ) -> Iterator[ShowerBatch]:
        """Yields this process's batches of ``epoch``, from batch index ``start`` on.

        Arguments:
            batch_size: Showers per batch.
            epoch: Epoch number (part of the shuffling seed).
            seed: Run seed.
            shuffle: Shuffle (training) or keep the order (validation).
            rank: This process's rank.
            world_size: Number of data-parallel processes.
            start: Skip the first ``start`` batches (resuming mid-epoch).
            drop_last: Drop an incomplete last batch (unless it is the only one).
        """
        n = len(self)
        if shuffle:
            gen = torch.Generator().manual_seed(seed * 100_003 + epoch)
            order = torch.randperm(n, generator=gen)
        else:
            order = torch.arange(n)
        per_rank = -(-n // world_size)
        if per_rank * world_size > n:
            order = torch.cat([order, order[: per_rank * world_size - n]])
        mine = order[rank::world_size]
        for b in range(start, self.n_batches(batch_size, world_size=world_size, drop_last=drop_last)):
            yield self.take(mine[b * batch_size : (b + 1) * batch_size])

    def take(self, index: Tensor) -> ShowerBatch:
        """The batch of the rows at ``index`` (a 1-d index tensor); subclasses carry more columns."""
        return ShowerBatch(self.showers[index], self.conditions[index])

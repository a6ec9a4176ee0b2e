"""Scale-out: sharded shower production on Dask (local cluster, SLURM/HTCondor via dask-jobqueue).

:func:`produce_sharded` is :func:`caloforge.data.produce_to_file` with a client: any
:class:`~caloforge.data.ShowerProducer` works. DDP training is the trainer's job
(``torchrun ... -m caloforge train``); see ``docs/scale-out.md``.
"""

from __future__ import annotations

from caloforge.data import resolve_seed
from caloforge.distributed.campaign import cluster
from caloforge.distributed.dask_generate import DEFAULT_SHARD_SIZE, connect, produce_sharded, require_dask
from caloforge.distributed.shards import Shard, merge_shards, plan_shards, run_shard, shard_seed, write_virtual

__all__ = [
    "DEFAULT_SHARD_SIZE",
    "Shard",
    "cluster",
    "connect",
    "merge_shards",
    "plan_shards",
    "produce_sharded",
    "require_dask",
    "resolve_seed",
    "run_shard",
    "shard_seed",
    "write_virtual",
]

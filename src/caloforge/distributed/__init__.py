"""Scale-out: sharded shower generation on Dask (local cluster, SLURM/HTCondor via dask-jobqueue).

DDP training is the trainer's job (``torchrun ... -m caloforge train``); see ``docs/scale-out.md``.
"""

from __future__ import annotations

from caloforge.distributed.campaign import cluster, generate_checkpoint_sharded, resolve_seed, simulate_sharded
from caloforge.distributed.dask_generate import ShardedRun, connect, generate_sharded, require_dask
from caloforge.distributed.producers import CheckpointProducer, SimulatorProducer
from caloforge.distributed.shards import (
    Shard,
    ShardProducer,
    merge_shards,
    plan_shards,
    run_shard,
    shard_seed,
    write_virtual,
)

__all__ = [
    "CheckpointProducer",
    "Shard",
    "ShardProducer",
    "ShardedRun",
    "SimulatorProducer",
    "cluster",
    "connect",
    "generate_checkpoint_sharded",
    "generate_sharded",
    "merge_shards",
    "plan_shards",
    "require_dask",
    "resolve_seed",
    "run_shard",
    "shard_seed",
    "simulate_sharded",
    "write_virtual",
]

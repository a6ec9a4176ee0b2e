"""Whole generation campaigns behind ``caloforge simulate`` / ``caloforge generate --workers N``.

These functions pick the cluster (a scheduler address, a local cluster of ``workers`` processes, or none
for ``workers <= 1``), build the shard producer and call :func:`~caloforge.distributed.generate_sharded`.
The file depends on the seed and the shard size only, so ``--workers 1``, ``--workers 2`` and a 100-node
cluster write identical files.

Example:
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "sim.h5"
    >>> run = simulate_sharded(out, "calochallenge-2", 12, "log-uniform:1:100", seed=1, shard_size=5)
    >>> run.n_showers, run.n_shards, run.workers
    (12, 3, 0)
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from caloforge.data import EnergySpec, parse_energy_spec
from caloforge.distributed.dask_generate import DEFAULT_SHARD_SIZE, ShardedRun, connect, generate_sharded
from caloforge.distributed.producers import CheckpointProducer, SimulatorProducer
from caloforge.geometry import Geometry
from caloforge.simulate import GFlashConfig

__all__ = ["cluster", "generate_checkpoint_sharded", "resolve_seed", "simulate_sharded"]

logger = logging.getLogger(__name__)


def resolve_seed(seed: int | None) -> int:
    """``seed``, or fresh entropy (logged, so the run can be repeated) when ``None``."""
    if seed is not None:
        return int(seed)
    fresh = int(np.random.SeedSequence().generate_state(1, np.uint32)[0])
    logger.info("no seed given; using seed %d", fresh)
    return fresh


@contextlib.contextmanager
def cluster(workers: int = 1, scheduler: str | None = None) -> Iterator[Any | None]:
    """A Dask client for ``scheduler``, a local cluster of ``workers`` processes, or ``None`` (in-process).

    Arguments:
        workers: Local worker processes; 1 or fewer (and no scheduler) runs in this process, without Dask.
        scheduler: Address (``tcp://host:8786``) or scheduler file of a running cluster.

    Yields:
        A ``distributed.Client`` or ``None``.
    """
    if scheduler is None and workers <= 1:
        yield None
        return
    with connect(scheduler, workers=workers) as client:
        yield client


def simulate_sharded(
    path: str | Path,
    geometry: str | Geometry,
    n: int,
    energy_spec: str | EnergySpec = "log-uniform:1:100",
    *,
    seed: int | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    shard_size: int = DEFAULT_SHARD_SIZE,
    batch_size: int | None = None,
    config: GFlashConfig | None = None,
    overwrite: bool = False,
    progress: bool = False,
    virtual: bool = False,
) -> ShardedRun:
    """Simulates ``n`` showers with the GFlash simulator in shards (see :func:`generate_sharded`).

    Arguments:
        path: Output HDF5 file.
        geometry: Geometry name or object (needs ``layer_thickness_mm``).
        n: Number of showers.
        energy_spec: Incident energies (GeV spec); drawn with ``default_rng(seed)`` before sharding.
        seed: Run seed (``None``: fresh, logged).
        workers: Local worker processes (≤ 1: in-process).
        scheduler: Address of a running Dask scheduler (overrides ``workers``).
        shard_size: Showers per shard.
        batch_size: Simulator batch size.
        config: Simulator physics parameters.
        overwrite: Replace an existing file.
        progress: Progress bar over shards.
        virtual: Keep the shards and write a virtual dataset.

    Raises:
        FileExistsError: If ``path`` exists and ``overwrite`` is false.
        ValueError: On a bad count or energy spec.
    """
    if n < 1:
        msg = f"number of showers must be at least 1, got {n}"
        raise ValueError(msg)
    spec = parse_energy_spec(energy_spec) if isinstance(energy_spec, str) else energy_spec
    seed = resolve_seed(seed)
    energies = spec.sample(n, np.random.default_rng(seed))
    producer = SimulatorProducer(geometry, config, batch_size=batch_size)
    attrs = {
        "generator": "caloforge GFlash",
        "energy_spec": f"{spec.kind}:{','.join(f'{v:g}' for v in spec.values_gev)}",
        "simulator_config": json.dumps(dataclasses.asdict(producer.config)),
    }
    with cluster(workers, scheduler) as client:
        return generate_sharded(
            producer, energies, path, seed=seed, shard_size=shard_size, client=client, overwrite=overwrite,
            attrs=attrs, progress=progress, virtual=virtual,
        )


def generate_checkpoint_sharded(
    checkpoint: str | Path,
    path: str | Path,
    energies: NDArray[np.floating],
    *,
    seed: int | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    shard_size: int = DEFAULT_SHARD_SIZE,
    batch_size: int = 1000,
    device: str = "cpu",
    threshold: float = 0.0,
    use_ema: bool = True,
    overwrite: bool = False,
    progress: bool = False,
    virtual: bool = False,
) -> ShardedRun:
    """Samples a trained checkpoint for each energy in shards (see :func:`generate_sharded`).

    Arguments:
        checkpoint: Model or training checkpoint, readable on every worker.
        path: Output HDF5 file.
        energies: Incident energies, (N,) or (N, 1), MeV. Angle-conditioned models are not supported here.
        seed: Run seed (``None``: fresh, logged).
        workers: Local worker processes (≤ 1: in-process); each loads the model once and uses one thread.
        scheduler: Address of a running Dask scheduler (overrides ``workers``).
        shard_size: Showers per shard.
        batch_size: Showers per forward pass.
        device: Torch device on the workers (``"auto"``: CUDA where a worker has it).
        threshold: Generated voxels below this energy are set to 0, MeV.
        use_ema: Use the EMA weights of a training checkpoint.
        overwrite: Replace an existing file.
        progress: Progress bar over shards.
        virtual: Keep the shards and write a virtual dataset.

    Raises:
        FileExistsError: If ``path`` exists and ``overwrite`` is false.
        ValueError: If ``energies`` has more than one condition column (angles).
        caloforge.models.CheckpointError: If a worker cannot read the checkpoint.
    """
    e = np.asarray(energies, dtype=np.float32)
    if e.ndim == 2 and e.shape[1] == 1:
        e = e[:, 0]
    if e.ndim != 1:
        msg = f"sharded generation takes incident energies only (N,), got conditions of shape {e.shape}"
        raise ValueError(msg)
    seed = resolve_seed(seed)
    threads = 1 if (workers > 1 or scheduler is not None) else None
    producer = CheckpointProducer(
        checkpoint, batch_size=batch_size, device=device, threads=threads, threshold=threshold, use_ema=use_ema
    )
    attrs = {"checkpoint": Path(checkpoint).name}
    with cluster(workers, scheduler) as client:
        return generate_sharded(
            producer, e, path, seed=seed, shard_size=shard_size, client=client, overwrite=overwrite,
            attrs=attrs, progress=progress, virtual=virtual,
        )

"""Sharded shower generation, in one process or on a Dask cluster, merged atomically into one file.

:func:`generate_sharded` cuts the energy list into shards (:func:`~caloforge.distributed.plan_shards`),
generates every shard with a picklable *shard producer* ``(energies_mev, seed) -> ShowerData`` (the GFlash
simulator, a model checkpoint, ...), writes each shard as an HDF5 file into a shard directory, and finally
concatenates the shards in index order into the output file (or presents them as an HDF5 virtual dataset).
Without a client the shards run one after another in this process; with a ``distributed.Client`` they run
in parallel on its workers. Both give bit-identical files for the same seed and shard size, because the
randomness of a shard depends only on ``(seed, shard index)``.

Failures: each shard task is retried ``retries`` times by Dask; a shard is written through a temporary
file and renamed, and the output appears only after every shard succeeded, so a failure never leaves a
partial or corrupted output. The shard directory is removed after a successful merge unless it was given
explicitly (then existing complete shards from an interrupted run are reused).

Dask is an optional dependency (``pip install 'caloforge[dask]'``).

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> from caloforge.distributed import SimulatorProducer
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "sim.h5"
    >>> energies = np.full(6, 1e4, dtype=np.float32)
    >>> run = generate_sharded(SimulatorProducer("calochallenge-2"), energies, out, seed=3, shard_size=4)
    >>> run.n_showers, run.n_shards, out.exists()
    (6, 2, True)
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from tqdm.auto import tqdm

from caloforge.data import ShowerFile, ShowerFileError
from caloforge.distributed.shards import Shard, ShardProducer, merge_shards, plan_shards, run_shard, write_virtual

__all__ = ["ShardedRun", "connect", "generate_sharded", "require_dask"]

logger = logging.getLogger(__name__)

#: Default showers per shard: about 0.25 GB of float32 voxels for CaloChallenge dataset 2.
DEFAULT_SHARD_SIZE = 10_000


@dataclass(frozen=True)
class ShardedRun:
    """What :func:`generate_sharded` produced.

    Attributes:
        path: The output file.
        n_showers: Showers in the output.
        n_shards: Number of shards.
        seconds: Wall time from the first shard to the finished output, s.
        workers: Number of Dask workers (0: in-process).
        virtual: Whether the output is a virtual dataset over kept shard files.
    """

    path: Path
    n_showers: int
    n_shards: int
    seconds: float
    workers: int
    virtual: bool

    @property
    def showers_per_second(self) -> float:
        """Throughput including writing and merging."""
        return self.n_showers / max(self.seconds, 1e-9)


def require_dask() -> Any:
    """Imports ``distributed``.

    Raises:
        ImportError: Naming the extra to install when Dask is missing.
    """
    try:
        import distributed
    except ImportError as err:
        msg = "distributed generation needs Dask: pip install 'caloforge[dask]'"
        raise ImportError(msg) from err
    return distributed


@contextlib.contextmanager
def connect(scheduler: str | None = None, *, workers: int = 2, processes: bool = True) -> Iterator[Any]:
    """A Dask client: connected to ``scheduler``, or on a local cluster started (and stopped) here.

    Arguments:
        scheduler: Scheduler address (``tcp://host:8786``) or a scheduler file path; ``None`` starts a
            ``LocalCluster``.
        workers: Workers of the local cluster (one thread each).
        processes: Local workers as processes (true parallelism) rather than threads.

    Yields:
        A ``distributed.Client``.

    Raises:
        ImportError: Without Dask.
        ValueError: If ``workers`` is below 1.
    """
    distributed = require_dask()
    if scheduler is not None:
        kwargs = {"scheduler_file": scheduler} if Path(scheduler).is_file() else {"address": scheduler}
        with distributed.Client(**kwargs) as client:
            yield client
        return
    if workers < 1:
        msg = f"need at least one worker, got {workers}"
        raise ValueError(msg)
    cluster = distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=processes, dashboard_address=":0"
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


def generate_sharded(
    producer: ShardProducer,
    energies: NDArray[np.floating],
    output: str | Path,
    *,
    seed: int,
    shard_size: int = DEFAULT_SHARD_SIZE,
    client: Any | None = None,
    retries: int = 2,
    shard_dir: str | Path | None = None,
    virtual: bool = False,
    overwrite: bool = False,
    attrs: dict[str, Any] | None = None,
    progress: bool = False,
) -> ShardedRun:
    """Generates one shower per energy in shards and writes them as one CaloChallenge file.

    Arguments:
        producer: Picklable ``(energies (n,) MeV, seed) -> ShowerData`` with n showers.
        energies: Incident energies, (N,), MeV.
        seed: Run seed; shard ``i`` uses :func:`~caloforge.distributed.shard_seed` ``(seed, i)``.
        shard_size: Showers per shard. The output depends on it (not on the number of workers).
        client: A ``distributed.Client`` (see :func:`connect`); ``None`` runs the shards in this process.
        retries: Times Dask retries a failed shard.
        shard_dir: Where shard files go. Default: a temporary directory beside ``output``, removed after
            the merge. When given, it is kept, and complete shards already in it are reused (resume).
        virtual: Keep the shards (in ``output``'s sibling ``<name>.shards/`` unless ``shard_dir`` is
            given) and write ``output`` as a virtual dataset over them instead of copying.
        overwrite: Replace an existing ``output``.
        attrs: Extra file attributes of the output.
        progress: Show a progress bar over shards.

    Returns:
        A :class:`ShardedRun`.

    Raises:
        FileExistsError: If ``output`` exists and ``overwrite`` is false (checked before any work).
        ValueError: On an empty energy list or a bad shard size.
        Exception: The producer's error when a shard still fails after its retries; ``output`` is untouched.
    """
    output = Path(output)
    if output.exists() and not overwrite:
        msg = f"{output} already exists; pass overwrite=True (--force on the command line) to replace it"
        raise FileExistsError(msg)
    e = np.asarray(energies, dtype=np.float32).reshape(-1)
    shards = plan_shards(len(e), shard_size, seed)
    keep = shard_dir is not None or virtual
    directory = _shard_directory(output, shard_dir, virtual)
    start = time.perf_counter()
    try:
        paths = _run_shards(producer, e, shards, directory, client, retries, progress)
        meta = {**(attrs or {}), "seed": int(seed), "shard_size": int(shard_size), "n_shards": len(shards)}
        meta = {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in meta.items()}
        if virtual:
            n = write_virtual(paths, output, attrs=meta, overwrite=overwrite)
        else:
            n = merge_shards(paths, output, attrs=meta, overwrite=overwrite)
    finally:
        if not keep:
            shutil.rmtree(directory, ignore_errors=True)
    workers = 0 if client is None else len(client.scheduler_info().get("workers", {}))
    run = ShardedRun(output, n, len(shards), time.perf_counter() - start, workers, virtual)
    logger.info(
        "wrote %d showers in %d shards to %s (%.0f showers/s, %d workers)",
        n, len(shards), output, run.showers_per_second, workers,
    )
    return run


def _shard_directory(output: Path, shard_dir: str | Path | None, virtual: bool) -> Path:
    if shard_dir is not None:
        path = Path(shard_dir)
    elif virtual:
        path = output.with_name(f"{output.name}.shards")
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{output.name}.", suffix=".shards", dir=output.parent))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _is_complete(path: Path, shard: Shard) -> bool:
    """Whether ``path`` is a readable shard file of the right size and seed (for resuming)."""
    if not path.exists():
        return False
    try:
        with ShowerFile(path) as f:
            return len(f) == len(shard) and str(f.attrs.get("shard_seed")) == str(shard.seed)
    except ShowerFileError:
        return False


def _run_shards(
    producer: ShardProducer,
    energies: NDArray[np.float32],
    shards: list[Shard],
    directory: Path,
    client: Any | None,
    retries: int,
    progress: bool,
) -> list[Path]:
    todo = [s for s in shards if not _is_complete(directory / s.filename, s)]
    if len(todo) < len(shards):
        logger.info("reusing %d complete shards in %s", len(shards) - len(todo), directory)
    with tqdm(total=len(shards), initial=len(shards) - len(todo), disable=not progress, desc="shards") as bar:
        if client is None:
            for s in todo:
                run_shard(producer, energies[s.start : s.stop], s, directory)
                bar.update(1)
        else:
            distributed = require_dask()
            remote_producer = client.scatter(producer, broadcast=True)
            token = uuid.uuid4().hex[:8]
            futures = [
                client.submit(
                    run_shard, remote_producer, energies[s.start : s.stop], s, str(directory),
                    retries=retries, pure=False, key=f"caloforge-shard-{token}-{s.index}",
                )
                for s in todo
            ]
            try:
                for future in distributed.as_completed(futures):
                    future.result()
                    bar.update(1)
            finally:
                for future in futures:
                    future.cancel()
    return [directory / s.filename for s in shards]

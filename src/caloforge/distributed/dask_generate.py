"""Sharded production: :func:`caloforge.data.produce_to_file` extended with a Dask client.

:func:`produce_sharded` cuts the conditions into shards (:func:`~caloforge.distributed.plan_shards`),
produces every shard with the same picklable :class:`~caloforge.data.ShowerProducer` (the GFlash
simulator, a model checkpoint, an ONNX model, ...) through ``produce_to_file`` into a shard directory,
and finally concatenates the shards in index order into the output file (or presents them as an HDF5
virtual dataset).
Without a client the shards run one after another in this process; with a ``distributed.Client`` they run
in parallel on its workers. Both give bit-identical files for the same seed and shard size, because the
randomness of a shard depends only on ``(seed, shard index)``.

Failures: each shard task is retried ``retries`` times by Dask; a shard is written through a temporary
file and renamed, and the output appears only after every shard succeeded, so a failure never leaves a
partial or corrupted output. The shard directory is removed after a successful merge unless it was given
explicitly (then existing complete shards from an interrupted run are reused).

Dask is an optional dependency (``pip install 'caloforge[dask]'``).

Example:
    >>> import tempfile, pathlib
    >>> from caloforge.data import Conditions
    >>> from caloforge.simulate import GFlashProducer
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "sim.h5"
    >>> run = produce_sharded(GFlashProducer("calochallenge-2"), Conditions.from_spec("fixed:10", 6), out, seed=3,
    ...                       shard_size=4)
    >>> run.n, run.n_shards, out.exists()
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
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from caloforge.data import DEFAULT_COMPRESSION, Conditions, ProductionRun, ShowerFile, ShowerFileError, ShowerProducer
from caloforge.data.producer import file_attrs
from caloforge.distributed.shards import Shard, merge_shards, plan_shards, run_shard, write_virtual

__all__ = ["DEFAULT_SHARD_SIZE", "connect", "produce_sharded", "require_dask"]

logger = logging.getLogger(__name__)

#: Default showers per shard: about 0.25 GB of float32 voxels for CaloChallenge dataset 2.
DEFAULT_SHARD_SIZE = 10_000


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


def produce_sharded(
    producer: ShowerProducer,
    conditions: Conditions,
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
    compression: str | None = DEFAULT_COMPRESSION,
) -> ProductionRun:
    """Produces one shower per condition in shards and writes them as one CaloChallenge file.

    Arguments:
        producer: The source of showers; picklable (it is sent to every worker once).
        conditions: What to produce (checked by ``producer.accept`` before any work).
        output: Output HDF5 file.
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
        compression: Compression of the merged output (:data:`~caloforge.data.COMPRESSIONS`); shards
            (and so a ``virtual`` output) use the default.

    Returns:
        A :class:`~caloforge.data.ProductionRun` (with the number of shards and workers).

    Raises:
        FileExistsError: If ``output`` exists and ``overwrite`` is false (checked before any work).
        ValueError: If the producer refuses the conditions, or on a bad shard size.
        Exception: The producer's error when a shard still fails after its retries; ``output`` is untouched.
    """
    output = Path(output)
    if output.exists() and not overwrite:
        msg = f"{output} already exists; pass overwrite=True (--force on the command line) to replace it"
        raise FileExistsError(msg)
    accepted = producer.accept(conditions)
    shards = plan_shards(len(accepted), shard_size, seed)
    keep = shard_dir is not None or virtual
    directory = _shard_directory(output, shard_dir, virtual)
    start = time.perf_counter()
    try:
        paths = _run_shards(producer, accepted, shards, directory, client, retries, progress)
        meta = {**file_attrs(producer, seed, attrs), "shard_size": int(shard_size), "n_shards": len(shards)}
        meta = {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in meta.items()}
        if virtual:
            n = write_virtual(paths, output, attrs=meta, overwrite=overwrite)
        else:
            n = merge_shards(paths, output, attrs=meta, overwrite=overwrite, compression=compression)
    finally:
        if not keep:
            shutil.rmtree(directory, ignore_errors=True)
    workers = 0 if client is None else len(client.scheduler_info().get("workers", {}))
    run = ProductionRun(
        output, n, time.perf_counter() - start, producer.label, int(seed), len(shards), workers, virtual
    )
    logger.debug(  # the commands print their own result line
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
    producer: ShowerProducer,
    conditions: Conditions,
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
                run_shard(producer, conditions[s.start : s.stop], s, directory)
                bar.update(1)
        else:
            distributed = require_dask()
            remote_producer = client.scatter(producer, broadcast=True)
            token = uuid.uuid4().hex[:8]
            futures = [
                client.submit(
                    run_shard, remote_producer, conditions[s.start : s.stop], s, str(directory),
                    retries=retries, pure=False, key=f"caloforge-shard-{token}-{s.index}",
                )
                for s in todo
            ]
            try:
                for future in distributed.as_completed(futures):
                    future.result()
                    bar.update(1)
            except BaseException:  # a running shard cannot be stopped: let them end before the directory goes
                with contextlib.suppress(Exception):
                    distributed.wait(futures, timeout=60)
                raise
            finally:
                for future in futures:
                    future.cancel()
    return [directory / s.filename for s in shards]

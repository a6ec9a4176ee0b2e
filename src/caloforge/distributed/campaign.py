"""The cluster behind ``--workers N`` / ``--dask-scheduler ADDRESS``: a Dask client, or none (in-process).

A command builds its conditions and producer once and runs
:func:`~caloforge.distributed.produce_sharded` inside :func:`cluster`. The file depends on the seed and
the shard size only, so ``--workers 1``, ``--workers 2`` and a 100-node cluster write identical files.

Example:
    >>> import tempfile, pathlib
    >>> from caloforge.data import Conditions
    >>> from caloforge.distributed import produce_sharded
    >>> from caloforge.simulate import GFlashProducer
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "sim.h5"
    >>> with cluster(workers=1) as client:
    ...     run = produce_sharded(GFlashProducer("calochallenge-2"), Conditions.from_spec("log-uniform:1:100", 12, 1),
    ...                           out, seed=1, shard_size=5, client=client)
    >>> run.n, run.n_shards, run.workers
    (12, 3, 0)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from caloforge.distributed.dask_generate import connect

__all__ = ["cluster"]


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

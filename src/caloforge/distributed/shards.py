"""Shard planning, per-shard generation and the merge of shard files: the Dask-free part of sharded generation.

A requested energy list is cut into contiguous shards of ``shard_size`` showers. Shard ``i`` draws its
randomness from its own seed, derived from the run seed and ``i`` only (:func:`shard_seed`), so the
showers of a shard do not depend on which worker runs it, on how many workers there are or on the order in
which shards finish: merging the shards in index order gives the same file as generating them one after
another in a single process (:func:`~caloforge.distributed.produce_sharded` without a client).

Example:
    >>> shards = plan_shards(10, shard_size=4, seed=7)
    >>> [(s.start, s.stop) for s in shards]
    [(0, 4), (4, 8), (8, 10)]
    >>> shards[1].seed == shard_seed(7, 1)
    True
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from caloforge.atomic import prepare_target
from caloforge.data import DEFAULT_COMPRESSION, Conditions, ShowerFile, ShowerProducer, ShowerWriter, produce_to_file
from caloforge.data.h5output import H5Output
from caloforge.data.io import ANGLES_KEY, ENERGIES_KEY, GEOMETRY_ATTR, SHOWERS_KEY

__all__ = [
    "Shard",
    "merge_shards",
    "plan_shards",
    "run_shard",
    "shard_seed",
    "write_virtual",
]

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class Shard:
    """One contiguous piece of the energy list.

    Attributes:
        index: Position of the shard in the merged output.
        start: First event (inclusive).
        stop: Last event (exclusive).
        seed: The shard's own seed (see :func:`shard_seed`).
    """

    index: int
    start: int
    stop: int
    seed: int

    def __len__(self) -> int:
        return self.stop - self.start

    @property
    def filename(self) -> str:
        """File name of the shard in the shard directory."""
        return f"shard-{self.index:06d}.h5"


def shard_seed(seed: int, index: int) -> int:
    """The seed of shard ``index`` of a run with seed ``seed``.

    Derived with :class:`numpy.random.SeedSequence` from ``(seed, index)``, so seeds of different shards
    are statistically independent and each depends only on the run seed and its own index.

    Arguments:
        seed: Run seed (non-negative).
        index: Shard index.

    Returns:
        A seed in ``[0, 2**63)``.
    """
    state = np.random.SeedSequence([int(seed), int(index)]).generate_state(2, np.uint32)
    return int(state[0]) << 31 | int(state[1]) >> 1


def plan_shards(n: int, shard_size: int, seed: int) -> list[Shard]:
    """Cuts ``n`` events into contiguous shards of at most ``shard_size`` events.

    Arguments:
        n: Number of events.
        shard_size: Events per shard.
        seed: Run seed; each shard gets :func:`shard_seed` ``(seed, index)``.

    Raises:
        ValueError: If ``n`` or ``shard_size`` is below 1, or ``seed`` is negative.
    """
    if n < 1 or shard_size < 1:
        msg = f"need at least one event and a shard size of at least 1, got n={n}, shard_size={shard_size}"
        raise ValueError(msg)
    if seed < 0:
        msg = f"the seed must be non-negative, got {seed}"
        raise ValueError(msg)
    starts = range(0, n, shard_size)
    return [Shard(i, s, min(s + shard_size, n), shard_seed(seed, i)) for i, s in enumerate(starts)]


def run_shard(producer: ShowerProducer, conditions: Conditions, shard: Shard, directory: str | Path) -> Path:
    """Produces one shard and writes it, atomically, as ``directory/shard-NNNNNN.h5``.

    Runs on a worker, through :func:`caloforge.data.produce_to_file` with the shard's seed. A failure
    leaves no file behind (the write goes through a temporary file), so a retried shard starts clean;
    an existing complete shard file is replaced.

    Arguments:
        producer: The run's producer.
        conditions: Conditions of this shard, ``len(shard)`` events.
        shard: The shard.
        directory: Shard directory.

    Returns:
        The path of the written shard file.

    Raises:
        ValueError: If the conditions do not match the shard, or the producer yields another number of showers.
    """
    if len(conditions) != len(shard):
        msg = f"shard {shard.index}: {len(conditions)} conditions for {len(shard)} events"
        raise ValueError(msg)
    path = Path(directory) / shard.filename
    attrs = {"shard_index": shard.index, "shard_seed": str(shard.seed)}
    produce_to_file(producer, conditions, path, seed=shard.seed, overwrite=True, attrs=attrs)
    logger.debug("shard %d: %d showers written to %s", shard.index, len(shard), path)
    return path


def merge_shards(
    paths: Sequence[str | Path],
    output: str | Path,
    *,
    attrs: dict[str, Any] | None = None,
    overwrite: bool = False,
    chunk_size: int = 10_000,
    compression: str | None = DEFAULT_COMPRESSION,
) -> int:
    """Concatenates shard files, in the given order, into one file, atomically.

    Arguments:
        paths: Shard files in output order.
        output: Merged file; it appears only once complete.
        attrs: File attributes of the merged file.
        overwrite: Replace an existing ``output``.
        chunk_size: Events read per step (bounds memory).
        compression: One of :data:`~caloforge.data.COMPRESSIONS`.

    Returns:
        The number of events written.

    Raises:
        ValueError: If no paths are given or shards disagree on geometry or angles.
        FileExistsError: If ``output`` exists and ``overwrite`` is false.
    """
    if not paths:
        msg = "no shard files to merge"
        raise ValueError(msg)
    with ShowerFile(paths[0]) as first:
        geometry, with_angles = first.geometry, first.angles is not None
    with ShowerWriter(
        output, geometry, with_angles=with_angles, overwrite=overwrite, attrs=attrs, compression=compression
    ) as writer:
        for path in paths:
            with ShowerFile(path) as shard:
                if not shard.geometry.same_binning(geometry):
                    msg = f"{path}: geometry {shard.geometry.name!r} differs from {geometry.name!r}"
                    raise ValueError(msg)
                for chunk in shard.iter_chunks(chunk_size, validate=False):
                    writer.write(chunk)
        return writer.n_written


def write_virtual(
    paths: Sequence[str | Path], output: str | Path, *, attrs: dict[str, Any] | None = None, overwrite: bool = False
) -> int:
    """Writes an HDF5 virtual-dataset file that presents the shards as one CaloChallenge file.

    No shower is copied: the output refers to the shard files by their path relative to it, so the
    shards must stay where they are (move them together with the output). Written to a temporary file
    and renamed into place.

    Arguments:
        paths: Shard files in output order.
        output: The virtual file.
        attrs: Extra file attributes.
        overwrite: Replace an existing ``output``.

    Returns:
        The number of events the virtual file presents.

    Raises:
        ValueError: If no paths are given.
        FileExistsError: If ``output`` exists and ``overwrite`` is false.
    """
    import h5py

    if not paths:
        msg = "no shard files to present"
        raise ValueError(msg)
    output = Path(output)
    prepare_target(output, overwrite=overwrite)
    infos = []
    for path in paths:
        with h5py.File(path, "r") as f:
            infos.append((Path(path), f[SHOWERS_KEY].shape, ANGLES_KEY in f, dict(f.attrs)))
    n = sum(shape[0] for _, shape, _, _ in infos)
    keys = [SHOWERS_KEY, ENERGIES_KEY] + ([ANGLES_KEY] if all(a for _, _, a, _ in infos) else [])
    with H5Output(output, overwrite=overwrite, libver="latest") as h5, h5.guard():
        out = h5.file
        for key in keys:
            width = infos[0][1][1] if key == SHOWERS_KEY else 1
            layout = h5py.VirtualLayout(shape=(n, width), dtype="f4")
            offset = 0
            for path, shape, _, _ in infos:
                rel = Path(_relative(path, output.parent))
                layout[offset : offset + shape[0]] = h5py.VirtualSource(str(rel), key, shape=(shape[0], width))
                offset += shape[0]
            out.create_virtual_dataset(key, layout)
        for key in (GEOMETRY_ATTR, "geometry_name"):
            out.attrs[key] = infos[0][3][key]
        for key, value in (attrs or {}).items():
            out.attrs[key] = value
    return int(n)


def _relative(path: Path, base: Path) -> str:
    return os.path.relpath(path.resolve(), base.resolve())

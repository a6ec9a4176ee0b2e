"""One way to make showers and write them: the :class:`ShowerProducer` protocol and :func:`produce_to_file`.

Every source of showers — a trained model (:class:`caloforge.sampling.ModelProducer`), an exported model
run by ONNX Runtime (:class:`caloforge.export.runtime.OnnxProducer`), the built-in simulator
(:class:`caloforge.simulate.GFlashProducer`) and Geant4 (:class:`caloforge.simulate.geant4.Geant4Producer`) —
is a producer: it checks the :class:`~caloforge.data.conditions.Conditions` it is given (:meth:`accept`),
then yields the showers batch by batch for a seed (:meth:`batches`). A producer's random stream, and so
its batching, is its own: a model keeps one noise generator across its batches, the ONNX producer seeds
each batch, the simulator draws from one numpy generator. :func:`produce_to_file` streams the batches
through :class:`~caloforge.data.ShowerWriter` (atomic output); :func:`caloforge.distributed.produce_sharded`
extends it with a Dask client. Producers are picklable: heavy state (a loaded model, an ONNX session,
a Geant4 run manager) is built on first use and never pickled (:class:`LazyState`).

Example:
    >>> import tempfile, pathlib
    >>> from caloforge.data import Conditions
    >>> from caloforge.simulate import GFlashProducer
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "sim.h5"
    >>> run = produce_to_file(GFlashProducer("calochallenge-2"), Conditions.from_spec("fixed:10", 4), out, seed=1)
    >>> run.n, run.label, out.exists()
    (4, 'caloforge GFlash', True)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from tqdm.auto import tqdm

from caloforge.atomic import prepare_target
from caloforge.data.conditions import Conditions
from caloforge.data.showers import ShowerData
from caloforge.data.writer import DEFAULT_COMPRESSION, ShowerWriter
from caloforge.geometry import Geometry

__all__ = ["LazyState", "ProductionRun", "ShowerProducer", "concat_showers", "produce", "produce_to_file", "resolve_seed"]

logger = logging.getLogger(__name__)


@runtime_checkable
class ShowerProducer(Protocol):
    """A source of showers for given conditions and a seed (picklable; see the module docstring)."""

    @property
    def geometry(self) -> Geometry:
        """Readout geometry of the showers."""
        ...

    @property
    def label(self) -> str:
        """Name stored as the file's ``generator`` attribute."""
        ...

    def attrs(self) -> dict[str, Any]:
        """Provenance stored as file attributes (besides ``generator`` and ``seed``)."""
        ...

    def accept(self, conditions: Conditions) -> Conditions:
        """The conditions as this producer will use them (angles dropped when it ignores them).

        Raises:
            ValueError: If the producer cannot produce for them (missing angles, another geometry, ...).
        """
        ...

    def batches(self, conditions: Conditions, seed: int) -> Iterator[ShowerData]:
        """Showers for accepted ``conditions``, in order, batch by batch; the same seed gives the same showers."""
        ...


class LazyState:
    """Base of producers whose heavy state (``_state``) is built on first use and dropped when pickled."""

    _state: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_state"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._state = None


def concat_showers(parts: list[ShowerData], geometry: Geometry) -> ShowerData:
    """One :class:`ShowerData` from consecutive batches (the first batch's attributes)."""
    if not parts:
        return ShowerData(np.zeros(0, np.float32), np.zeros((0, geometry.n_voxels), np.float32), geometry)
    angles = None if parts[0].angles is None else np.concatenate([p.angles for p in parts if p.angles is not None])
    return ShowerData(
        np.concatenate([p.energies for p in parts]), np.concatenate([p.showers for p in parts]),
        parts[0].geometry, angles, dict(parts[0].attrs),
    )


def produce(producer: ShowerProducer, conditions: Conditions, seed: int) -> ShowerData:
    """All showers of ``conditions`` in memory (the same showers :func:`produce_to_file` writes)."""
    accepted = producer.accept(conditions)
    data = concat_showers(list(producer.batches(accepted, seed)), producer.geometry)
    data.attrs = {"generator": producer.label, **data.attrs}
    return data


def resolve_seed(seed: int | None) -> int:
    """``seed``, or fresh entropy (logged, so the run can be repeated) when ``None``."""
    if seed is not None:
        return int(seed)
    fresh = int(np.random.SeedSequence().generate_state(1, np.uint32)[0])
    logger.info("no seed given; using seed %d (stored in the file)", fresh)
    return fresh


@dataclass(frozen=True)
class ProductionRun:
    """What a production run wrote (in one process or in shards).

    Attributes:
        path: The output file.
        n: Showers written.
        seconds: Wall time of producing and writing (and merging shards), s.
        label: The producer's label (the file's ``generator`` attribute).
        seed: The run seed.
        n_shards: Shards the run was cut into (1 without sharding).
        workers: Dask workers (0: in this process).
        virtual: Whether the output is a virtual dataset over kept shard files.
    """

    path: Path
    n: int
    seconds: float
    label: str
    seed: int
    n_shards: int = 1
    workers: int = 0
    virtual: bool = False

    @property
    def showers_per_second(self) -> float:
        """Throughput including writing."""
        return self.n / max(self.seconds, 1e-9)

    @property
    def ms_per_shower(self) -> float:
        """Wall time per shower including writing, ms."""
        return 1e3 * self.seconds / max(self.n, 1)


def file_attrs(producer: ShowerProducer, seed: int, attrs: dict[str, Any] | None) -> dict[str, Any]:
    """The file attributes of a run: ``generator``, ``seed``, the producer's provenance, then ``attrs``."""
    return {"generator": producer.label, "seed": int(seed), **producer.attrs(), **(attrs or {})}


def produce_to_file(
    producer: ShowerProducer,
    conditions: Conditions,
    path: str | Path,
    *,
    seed: int,
    overwrite: bool = False,
    progress: bool = False,
    attrs: dict[str, Any] | None = None,
    desc: str = "generate",
    compression: str | None = DEFAULT_COMPRESSION,
) -> ProductionRun:
    """Produces one shower per condition, streaming batches into a CaloChallenge file, atomically.

    Arguments:
        producer: The source of showers.
        conditions: What to produce (checked by ``producer.accept`` before the file is created).
        path: Output HDF5 file; it appears only once complete.
        seed: Run seed, passed to the producer and stored as the ``seed`` attribute.
        overwrite: Replace an existing file.
        progress: Show a progress bar.
        attrs: Extra file attributes (after the producer's own).
        desc: Label of the progress bar.
        compression: One of :data:`~caloforge.data.writer.COMPRESSIONS`.

    Returns:
        A :class:`ProductionRun`.

    Raises:
        FileExistsError: If ``path`` exists and ``overwrite`` is false (checked before producing).
        ValueError: If the producer refuses the conditions, or yields other energies than asked for.
        caloforge.atomic.OutputError: If ``path`` cannot be written or its disk has no room for the
            showers (checked before producing).
    """
    path = prepare_target(path, overwrite=overwrite)
    accepted = producer.accept(conditions)
    meta = file_attrs(producer, seed, attrs)
    start = time.perf_counter()
    with (
        ShowerWriter(
            path, producer.geometry, with_angles=accepted.angles is not None, overwrite=overwrite, attrs=meta,
            expected_events=len(accepted), compression=compression,
        ) as writer,
        tqdm(total=len(accepted), disable=not progress, desc=desc, unit="shower") as bar,
    ):
        for data in producer.batches(accepted, seed):
            writer.write(data)
            bar.update(len(data))
        if writer.n_written != len(accepted):
            msg = f"{producer.label}: produced {writer.n_written} showers for {len(accepted)} conditions"
            raise ValueError(msg)
    run = ProductionRun(path, len(accepted), time.perf_counter() - start, producer.label, int(seed))
    # debug: every command prints or logs its own result line once
    logger.debug("wrote %d showers to %s (%.3g ms/shower incl. writing)", run.n, path, run.ms_per_shower)
    return run

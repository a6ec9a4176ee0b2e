"""Geant4 full simulation of a Par04-like sampling calorimeter into CaloChallenge files (extra ``geant4``).

The detector is a stack of ``n_layers`` (absorber + active) slabs — by default 90 × (1.4 mm W +
0.3 mm Si), the Si-W calorimeter of the CaloChallenge datasets 2/3 and the Geant4 Par04 example —
with materials and thicknesses configurable (:class:`Geant4Config`). A particle gun shoots along z
(or at a polar angle drawn from a range) into the centre of the front face; deposits in the active
slabs are binned into any caloforge :class:`~caloforge.geometry.Geometry` by
:mod:`caloforge.simulate.readout`, scaled by the inverse sampling fraction and written as a
CaloChallenge file through :func:`caloforge.data.produce_to_file`: :class:`Geant4Producer` splits the
events into chunks simulated by a pool of worker processes (one Geant4 run manager each, seeded per
chunk), and yields the chunks in order.

Geant4 needs its physics data sets (at least ``G4ENSDFSTATE`` and ``G4EMLOW``; more for hadronic
physics lists). They are not shipped with caloforge and **never downloaded by it**: geant4-pybind
would offer to download them at import, and Geant4 aborts the whole process when one is missing, so
:func:`find_geant4_data` checks them first and raises :class:`Geant4DataError` naming what is
missing; the data-directory variables are set before geant4-pybind is imported.

Example:
    >>> from caloforge.data import Conditions, produce_to_file
    >>> producer = Geant4Producer("calochallenge-2")  # doctest: +SKIP
    >>> produce_to_file(producer, Conditions.from_spec("log-uniform:1:100", 1000), "g4.h5", seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from caloforge.data import Conditions, ShowerData
from caloforge.geometry import Geometry, get_geometry
from caloforge.simulate.geant4_app import simulate_chunk
from caloforge.simulate.geant4_config import DATASETS, Geant4Config, PhysicsList, layer_layout

__all__ = [
    "DATASETS",
    "Geant4Config",
    "Geant4DataError",
    "Geant4Producer",
    "find_geant4_data",
    "layer_layout",
    "require_geant4",
]

logger = logging.getLogger(__name__)


class Geant4DataError(FileNotFoundError):
    """Geant4's physics data sets are missing; the message lists them and how to provide them."""


def _candidates(data_dir: str | Path | None, environ: Mapping[str, str]) -> list[Path]:
    dirs = [Path(data_dir)] if data_dir is not None else []
    if environ.get("GEANT4_DATA_DIR"):
        dirs.append(Path(environ["GEANT4_DATA_DIR"]))
    dirs.append(Path.home() / ".geant4_pybind")
    return [d for d in dirs if d.is_dir()]


def find_geant4_data(
    physics: PhysicsList = "em-standard",
    data_dir: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Locates Geant4's data sets without downloading anything.

    Each data set is taken from its own variable (``G4LEDATA``, ...) when that points to a
    directory, else from the first of ``data_dir``, ``$GEANT4_DATA_DIR`` and
    ``~/.geant4_pybind`` holding a directory named after it (``G4EMLOW8.8``, ...).

    Arguments:
        physics: The physics choice, which decides the data sets needed.
        data_dir: A directory holding the data sets.
        environ: Environment to read (default ``os.environ``).

    Returns:
        Environment variable → data-set directory, for every data set needed.

    Raises:
        Geant4DataError: If any needed data set is missing (all missing ones are listed).
    """
    env = os.environ if environ is None else environ
    found: dict[str, str] = {}
    missing = []
    for var, prefix in DATASETS[physics].items():
        if env.get(var) and Path(env[var]).is_dir():
            found[var] = env[var]
            continue
        hits = [p for d in _candidates(data_dir, env) for p in sorted(d.glob(f"{prefix}*")) if p.is_dir()]
        if hits:
            found[var] = str(hits[-1])
        else:
            missing.append(f"{prefix} (${var})")
    if missing:
        searched = ", ".join(str(d) for d in _candidates(data_dir, env)) or "no existing directory"
        msg = (
            f"Geant4 physics data sets not found: {', '.join(missing)}; searched {searched}. "
            "caloforge never downloads them: install them (e.g. `geant4-config --install-datasets`, or "
            "unpack the archives from https://geant4.web.cern.ch/download/data) and pass --g4-data-dir DIR "
            "or set GEANT4_DATA_DIR (or the individual variables)."
        )
        raise Geant4DataError(msg)
    return found


def require_geant4() -> None:
    """Checks that geant4-pybind is installed, without importing it.

    Raises:
        ImportError: If it is missing (the message names the ``caloforge[geant4]`` extra).
    """
    if importlib.util.find_spec("geant4_pybind") is None:
        msg = "Geant4 simulation needs geant4-pybind: install the extra with `pip install caloforge[geant4]`"
        raise ImportError(msg)


class Geant4Producer:
    """Showers from Geant4 (a :class:`~caloforge.data.producer.ShowerProducer`), simulated in worker processes.

    The data sets and geant4-pybind are checked when the producer is built, before any file is
    created. Chunk ``k`` of a run with seed ``seed`` is simulated with the Geant4 seed ``seed + k``, so
    the showers depend on the seed and the chunk size, not on the number of workers. The producer holds
    no Geant4 state (the workers do), so it pickles as it is.

    Arguments:
        geometry: Readout geometry (name or object).
        config: Detector and physics (default: the Si-W CaloChallenge calorimeter).
        data_dir: Directory holding Geant4's data sets (see :func:`find_geant4_data`).
        workers: Worker processes (default: all cores).
        chunk_size: Events per task.

    Raises:
        Geant4DataError: If Geant4's data sets are missing (checked before Geant4 is imported).
        ImportError: If geant4-pybind is not installed (names the ``caloforge[geant4]`` extra).
        ValueError: A geometry deeper than the detector, or a chunk size below 1.
    """

    label = "Geant4 (caloforge geant4-pybind producer)"
    #: The function the worker processes run on each chunk's task (module level, so that it pickles).
    runner = staticmethod(simulate_chunk)

    def __init__(
        self,
        geometry: str | Geometry,
        config: Geant4Config | None = None,
        *,
        data_dir: str | Path | None = None,
        workers: int | None = None,
        chunk_size: int = 50,
    ) -> None:
        self.config = config or Geant4Config()
        self._geometry = get_geometry(geometry)
        self.config.check_readout(self._geometry)
        if chunk_size < 1:
            msg = f"chunk size must be at least 1, got {chunk_size}"
            raise ValueError(msg)
        self.datasets = find_geant4_data(self.config.physics, data_dir)
        require_geant4()
        self.workers = workers
        self.chunk_size = chunk_size

    @property
    def geometry(self) -> Geometry:
        """The readout geometry."""
        return self._geometry

    def attrs(self) -> dict[str, Any]:
        """The detector and physics settings (JSON)."""
        return {"simulator_config": json.dumps(asdict(self.config))}

    def accept(self, conditions: Conditions) -> Conditions:
        """The conditions as given (without angles the gun shoots along the axis and no angle column is written)."""
        return conditions

    def batches(self, conditions: Conditions, seed: int) -> Iterator[ShowerData]:
        """The chunks' showers in order, simulated by a pool of spawned processes."""
        geometry = self._geometry.to_dict()
        tasks = [
            (self.datasets, self.config, geometry, chunk.energies, chunk.angles, int(seed) + k)
            for k, chunk in enumerate(conditions.chunks(self.chunk_size))
        ]
        workers = self.workers or os.cpu_count() or 1
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            yield from pool.map(self.runner, tasks)

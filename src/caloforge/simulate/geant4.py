"""Geant4 full simulation of a Par04-like sampling calorimeter into CaloChallenge files (extra ``geant4``).

The detector is a stack of ``n_layers`` (absorber + active) slabs — by default 90 × (1.4 mm W +
0.3 mm Si), the Si-W calorimeter of the CaloChallenge datasets 2/3 and the Geant4 Par04 example —
with materials and thicknesses configurable (:class:`Geant4Config`). A particle gun shoots along z
(or at a polar angle drawn from a range) into the centre of the front face; deposits in the active
slabs are binned into any caloforge :class:`~caloforge.geometry.Geometry` by
:mod:`caloforge.simulate.readout`, scaled by the inverse sampling fraction and written as a
CaloChallenge file. Events are split into chunks simulated by a pool of worker processes (one Geant4
run manager each, seeded per chunk).

Geant4 needs its physics data sets (at least ``G4ENSDFSTATE`` and ``G4EMLOW``; more for hadronic
physics lists). They are not shipped with caloforge and **never downloaded by it**: geant4-pybind
would offer to download them at import, and Geant4 aborts the whole process when one is missing, so
:func:`find_geant4_data` checks them first and raises :class:`Geant4DataError` naming what is
missing; the data-directory variables are set before geant4-pybind is imported.

Example:
    >>> run = simulate_geant4_to_file("g4.h5", "calochallenge-2", 1000, "log-uniform:1:100")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from tqdm.auto import tqdm

from caloforge.data import EnergySpec, ShowerData, ShowerWriter, parse_energy_spec
from caloforge.geometry import Geometry, get_geometry
from caloforge.simulate.run import SimulationRun

__all__ = [
    "DATASETS",
    "Geant4Config",
    "Geant4DataError",
    "find_geant4_data",
    "layer_layout",
    "require_geant4",
    "simulate_geant4_to_file",
    "write_parallel",
]

logger = logging.getLogger(__name__)

PhysicsList = Literal["em-standard", "em-option4", "FTFP_BERT"]

#: Data sets (environment variable → directory-name prefix) needed by each physics choice.
DATASETS: dict[str, dict[str, str]] = {
    "em-standard": {"G4ENSDFSTATEDATA": "G4ENSDFSTATE", "G4LEDATA": "G4EMLOW"},
    "em-option4": {"G4ENSDFSTATEDATA": "G4ENSDFSTATE", "G4LEDATA": "G4EMLOW"},
    "FTFP_BERT": {
        "G4ENSDFSTATEDATA": "G4ENSDFSTATE",
        "G4LEDATA": "G4EMLOW",
        "G4PARTICLEXSDATA": "G4PARTICLEXS",
        "G4LEVELGAMMADATA": "PhotonEvaporation",
        "G4RADIOACTIVEDATA": "RadioactiveDecay",
        "G4SAIDXSDATA": "G4SAIDDATA",
        "G4INCLDATA": "G4INCL",
        "G4ABLADATA": "G4ABLA",
    },
}


class Geant4DataError(FileNotFoundError):
    """Geant4's physics data sets are missing; the message lists them and how to provide them."""


@dataclass(frozen=True)
class Geant4Config:
    """The simulated calorimeter and physics.

    Attributes:
        absorber: NIST name of the absorber material.
        active: NIST name of the active (scoring) material.
        absorber_mm: Absorber slab thickness, mm.
        active_mm: Active slab thickness, mm.
        n_layers: Number of physical (absorber + active) layers.
        pairs_per_readout: Physical layers summed into one readout layer (2 for the 3.4 mm
            CaloChallenge layers); the readout geometry sets how many readout layers are kept.
        radius_mm: Transverse half-size of the slabs, mm.
        particle: Geant4 particle name of the gun (``"e-"``, ``"gamma"``, ``"pi+"``, ...).
        physics: ``"em-standard"`` (G4EmStandardPhysics), ``"em-option4"`` or ``"FTFP_BERT"``.
        production_cut_mm: Production cut, mm.
        sampling_fraction: Deposits are divided by this (0.033 for the CaloChallenge Si-W files).
        threshold_mev: Voxels below this energy after scaling are zeroed, MeV.
    """

    absorber: str = "G4_W"
    active: str = "G4_Si"
    absorber_mm: float = 1.4
    active_mm: float = 0.3
    n_layers: int = 90
    pairs_per_readout: int = 2
    radius_mm: float = 300.0
    particle: str = "e-"
    physics: PhysicsList = "em-standard"
    production_cut_mm: float = 0.7
    sampling_fraction: float = 0.033
    threshold_mev: float = 0.01515

    def __post_init__(self) -> None:
        if min(self.absorber_mm, self.active_mm, self.radius_mm, self.sampling_fraction) <= 0:
            msg = "thicknesses, radius and sampling fraction must be positive"
            raise ValueError(msg)
        if self.n_layers < 1 or self.pairs_per_readout < 1:
            msg = f"n_layers and pairs_per_readout must be at least 1, got {self.n_layers}, {self.pairs_per_readout}"
            raise ValueError(msg)
        if self.physics not in DATASETS:
            msg = f"unknown physics {self.physics!r}; choices are {sorted(DATASETS)}"
            raise ValueError(msg)

    @property
    def pitch_mm(self) -> float:
        """Thickness of one physical layer, mm."""
        return self.absorber_mm + self.active_mm

    def check_readout(self, geometry: Geometry) -> None:
        """Raises ``ValueError`` when ``geometry`` has more readout layers than the stack provides."""
        available = self.n_layers // self.pairs_per_readout
        if geometry.n_layers > available:
            msg = (
                f"geometry {geometry.name!r} has {geometry.n_layers} layers but {self.n_layers} physical "
                f"layers / {self.pairs_per_readout} per readout give only {available}"
            )
            raise ValueError(msg)


def layer_layout(config: Geant4Config) -> dict[str, NDArray[np.float64]]:
    """Positions of the slabs along z, with the front face at z = 0.

    Returns:
        ``absorber_z`` and ``active_z``: slab centres, (n_layers,), mm; ``active_depth``: depth of
        each active slab's centre behind the front face, (n_layers,), mm.

    Example:
        >>> lay = layer_layout(Geant4Config(n_layers=2))
        >>> lay["absorber_z"].round(2).tolist(), lay["active_z"].round(2).tolist()
        ([0.7, 2.4], [1.55, 3.25])
    """
    front = np.arange(config.n_layers) * config.pitch_mm
    absorber = front + 0.5 * config.absorber_mm
    active = front + config.absorber_mm + 0.5 * config.active_mm
    return {"absorber_z": absorber, "active_z": active, "active_depth": active.copy()}


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


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    return [(i, min(i + size, n)) for i in range(0, n, size)]


def write_parallel(
    path: str | Path,
    geometry: Geometry,
    runner: Callable[[Any], ShowerData],
    tasks: Sequence[Any],
    *,
    with_angles: bool = False,
    attrs: dict[str, Any] | None = None,
    workers: int | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> SimulationRun:
    """Runs ``runner(task)`` for every task in a pool of spawned processes and writes the results in order.

    Arguments:
        path: Output HDF5 file (written atomically: nothing is left if a task fails).
        geometry: Geometry of the showers.
        runner: A picklable (module-level) function returning the :class:`ShowerData` of one task.
        tasks: Picklable task descriptions.
        with_angles: Whether the showers carry incidence angles.
        attrs: File attributes.
        workers: Processes (default: all cores).
        overwrite: Replace an existing file.
        progress: Show a progress bar.
    """
    start = time.perf_counter()
    n = 0
    context = get_context("spawn")
    with (
        ShowerWriter(path, geometry, with_angles=with_angles, overwrite=overwrite, attrs=attrs) as writer,
        ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1, mp_context=context) as pool,
        tqdm(total=len(tasks), disable=not progress, desc="geant4", unit="chunk") as bar,
    ):
        for data in pool.map(runner, tasks):
            writer.write(data)
            n += len(data)
            bar.update(1)
    return SimulationRun(Path(path), n, time.perf_counter() - start)


def simulate_geant4_to_file(
    path: str | Path,
    geometry: str | Geometry,
    n: int,
    energy_spec: str | EnergySpec = "log-uniform:1:100",
    *,
    angle_range_deg: tuple[float, float] | None = None,
    config: Geant4Config | None = None,
    data_dir: str | Path | None = None,
    seed: int = 0,
    workers: int | None = None,
    chunk_size: int = 50,
    overwrite: bool = False,
    progress: bool = False,
) -> SimulationRun:
    """Simulates ``n`` showers with Geant4 and writes them as a CaloChallenge file, atomically.

    Arguments:
        path: Output HDF5 file.
        geometry: Readout geometry (name or object).
        n: Number of showers.
        energy_spec: Incident-energy distribution in GeV.
        angle_range_deg: Uniform range of polar incidence angles, degrees (``None``: along the axis,
            and no angle column is written).
        config: Detector and physics (default: the Si-W CaloChallenge calorimeter).
        data_dir: Directory holding Geant4's data sets (see :func:`find_geant4_data`).
        seed: Master seed; chunk ``k`` uses ``seed + k``.
        workers: Worker processes (default: all cores).
        chunk_size: Events per task.
        overwrite: Replace an existing file.
        progress: Show a progress bar.

    Raises:
        Geant4DataError: If Geant4's data sets are missing (checked before Geant4 is imported).
        ImportError: If geant4-pybind is not installed (names the ``caloforge[geant4]`` extra).
        FileExistsError: If ``path`` exists and ``overwrite`` is false.
        ValueError: On a bad count, energy spec, or a geometry deeper than the detector.
    """
    from caloforge.simulate.geant4_app import simulate_chunk

    config = config or Geant4Config()
    geometry = get_geometry(geometry)
    config.check_readout(geometry)
    if n < 1:
        msg = f"number of showers must be at least 1, got {n}"
        raise ValueError(msg)
    if Path(path).exists() and not overwrite:
        msg = f"{path} already exists; pass overwrite=True (--force on the command line) to replace it"
        raise FileExistsError(msg)
    datasets = find_geant4_data(config.physics, data_dir)
    require_geant4()
    spec = parse_energy_spec(energy_spec) if isinstance(energy_spec, str) else energy_spec
    rng = np.random.default_rng(seed)
    energies = spec.sample(n, rng)
    angles = None if angle_range_deg is None else np.radians(rng.uniform(*angle_range_deg, n)).astype(np.float32)
    attrs = {"generator": "Geant4 (caloforge geant4-pybind producer)", "seed": int(seed),
             "simulator_config": json.dumps(asdict(config))}
    tasks = [
        (datasets, config, geometry.to_dict(), energies[a:b], None if angles is None else angles[a:b], seed + k)
        for k, (a, b) in enumerate(_chunks(n, chunk_size))
    ]
    run = write_parallel(
        path, geometry, simulate_chunk, tasks, with_angles=angles is not None, attrs=attrs,
        workers=workers, overwrite=overwrite, progress=progress,
    )
    logger.info("Geant4: wrote %d showers to %s (%.1f ms/shower)", n, path, 1e3 * run.seconds / n)
    return run

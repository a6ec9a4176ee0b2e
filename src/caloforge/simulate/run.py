"""Generate a CaloChallenge file with the built-in simulator, streaming batches to disk.

Example:
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "sim.h5"
    >>> run = simulate_to_file(out, "calochallenge-2", 20, "log-uniform:1:100", seed=1)
    >>> run.n_showers, out.exists()
    (20, True)
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from caloforge.data import EnergySpec, ShowerWriter, parse_energy_spec
from caloforge.geometry import Geometry, get_geometry
from caloforge.simulate.gflash import GFlashConfig, GFlashSimulator

__all__ = ["SimulationRun", "simulate_to_file"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimulationRun:
    """What :func:`simulate_to_file` wrote.

    Attributes:
        path: The output file.
        n_showers: Showers written.
        seconds: Wall time of simulation and writing, s.
    """

    path: Path
    n_showers: int
    seconds: float

    @property
    def showers_per_second(self) -> float:
        """Throughput including file writing."""
        return self.n_showers / max(self.seconds, 1e-9)


def _spec_text(spec: EnergySpec) -> str:
    sep = "," if spec.kind == "discrete" else ":"
    return f"{spec.kind}:{sep.join(f'{v:g}' for v in spec.values_gev)}"


def simulate_to_file(
    path: str | Path,
    geometry: str | Geometry,
    n: int,
    energy_spec: str | EnergySpec = "log-uniform:1:100",
    *,
    seed: int | None = None,
    batch_size: int | None = None,
    overwrite: bool = False,
    progress: bool = False,
    config: GFlashConfig | None = None,
) -> SimulationRun:
    """Simulates ``n`` showers and writes them as a CaloChallenge file, atomically.

    Arguments:
        path: Output HDF5 file.
        geometry: Geometry name or object (needs ``layer_thickness_mm``).
        n: Number of showers.
        energy_spec: Incident-energy distribution (GeV), e.g. ``"log-uniform:1:100"``.
        seed: Seed of the random generators (incident energies and showers come from two independent
            streams of it, the energies drawn batch by batch so that memory does not grow with ``n``); the
            same seed and arguments give the same file. Without one a fresh seed is drawn, logged and
            stored in the file's ``seed`` attribute.
        batch_size: Showers per batch (default: the simulator's).
        overwrite: Replace an existing file.
        progress: Show a progress bar.
        config: Simulator physics parameters (default: the calibrated ones).

    Raises:
        FileExistsError: If ``path`` exists and ``overwrite`` is false.
        ValueError: On a bad count, energy spec or geometry.
        caloforge.atomic.OutputError: If ``path`` cannot be written, or its disk has no room for ``n``
            showers (checked before simulating).
    """
    if n < 1:
        msg = f"number of showers must be at least 1, got {n}"
        raise ValueError(msg)
    spec = parse_energy_spec(energy_spec) if isinstance(energy_spec, str) else energy_spec
    config = config or GFlashConfig()
    simulator = GFlashSimulator(get_geometry(geometry), config, batch_size=batch_size)
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> 1)
        logger.info("no seed given; using seed %d (stored in the file)", seed)
    energy_seed, shower_seed = np.random.SeedSequence(seed).spawn(2)
    rng = np.random.default_rng(shower_seed)
    attrs = {
        "generator": "caloforge GFlash",
        "seed": int(seed),
        "energy_spec": _spec_text(spec),
        "simulator_config": json.dumps(dataclasses.asdict(config)),
    }
    start = time.perf_counter()
    step = simulator.batch_size
    with (
        ShowerWriter(path, simulator.geometry, overwrite=overwrite, attrs=attrs, expected_events=n) as writer,
        tqdm(total=n, disable=not progress, desc="simulate", unit="shower") as bar,
    ):
        for energies in spec.stream(n, np.random.default_rng(energy_seed), step):
            writer.write(simulator.simulate(energies, rng))
            bar.update(len(energies))
    run = SimulationRun(Path(path), n, time.perf_counter() - start)
    logger.info("wrote %d showers to %s (%.0f showers/s)", n, path, run.showers_per_second)
    return run

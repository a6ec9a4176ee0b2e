"""The built-in simulator as a producer: :class:`GFlashProducer` (showers batch by batch, seeded).

Files are written through :func:`caloforge.data.produce_to_file` (in this process) or
:func:`caloforge.distributed.produce_sharded` (in shards).

Example:
    >>> import numpy as np
    >>> from caloforge.data import Conditions, produce
    >>> producer = GFlashProducer("calochallenge-2")
    >>> a = produce(producer, Conditions(np.array([1e4, 2e4])), 5)
    >>> b = produce(producer, Conditions(np.array([1e4, 2e4])), 5)
    >>> a.showers.shape, bool((a.showers == b.showers).all())
    ((2, 6480), True)
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import numpy as np

from caloforge.data import Conditions, ShowerData
from caloforge.data.producer import LazyState
from caloforge.geometry import Geometry, get_geometry
from caloforge.simulate.gflash import GFlashConfig, GFlashSimulator

__all__ = ["GFlashProducer"]


class GFlashProducer(LazyState):
    """Showers from the built-in GFlash simulator (a :class:`~caloforge.data.producer.ShowerProducer`).

    The simulator draws everything from ``numpy.random.default_rng(seed)``, batch after batch; the
    showers depend on the seed and the batch size.

    Arguments:
        geometry: Geometry name or object (needs ``layer_thickness_mm``).
        config: Simulator physics parameters (default: the calibrated ones).
        batch_size: Showers per vectorised batch (default: the simulator's).

    Raises:
        ValueError: A geometry without layer depth.
    """

    label = "caloforge GFlash"

    def __init__(
        self, geometry: str | Geometry, config: GFlashConfig | None = None, *, batch_size: int | None = None
    ) -> None:
        self._geometry = get_geometry(geometry)
        self.config = config or GFlashConfig()
        self.batch_size = batch_size
        self._simulator()  # checks the geometry now

    def _simulator(self) -> GFlashSimulator:
        if self._state is None:
            self._state = GFlashSimulator(self._geometry, self.config, batch_size=self.batch_size)
        simulator: GFlashSimulator = self._state
        return simulator

    @property
    def geometry(self) -> Geometry:
        """The readout geometry."""
        return self._geometry

    def attrs(self) -> dict[str, Any]:
        """The simulator's physics parameters (JSON)."""
        return {"simulator_config": json.dumps(dataclasses.asdict(self.config))}

    def accept(self, conditions: Conditions) -> Conditions:
        """The conditions without angles (the simulator shoots along the axis)."""
        return conditions.without_angles()

    def batches(self, conditions: Conditions, seed: int) -> Iterator[ShowerData]:
        """Simulated batches of the simulator's batch size, from ``default_rng(seed)``."""
        simulator = self._simulator()
        rng = np.random.default_rng(seed)
        for chunk in conditions.chunks(simulator.batch_size):
            yield simulator.simulate(chunk.energies, rng)

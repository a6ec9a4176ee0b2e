"""The built-in simulator as a producer: :class:`GFlashProducer` (showers batch by batch, seeded).

Files are written through :func:`caloforge.data.produce_to_file` (in this process) or
:func:`caloforge.distributed.produce_sharded` (in shards). With a ``frame`` the producer simulates inclined
showers at the conditions' polar angles (:mod:`caloforge.simulate.inclined`) and the file stores them.

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
from caloforge.simulate.angle_spec import AngleSpec
from caloforge.simulate.gflash import GFlashConfig, GFlashSimulator
from caloforge.simulate.hadronic import HadronicConfig
from caloforge.simulate.inclined import FRAMES, Frame
from caloforge.simulate.particles import PARTICLES, ParticleSimulator

__all__ = ["GFlashProducer"]


class GFlashProducer(LazyState):
    """Showers from the built-in GFlash simulator (a :class:`~caloforge.data.producer.ShowerProducer`).

    The simulator draws everything from ``numpy.random.default_rng(seed)``, batch after batch; the
    showers depend on the seed and the batch size.

    Arguments:
        geometry: Geometry name or object (needs ``layer_thickness_mm``).
        config: Simulator physics parameters (default: the calibrated ones).
        batch_size: Showers per vectorised batch (default: the simulator's).
        frame: ``None``: the conditions' angles are ignored (head-on showers, no angles in the file);
            ``"detector"`` or ``"shower"``: inclined showers at the conditions' polar angles θ (rad, from
            the layer normal), read out in that frame; conditions without angles stay head-on.
        phi: Azimuth φ of the inclination (0 = towards +x): a value in rad or an :class:`AngleSpec`
            (degrees) drawn per shower from the seeded generator; φ is not stored per shower (the file
            keeps ``phi_spec``).
        particle: ``"electron"`` (default), ``"photon"`` or ``"pion"``. Electrons in a geometry without
            per-layer materials use :class:`GFlashSimulator` (the Si-W calibration); everything else uses
            :class:`~caloforge.simulate.particles.ParticleSimulator` with the layers' materials (head-on only).
        hadronic: Hadronic parameters of pions (default: the calibrated ones).

    Raises:
        ValueError: A geometry without layer depth, an unknown frame or particle, or a frame for a
            particle the inclined simulator does not handle.
    """

    label = "caloforge GFlash"

    def __init__(
        self,
        geometry: str | Geometry,
        config: GFlashConfig | None = None,
        *,
        batch_size: int | None = None,
        frame: Frame | None = None,
        phi: float | AngleSpec = 0.0,
        particle: str = "electron",
        hadronic: HadronicConfig | None = None,
    ) -> None:
        if particle not in PARTICLES:
            msg = f"unknown particle {particle!r}; choose one of {', '.join(PARTICLES)}"
            raise ValueError(msg)
        if frame is not None and frame not in FRAMES:
            msg = f"unknown frame {frame!r}; choose from {', '.join(FRAMES)}"
            raise ValueError(msg)
        self._geometry = get_geometry(geometry)
        self.config = config or GFlashConfig()
        self.batch_size = batch_size
        self.frame, self.phi = frame, phi
        self.particle, self.hadronic = particle, hadronic or HadronicConfig()
        self._simulator()  # checks the geometry now
        if frame is not None and isinstance(self._state, ParticleSimulator):
            msg = f"inclined showers (frame {frame!r}) are simulated for electrons in Si-W geometries only, not {particle}s"
            raise ValueError(msg)

    def _simulator(self) -> GFlashSimulator | ParticleSimulator:
        if self._state is None:
            layered = any(lay.material is not None or lay.depth_mm is not None for lay in self._geometry.layers)
            if self.particle == "electron" and not layered:
                self._state = GFlashSimulator(self._geometry, self.config, batch_size=self.batch_size)
            else:
                self._state = ParticleSimulator(
                    self._geometry, self.particle, em_config=self.config, hadronic=self.hadronic,
                    batch_size=self.batch_size,
                )
        simulator: GFlashSimulator | ParticleSimulator = self._state
        return simulator

    @property
    def geometry(self) -> Geometry:
        """The readout geometry."""
        return self._geometry

    def attrs(self) -> dict[str, Any]:
        """The simulator's physics parameters (JSON), and the readout frame and φ of inclined showers."""
        attrs: dict[str, Any] = {"particle": self.particle, "simulator_config": json.dumps(dataclasses.asdict(self.config))}
        if self.particle == "pion":
            attrs["hadronic_config"] = json.dumps(dataclasses.asdict(self.hadronic))
        if self.frame is not None:
            phi = self.phi.text if isinstance(self.phi, AngleSpec) else f"{np.degrees(self.phi):g}"
            attrs.update(frame=self.frame, phi_spec=phi)
        return attrs

    def accept(self, conditions: Conditions) -> Conditions:
        """The conditions as given with a ``frame``, else without angles (head-on showers)."""
        return conditions if self.frame is not None else conditions.without_angles()

    def batches(self, conditions: Conditions, seed: int) -> Iterator[ShowerData]:
        """Simulated batches of the simulator's batch size, from ``default_rng(seed)``."""
        simulator = self._simulator()
        rng = np.random.default_rng(seed)
        for chunk in conditions.chunks(simulator.batch_size):
            if self.frame is None or chunk.angles is None or isinstance(simulator, ParticleSimulator):
                yield simulator.simulate(chunk.energies, rng)
                continue
            phi = self.phi.sample(len(chunk), rng) if isinstance(self.phi, AngleSpec) else self.phi
            yield simulator.simulate(chunk.energies, rng, angles=chunk.angles, phi=phi, frame=self.frame)

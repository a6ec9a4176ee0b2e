"""Shard producers: picklable ``(energies_mev, seed) -> ShowerData`` callables for sharded generation.

A producer is sent to every Dask worker once; the expensive object it wraps (a simulator, a model
loaded from a checkpoint) is built lazily on first use and kept for the life of the worker process,
and is never pickled.

Example:
    >>> import numpy as np
    >>> producer = SimulatorProducer("calochallenge-2")
    >>> a = producer(np.array([1e4, 2e4], dtype=np.float32), 5)
    >>> b = producer(np.array([1e4, 2e4], dtype=np.float32), 5)
    >>> a.showers.shape, bool((a.showers == b.showers).all())
    ((2, 6480), True)
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from caloforge.data import ShowerData
from caloforge.geometry import Geometry, get_geometry
from caloforge.simulate import GFlashConfig, GFlashSimulator

__all__ = ["CheckpointProducer", "SimulatorProducer"]

logger = logging.getLogger(__name__)


class _Lazy:
    """Base for producers whose heavy state is built on first call and dropped when pickled."""

    _state: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_state"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._state = None


class SimulatorProducer(_Lazy):
    """Produces showers with the built-in GFlash simulator, seeded per shard.

    Arguments:
        geometry: Geometry name or object (needs ``layer_thickness_mm``).
        config: Simulator physics parameters (default: the calibrated ones).
        batch_size: Showers per vectorised batch (default: the simulator's). The random stream, and so
            the showers, depend on it; keep it fixed to reproduce a file.
    """

    def __init__(
        self, geometry: str | Geometry, config: GFlashConfig | None = None, *, batch_size: int | None = None
    ) -> None:
        self.geometry = get_geometry(geometry)
        self.config = config or GFlashConfig()
        self.batch_size = batch_size

    def __call__(self, energies: NDArray[np.float32], seed: int) -> ShowerData:
        """Simulates one shower per energy (MeV) with ``numpy.random.default_rng(seed)``."""
        if self._state is None:
            self._state = GFlashSimulator(self.geometry, self.config, batch_size=self.batch_size)
        data: ShowerData = self._state.simulate(energies, np.random.default_rng(seed))
        return data


class CheckpointProducer(_Lazy):
    """Produces showers by sampling a trained model checkpoint, seeded per shard.

    The model is loaded once per worker process (on CPU unless ``device`` says otherwise).

    Arguments:
        checkpoint: Path of a checkpoint written by the trainer (readable on every worker).
        batch_size: Showers per forward pass.
        device: Torch device on the worker: ``"cpu"``, ``"cuda"`` or ``"auto"`` (CUDA when the worker has it).
        threads: Torch intra-op threads per worker (``None``: leave torch's default).
        threshold: Generated voxels below this energy are set to 0, MeV.
        use_ema: Use the EMA weights of a training checkpoint.
    """

    def __init__(
        self,
        checkpoint: str | Path,
        *,
        batch_size: int = 1000,
        device: str = "cpu",
        threads: int | None = None,
        threshold: float = 0.0,
        use_ema: bool = True,
    ) -> None:
        self.checkpoint = str(checkpoint)
        self.batch_size = batch_size
        self.device = device
        self.threads = threads
        self.threshold = threshold
        self.use_ema = use_ema

    def _model(self) -> Any:
        if self._state is None:
            import torch

            from caloforge.models.serialization import load_model
            from caloforge.device import resolve_device

            if self.threads is not None:
                torch.set_num_threads(self.threads)
            device = resolve_device(self.device)
            self._state = (load_model(self.checkpoint, map_location=device, use_ema=self.use_ema).eval(), device)
            logger.info("loaded %s on %s", self.checkpoint, device)
        return self._state

    def __call__(self, energies: NDArray[np.float32], seed: int) -> ShowerData:
        """Samples one shower per energy (MeV) with a ``torch.Generator`` seeded with ``seed``."""
        import torch

        from caloforge.sampling import generate

        model, device = self._model()
        generator = torch.Generator(device=device).manual_seed(seed)
        data: ShowerData = generate(
            model, energies, batch_size=self.batch_size, generator=generator, device=device,
            threshold=self.threshold, progress=False,
        )
        return data

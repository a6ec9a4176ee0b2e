"""The trained-model producer: showers from a :class:`~caloforge.models.GenerativeModel`, batch by batch.

:class:`ModelProducer` implements :class:`~caloforge.data.producer.ShowerProducer`. Built from a
checkpoint it loads the model once per process, on first use, and is picklable without it (Dask sends
it to every worker); built from an in-memory model it serves this process only. Noise comes from one
:class:`torch.Generator` seeded with the run (or shard) seed and kept across the batches, so the showers
depend on the seed and the batch size. Voxels are clamped at 0 (or zeroed below a readout threshold),
and requested energies outside the training range warn (:class:`ExtrapolationWarning`).

Example:
    >>> import torch
    >>> from caloforge.data import Conditions, produce
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.models import build_model
    >>> g = Geometry.regular("toy", n_layers=2, n_alpha=1, r_edges=[0, 1, 2])
    >>> model = build_model("wgan", g, {"latent_dim": 4, "generator_hidden": [8]})
    >>> model.fit_preprocessing(torch.rand(8, 4) * 100, torch.full((8, 1), 1e4))
    >>> data = produce(ModelProducer(model=model, batch_size=2, device="cpu"), Conditions.from_spec("fixed:10", 5), 0)
    >>> data.showers.shape, bool((data.showers >= 0).all())
    ((5, 4), True)
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from numpy.typing import NDArray

from caloforge.data import Conditions, ShowerData
from caloforge.data.producer import LazyState
from caloforge.data.transforms import ConditionEncoder
from caloforge.device import resolve_device
from caloforge.geometry import Geometry

if TYPE_CHECKING:
    from caloforge.models.base import GenerativeModel

__all__ = ["ExtrapolationWarning", "ModelProducer", "check_energy_range"]

logger = logging.getLogger(__name__)


class ExtrapolationWarning(UserWarning):
    """Requested incident energies lie outside the range the model was trained on."""


def check_energy_range(
    model: GenerativeModel, energies_mev: NDArray[np.floating[Any]], *, rtol: float = 0.05, stacklevel: int = 2
) -> None:
    """Warns with :class:`ExtrapolationWarning` when energies leave the model's training range.

    The range comes from the model's fitted :class:`~caloforge.data.transforms.ConditionEncoder`
    (the extremes of the training energies), widened by ``rtol`` because a finite training sample
    never reaches the ends of its distribution; models without an encoder are not checked.

    Arguments:
        model: The model.
        energies_mev: The requested energies, MeV.
        rtol: Relative widening of the training range.
        stacklevel: Passed to :func:`warnings.warn`.
    """
    encoders = [m for m in model.modules() if isinstance(m, ConditionEncoder)]
    if not encoders or not model.is_fitted or len(energies_mev) == 0:
        return
    lo, hi = encoders[0].energy_range_mev
    outside = (energies_mev < lo * (1 - rtol)) | (energies_mev > hi * (1 + rtol))
    if np.any(outside):
        e_min, e_max = float(np.min(energies_mev)), float(np.max(energies_mev))
        msg = (
            f"{int(np.sum(outside))} of {len(energies_mev)} requested energies ({e_min / 1e3:.3g}–{e_max / 1e3:.3g} "
            f"GeV) lie outside the training range {lo / 1e3:.3g}–{hi / 1e3:.3g} GeV; the model extrapolates there"
        )
        warnings.warn(msg, ExtrapolationWarning, stacklevel=stacklevel + 1)


def _with_sampler(model: GenerativeModel, spec: str, where: str) -> GenerativeModel:
    """``model`` decoding with the solver and step count of ``spec`` ("SOLVER:STEPS").

    Raises:
        ValueError: A malformed ``spec``, an unknown solver, or a model that is not solved as an ODE.
    """
    from caloforge.models.diffusion import FlowMatching, with_sampler
    from caloforge.solvers import parse_sampler

    solver, steps = parse_sampler(spec)
    if not isinstance(model, FlowMatching):
        msg = f"{where} holds a {type(model).__name__}; --sampler applies to flow-matching models only"
        raise ValueError(msg)  # noqa: TRY004  (a bad argument for this file, reported like other bad inputs)
    out: GenerativeModel = with_sampler(model, solver, steps)
    return out


class ModelProducer(LazyState):
    """Showers sampled from a trained model (a :class:`~caloforge.data.producer.ShowerProducer`).

    Arguments:
        checkpoint: Training checkpoint or saved model, loaded on first use (readable on every worker).
        model: An in-memory model instead (then the producer cannot be sent to other processes).
        batch_size: Showers per forward pass.
        device: ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"`` or a device.
        threads: Torch intra-op threads set when the checkpoint is loaded (``None``: the free cores,
            :func:`caloforge.threads.apply_threads`).
        threshold: Voxels below this energy are set to 0, MeV.
        use_ema: Use the EMA weights of a training checkpoint.
        sampler: ``"SOLVER:STEPS"`` for a flow-matching model (default: the model's own).

    Raises:
        ValueError: Neither or both of ``checkpoint`` and ``model``, or a batch size below 1.
    """

    def __init__(
        self,
        checkpoint: str | Path | None = None,
        *,
        model: GenerativeModel | None = None,
        batch_size: int = 10_000,
        device: str | torch.device = "auto",
        threads: int | None = None,
        threshold: float = 0.0,
        use_ema: bool = True,
        sampler: str | None = None,
    ) -> None:
        if (checkpoint is None) == (model is None):
            msg = "give exactly one of a checkpoint or a model"
            raise ValueError(msg)
        if batch_size < 1:
            msg = f"batch size must be at least 1, got {batch_size}"
            raise ValueError(msg)
        self.checkpoint = None if checkpoint is None else str(checkpoint)
        self.batch_size = batch_size
        self.device = str(device)
        self.threads = threads
        self.threshold = threshold
        self.use_ema = use_ema
        self.sampler = sampler
        if model is not None:
            self._state = self._prepare(model)

    def _prepare(self, model: GenerativeModel) -> tuple[GenerativeModel, torch.device]:
        where = self.checkpoint or type(model).__name__
        if self.sampler is not None:
            model = _with_sampler(model, self.sampler, where)
        device = resolve_device(self.device)
        model.to(device).eval()
        return model, device

    def _loaded(self) -> tuple[GenerativeModel, torch.device]:
        if self._state is None:
            if self.checkpoint is None:
                msg = "this producer wrapped an in-memory model, which is not pickled; build it from a checkpoint"
                raise RuntimeError(msg)
            from caloforge.models.serialization import load_model
            from caloforge.threads import apply_threads

            apply_threads(self.threads, what="generation", level=logging.DEBUG)
            self._state = self._prepare(load_model(self.checkpoint, use_ema=self.use_ema))
            logger.debug("loaded %s on %s", self.checkpoint, self._state[1])
        state: tuple[GenerativeModel, torch.device] = self._state
        return state

    @property
    def model(self) -> GenerativeModel:
        """The model (loaded on first use)."""
        return self._loaded()[0]

    @property
    def geometry(self) -> Geometry:
        """The model's geometry."""
        return self.model.geometry

    @property
    def label(self) -> str:
        """The model's registry name if the class carries one, else its class name."""
        return self.model.name or type(self.model).__name__

    def attrs(self) -> dict[str, Any]:
        """The readout threshold (MeV)."""
        return {"threshold_mev": float(self.threshold)}

    def accept(self, conditions: Conditions) -> Conditions:
        """Checks the model (fitted, geometry of a reference file) and the conditions' angles.

        Raises:
            caloforge.models.CheckpointError: If the conditions come from a file of another geometry.
            ValueError: An unfitted model, or an angle-conditioned model without angles.
        """
        model = self.model
        where = self.checkpoint or type(model).__name__
        if not model.is_fitted:
            msg = "the model's preprocessing is not fitted; train it (or load a checkpoint) before generating"
            raise ValueError(msg)
        if conditions.geometry is not None and not model.geometry.same_binning(conditions.geometry):
            from caloforge.models.serialization import CheckpointError

            g = conditions.geometry
            msg = (
                f"{where}: the model was trained on geometry {model.geometry.name!r} "
                f"({model.geometry.n_voxels} voxels), not {g.name!r} ({g.n_voxels} voxels)"
            )
            raise CheckpointError(msg)
        if model.n_conditions == 1:
            conditions = conditions.without_angles()
        elif conditions.angles is None:
            msg = f"the model is conditioned on the incidence angle but {conditions.source} gives none; pass --angle DEG"
            raise ValueError(msg)
        check_energy_range(model, conditions.energies, stacklevel=3)
        return conditions

    def batches(self, conditions: Conditions, seed: int) -> Iterator[ShowerData]:
        """Showers of consecutive batches, noise from one generator seeded with ``seed``."""
        model, device = self._loaded()
        generator = torch.Generator(device=device)
        generator.manual_seed(int(seed))
        for chunk in conditions.chunks(self.batch_size):
            c = torch.as_tensor(chunk.as_array(), device=device)
            noise = model.sample_noise_given(c, generator=generator)  # a KDE latent is drawn given the conditions
            with torch.inference_mode():
                x = model.decode(c, noise).float()
                x = torch.nn.functional.threshold(x, self.threshold, 0.0) if self.threshold > 0 else x.clamp_min(0.0)
            yield ShowerData(chunk.energies, x.cpu().numpy(), model.geometry, chunk.angles)

"""Batched, device-aware generation of showers from any :class:`~caloforge.models.GenerativeModel`.

:func:`generate` returns a :class:`~caloforge.data.ShowerData` in memory; :func:`generate_to_file`
streams batches into a CaloChallenge HDF5 file through :class:`~caloforge.data.ShowerWriter`, so
a million showers never sit in memory at once. Both draw the noise from one seeded
:class:`torch.Generator`, clamp voxels at 0 and zero those below a readout threshold, and warn
(:class:`ExtrapolationWarning`) when the requested energies leave the model's training range.

Example:
    >>> import numpy as np, torch
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.models import build_model
    >>> g = Geometry.regular("toy", n_layers=2, n_alpha=1, r_edges=[0, 1, 2])
    >>> model = build_model("wgan", g, {"latent_dim": 4, "generator_hidden": [8]})
    >>> model.fit_preprocessing(torch.rand(8, 4) * 100, torch.full((8, 1), 1e4))
    >>> data = generate(model, np.full(5, 1e4, dtype=np.float32), batch_size=2, seed=0)
    >>> data.showers.shape, bool((data.showers >= 0).all())
    ((5, 4), True)
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from numpy.typing import NDArray
from tqdm.auto import tqdm

from caloforge.data import ShowerData, ShowerWriter
from caloforge.data.transforms import ConditionEncoder
from caloforge.device import resolve_device
from caloforge.sampling.conditions import SpecConditions

if TYPE_CHECKING:
    from caloforge.models.base import GenerativeModel

__all__ = ["ExtrapolationWarning", "check_energy_range", "generate", "generate_to_file"]

logger = logging.getLogger(__name__)


class ExtrapolationWarning(UserWarning):
    """Requested incident energies lie outside the range the model was trained on."""


def _as_conditions(model: GenerativeModel, conditions: Any, angles: Any) -> NDArray[np.float32]:
    """Raw conditions (N, C) as float32, checked against the model's number of conditions."""
    cond = np.asarray(conditions.cpu() if isinstance(conditions, torch.Tensor) else conditions, dtype=np.float32)
    if cond.ndim == 1:
        cond = cond[:, None]
    if angles is not None:
        cond = np.concatenate([cond[:, :1], np.asarray(angles, dtype=np.float32).reshape(-1, 1)], axis=1)
    if cond.ndim != 2 or cond.shape[1] != model.n_conditions:
        msg = (
            f"the model expects {model.n_conditions} condition column(s) (energy in MeV"
            f"{', angle in rad' if model.n_conditions > 1 else ''}), got an array of shape {cond.shape}"
        )
        raise ValueError(msg)
    if not np.all(np.isfinite(cond)) or np.any(cond[:, 0] <= 0):
        msg = "incident energies must be finite and positive (MeV)"
        raise ValueError(msg)
    return cond


def check_energy_range(
    model: GenerativeModel,
    energies_mev: NDArray[np.floating[Any]],
    *,
    rtol: float = 0.05,
    stacklevel: int = 2,
    bounds_only: bool = False,
) -> None:
    """Warns with :class:`ExtrapolationWarning` when energies leave the model's training range.

    The range comes from the model's fitted :class:`~caloforge.data.transforms.ConditionEncoder`
    (the extremes of the training energies), widened by ``rtol`` because a finite training sample
    never reaches the ends of its distribution; models without an encoder are not checked.

    Arguments:
        model: The model.
        energies_mev: The requested energies, MeV (with ``bounds_only``: the smallest and largest only).
        rtol: Relative widening of the training range.
        stacklevel: Passed to :func:`warnings.warn`.
        bounds_only: ``energies_mev`` are the bounds of an energy spec, not the energies themselves.
    """
    encoders = [m for m in model.modules() if isinstance(m, ConditionEncoder)]
    if not encoders or not model.is_fitted or len(energies_mev) == 0:
        return
    lo, hi = encoders[0].energy_range_mev
    e_min, e_max = float(np.min(energies_mev)), float(np.max(energies_mev))
    if e_min < lo * (1 - rtol) or e_max > hi * (1 + rtol):
        outside = int(np.sum((energies_mev < lo * (1 - rtol)) | (energies_mev > hi * (1 + rtol))))
        what = "the requested energies" if bounds_only else f"{outside} of {len(energies_mev)} requested energies"
        msg = (
            f"{what} ({e_min / 1e3:.3g}–{e_max / 1e3:.3g} GeV) lie "
            f"outside the training range {lo / 1e3:.3g}–{hi / 1e3:.3g} GeV; the model extrapolates there"
        )
        warnings.warn(msg, ExtrapolationWarning, stacklevel=stacklevel + 1)


def _label(model: GenerativeModel) -> str:
    """The model's registry name if the class carries one, else its class name."""
    return model.name or type(model).__name__


Conditions = NDArray[np.float32] | SpecConditions


def _chunks(cond: Conditions, size: int) -> Iterator[NDArray[np.float32]]:
    if isinstance(cond, SpecConditions):
        yield from cond.chunks(size)
    else:
        for start in range(0, len(cond), size):
            yield cond[start : start + size]


def _batches(
    model: GenerativeModel,
    cond: Conditions,
    *,
    batch_size: int,
    generator: torch.Generator,
    device: torch.device,
    threshold: float,
) -> Iterator[tuple[int, NDArray[np.float32], NDArray[np.float32]]]:
    """Yields (start index, conditions (b, C), showers (b, n_voxels) MeV) for consecutive batches."""
    start = 0
    for block in _chunks(cond, batch_size):
        c = torch.as_tensor(block, device=device)
        noise = model.sample_noise(len(c), generator=generator, device=device)
        with torch.inference_mode():
            x = model.decode(c, noise).float()
            x = torch.nn.functional.threshold(x, threshold, 0.0) if threshold > 0 else x.clamp_min(0.0)
        yield start, block, x.cpu().numpy()
        start += len(block)


def _setup(
    model: GenerativeModel,
    conditions: Any,
    angles: Any,
    seed: int | None,
    generator: torch.Generator | None,
    device: str | torch.device | None,
    batch_size: int,
) -> tuple[Conditions, torch.device, torch.Generator]:
    if batch_size < 1:
        msg = f"batch size must be at least 1, got {batch_size}"
        raise ValueError(msg)
    if not model.is_fitted:
        msg = "the model's preprocessing is not fitted; train it (or load a checkpoint) before generating"
        raise ValueError(msg)
    cond: Conditions
    if isinstance(conditions, SpecConditions) and angles is None:
        if conditions.n_conditions != model.n_conditions:
            msg = f"the model expects {model.n_conditions} condition column(s), the energy spec gives {conditions.n_conditions}"
            raise ValueError(msg)
        cond = conditions
        check_energy_range(model, np.asarray(cond.bounds_mev), stacklevel=4, bounds_only=True)
    else:
        cond = _as_conditions(model, conditions, angles)
        check_energy_range(model, cond[:, 0], stacklevel=4)
    dev = resolve_device(device)
    model.to(dev).eval()
    if generator is None:
        generator = torch.Generator(device=dev)
        generator.manual_seed(seed if seed is not None else int(torch.seed() % 2**63))
    return cond, dev, generator


def generate(
    model: GenerativeModel,
    conditions: NDArray[np.floating[Any]] | torch.Tensor | SpecConditions,
    *,
    angles: NDArray[np.floating[Any]] | None = None,
    batch_size: int = 10_000,
    seed: int | None = None,
    generator: torch.Generator | None = None,
    device: str | torch.device | None = "auto",
    threshold: float = 0.0,
    progress: bool = False,
) -> ShowerData:
    """Generates one shower per row of ``conditions``.

    Arguments:
        model: A trained (fitted) model; it is moved to ``device`` and put in eval mode.
        conditions: Incident energies (N,) in MeV, or raw conditions (N, C) (energy MeV [, angle rad]).
        angles: Optional polar angles (N,) in rad, for angle-conditioned models.
        batch_size: Showers per forward pass.
        seed: Seed of the noise generator (ignored when ``generator`` is given).
        generator: Noise generator on ``device``; same generator state → same showers.
        device: ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"`` or a device.
        threshold: Voxels below this energy (MeV) are set to 0.
        progress: Show a progress bar.

    Returns:
        Showers (N, n_voxels) in MeV ≥ 0, with the requested energies (and angles).

    Raises:
        ValueError: Wrong number of condition columns, non-positive energies, unfitted model.
    """
    source, dev, gen = _setup(model, conditions, angles, seed, generator, device, batch_size)
    out = np.empty((len(source), model.geometry.n_voxels), dtype=np.float32)
    cond = np.empty((len(source), model.n_conditions), dtype=np.float32)
    with tqdm(total=len(source), disable=not progress, desc="generate", unit="shower") as bar:
        for start, block, showers in _batches(
            model, source, batch_size=batch_size, generator=gen, device=dev, threshold=threshold
        ):
            out[start : start + len(showers)] = showers
            cond[start : start + len(block)] = block
            bar.update(len(showers))
    return ShowerData(
        cond[:, 0], out, model.geometry, cond[:, 1] if cond.shape[1] > 1 else None, {"generator": _label(model)}
    )


def generate_to_file(
    model: GenerativeModel,
    path: str | Path,
    conditions: NDArray[np.floating[Any]] | torch.Tensor | SpecConditions,
    *,
    angles: NDArray[np.floating[Any]] | None = None,
    batch_size: int = 10_000,
    seed: int | None = None,
    device: str | torch.device | None = "auto",
    threshold: float = 0.0,
    overwrite: bool = False,
    progress: bool = False,
    attrs: dict[str, Any] | None = None,
) -> float:
    """Generates showers batch by batch straight into a CaloChallenge file (atomically).

    Arguments:
        model: A trained model.
        path: Output HDF5 file.
        conditions: Energies (N,) MeV, conditions (N, C) (see :func:`generate`), or conditions drawn
            lazily from an energy spec (:class:`~caloforge.sampling.conditions.SpecConditions`).
        angles: Optional angles (N,), rad.
        batch_size: Showers per forward pass and per write.
        seed: Seed of the noise generator.
        device: ``"auto"``, ``"cpu"``, ``"cuda"`` or a device.
        threshold: Voxel threshold, MeV.
        overwrite: Replace an existing file.
        progress: Show a progress bar.
        attrs: Extra file attributes (the model name and seed are always stored).

    Returns:
        Generation time per shower in ms (excluding file set-up).

    Raises:
        FileExistsError: If ``path`` exists and ``overwrite`` is false (checked before generating).
        ValueError: See :func:`generate`.
        caloforge.atomic.OutputError: If ``path`` cannot be written, or its disk has no room for the
            showers (checked before generating).
    """
    path = Path(path)
    if path.exists() and not overwrite:
        msg = f"{path} already exists; pass overwrite=True (--force on the command line) to replace it"
        raise FileExistsError(msg)
    cond, dev, gen = _setup(model, conditions, angles, seed, None, device, batch_size)
    meta = {"generator": _label(model), "seed": -1 if seed is None else int(seed), "threshold_mev": float(threshold)}
    meta.update(attrs or {})
    with_angles = model.n_conditions > 1
    start_time = time.perf_counter()
    with (
        ShowerWriter(
            path, model.geometry, with_angles=with_angles, overwrite=overwrite, attrs=meta, expected_events=len(cond)
        ) as writer,
        tqdm(total=len(cond), disable=not progress, desc="generate", unit="shower") as bar,
    ):
        for _, c, showers in _batches(model, cond, batch_size=batch_size, generator=gen, device=dev, threshold=threshold):
            writer.write(ShowerData(c[:, 0], showers, model.geometry, c[:, 1] if with_angles else None))
            bar.update(len(showers))
    ms = 1e3 * (time.perf_counter() - start_time) / max(len(cond), 1)
    logger.info("wrote %d showers to %s (%.3g ms/shower incl. writing)", len(cond), path, ms)
    return ms

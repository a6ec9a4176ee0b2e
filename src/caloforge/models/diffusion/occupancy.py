"""Occupancy calibration: per-voxel cuts that make a flow populate each voxel as often as Geant4 does.

Geant4 voxels are empty or hold at least a minimum-ionising hit; a continuous flow smears the
two modes and populates far too many voxels with small deposits, which the per-layer sparsity of
the CaloChallenge high-level features exposes at once. The calibration generates showers for the
incident energies of the training showers, and for every incident-energy bin and voxel picks the
cut above which the generated voxel is populated as often as the training voxel is: the
``1 − p`` quantile of the generated energies, where ``p`` is the training occupancy. Cuts are
never below the readout threshold, and a voxel that is never populated in training is always
cut. It is fitted on training showers only and stored as buffers of the model, so a calibrated
model samples, saves and exports like any other.

Example:
    >>> import torch
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.models.diffusion import FlowMatching
    >>> g = Geometry.regular("toy", n_layers=2, n_alpha=1, r_edges=[0, 1, 2])
    >>> model = FlowMatching(g, FlowMatching.smoke_config())
    >>> showers, conditions = torch.rand(64, 4) * 50, torch.logspace(3, 5, 64)[:, None]
    >>> model.fit_preprocessing(showers, conditions)
    >>> calibrated = calibrate_occupancy(model, showers, conditions, n_bins=2)
    >>> calibrated.config.occupancy_bins, tuple(calibrated.voxel_cut.shape)
    (2, (2, 4))
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from caloforge.models.diffusion.flow_matching import FlowMatching

__all__ = ["calibrate_occupancy"]

#: Cut of voxels that are never populated in training, MeV (no shower reaches it).
_NEVER = 1e30


@torch.no_grad()
def calibrate_occupancy(
    model: FlowMatching,
    showers: Tensor,
    conditions: Tensor,
    *,
    n_bins: int = 5,
    repeats: int = 1,
    batch_size: int = 1000,
    seed: int = 0,
) -> FlowMatching:
    """A copy of ``model`` with per-energy-bin, per-voxel occupancy cuts fitted on training showers.

    Arguments:
        model: A trained flow-matching model (its solver and steps are the ones calibrated).
        showers: Training showers, (N, n_voxels), MeV.
        conditions: Their conditions, (N, C).
        n_bins: Incident-energy bins, equal in log E over the range of ``conditions``.
        repeats: Generated showers per training shower (more: finer quantiles).
        batch_size: Showers per forward pass.
        seed: Seed of the generation noise.

    Returns:
        The calibrated copy, in eval mode, on the device of ``model``.

    Raises:
        ValueError: ``n_bins`` < 1, or a bin without training showers.
    """
    if n_bins < 1:
        msg = f"n_bins must be at least 1, got {n_bins}"
        raise ValueError(msg)
    device = model._device()
    showers, conditions = showers.float().to(device), conditions.float().to(device)
    log_e = torch.log(conditions[:, 0].clamp_min(1e-30))
    lo, hi = float(log_e.min()), float(log_e.max())
    config = dataclasses.replace(model.config, occupancy_bins=n_bins)
    calibrated = type(model)(model.geometry, config, n_conditions=model.n_conditions).to(device)
    weights = {k: v for k, v in model.state_dict().items() if k not in ("occupancy_edges", "voxel_cut")}
    calibrated.load_state_dict(weights, strict=False)  # the cuts start at zero: nothing cut while sampling
    calibrated.occupancy_edges.copy_(torch.linspace(lo, hi, n_bins + 1, device=device)[1:-1])
    calibrated.eval()
    generator = torch.Generator(device=device).manual_seed(seed)
    repeated = conditions.repeat(repeats, 1)
    generated = torch.cat([
        calibrated.sample(repeated[i : i + batch_size], generator=generator)
        for i in range(0, len(repeated), batch_size)
    ])
    bins = calibrated.occupancy_bin(conditions)
    gen_bins = bins.repeat(repeats)
    threshold = max(model.config.voxel_threshold_mev, 0.0)
    for b in range(n_bins):
        train_b, gen_b = showers[bins == b], generated[gen_bins == b]
        if len(train_b) == 0:
            msg = f"energy bin {b} of {n_bins} holds no training showers; use fewer bins"
            raise ValueError(msg)
        occupancy = (train_b > 0).double().mean(dim=0)
        q = _column_quantiles(gen_b.double(), 1.0 - occupancy)
        cut = torch.where(occupancy > 0, q.clamp_min(threshold), torch.full_like(q, _NEVER))
        calibrated.voxel_cut[b] = cut.to(calibrated.voxel_cut.dtype)
    return calibrated


def _column_quantiles(x: Tensor, q: Tensor) -> Tensor:
    """The ``q[v]`` quantile of column ``v`` of ``x`` (N, V), linear interpolation, (V,)."""
    ordered, _ = torch.sort(x, dim=0)
    position = q.clamp(0.0, 1.0) * (len(x) - 1)
    below = position.floor().long()
    above = torch.clamp(below + 1, max=len(x) - 1)
    weight = position - below
    columns = torch.arange(x.shape[1], device=x.device)
    low, high = ordered[below, columns], ordered[above, columns]
    return low + (high - low) * weight

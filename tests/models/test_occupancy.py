"""Occupancy calibration of flow matching: generated voxels are populated as often as in training."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from caloforge.geometry import Geometry
from caloforge.models import load_model, save_model
from caloforge.models.diffusion import FlowMatching, FlowMatchingConfig, calibrate_occupancy
from tests.conftest import make_showers


def _model(geometry: Geometry, threshold: float = 0.01) -> tuple[FlowMatching, torch.Tensor, torch.Tensor]:
    data = make_showers(geometry, 400, seed=3)
    showers, conditions = torch.as_tensor(data.showers), torch.as_tensor(data.conditions())
    showers[:, ::7] = 0.0  # voxels never populated in training
    torch.manual_seed(0)
    config = FlowMatchingConfig(**{**FlowMatching.smoke_config().__dict__, "voxel_threshold_mev": threshold})
    model = FlowMatching(geometry, config)
    model.fit_preprocessing(showers, conditions)
    return model.eval(), showers, conditions


def test_calibrated_occupancy_matches_training_per_energy_bin(tiny_geometry: Geometry) -> None:
    model, showers, conditions = _model(tiny_geometry)
    raw = model.sample(conditions, generator=torch.Generator().manual_seed(1))
    calibrated = calibrate_occupancy(model, showers, conditions, n_bins=2, repeats=2, seed=2)
    out = calibrated.sample(conditions, generator=torch.Generator().manual_seed(1))
    half = conditions[:, 0] >= torch.exp(calibrated.occupancy_edges[0])
    for sel in (half, ~half):
        want = (showers[sel] > 0).float().mean(dim=0)
        got = (out[sel] > 0).float().mean(dim=0)
        assert torch.all(got <= (raw[sel] > 0).float().mean(dim=0) + 1e-6)  # cuts only remove
        assert float((got - want).abs().mean()) < float(((raw[sel] > 0).float().mean(dim=0) - want).abs().mean())
    assert torch.all(out[:, ::7] == 0)  # never populated in training: always cut
    assert torch.all(calibrated.voxel_cut >= 0.01)
    layers = calibrated.layer_fractions.layer_energies
    kept = layers(out) > 0
    assert torch.allclose(layers(out)[kept], layers(raw)[kept], rtol=1e-3, atol=0.1)  # layers keep their energies


def test_calibrated_model_saves_loads_and_recalibrates(tiny_geometry: Geometry, tmp_path: Path) -> None:
    model, showers, conditions = _model(tiny_geometry)
    calibrated = calibrate_occupancy(model, showers, conditions, n_bins=3)
    save_model(calibrated, tmp_path / "cal.pt")
    loaded = load_model(tmp_path / "cal.pt")
    assert isinstance(loaded, FlowMatching)
    assert torch.equal(loaded.voxel_cut, calibrated.voxel_cut)
    again = calibrate_occupancy(loaded, showers, conditions, n_bins=1)
    assert again.voxel_cut.shape == (1, tiny_geometry.n_voxels)
    with pytest.raises(ValueError, match="n_bins"):
        calibrate_occupancy(model, showers, conditions, n_bins=0)
    with pytest.raises(ValueError, match="occupancy_bins"):
        FlowMatchingConfig(occupancy_bins=-1)


def test_cuts_apply_without_a_readout_threshold(tiny_geometry: Geometry) -> None:
    model, showers, conditions = _model(tiny_geometry, threshold=0.0)
    calibrated = calibrate_occupancy(model, showers, conditions, n_bins=2)
    out = calibrated.sample(conditions, generator=torch.Generator().manual_seed(1))
    assert torch.all(out[:, ::7] == 0)  # never populated in training: cut although no threshold is set
    assert float((out > 0).float().mean()) < float((model.sample(conditions) > 0).float().mean())

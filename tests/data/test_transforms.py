from __future__ import annotations

import pytest
import torch

from caloforge.data.transforms import (
    Compose,
    ConditionEncoder,
    EnergyScale,
    LayerFractions,
    Log,
    Logit,
    Standardize,
    Transform,
)
from caloforge.geometry import Geometry

from ..conftest import make_showers


def _data(geometry: Geometry) -> tuple[torch.Tensor, torch.Tensor]:
    d = make_showers(geometry, 32)
    return torch.as_tensor(d.showers), torch.as_tensor(d.conditions())


@pytest.mark.parametrize(
    "build",
    [
        lambda g: EnergyScale(0.5),
        lambda g: Log(1e-6),
        lambda g: Compose(EnergyScale(), Logit(1e-6, x_max=1.0)),
        lambda g: Compose(EnergyScale(), Log(1e-8), Standardize(g.n_voxels)),
        lambda g: LayerFractions(g),
    ],
)
def test_inverse_of_forward_is_identity(tiny_geometry: Geometry, build) -> None:  # type: ignore[no-untyped-def]
    x, c = _data(tiny_geometry)
    t: Transform = build(tiny_geometry)
    t.fit(x, c)
    y = t(x, c)
    assert torch.isfinite(y).all()
    back = t.inverse(y, c)
    torch.testing.assert_close(back, x, rtol=1e-4, atol=1e-3)


def test_standardize_fits_and_saves(tiny_geometry: Geometry) -> None:
    x, c = _data(tiny_geometry)
    t = Standardize(tiny_geometry.n_voxels)
    t.fit(x, c)
    y = t(x, c)
    assert torch.allclose(y.mean(0), torch.zeros(tiny_geometry.n_voxels), atol=1e-4)
    fresh = Standardize(tiny_geometry.n_voxels)
    fresh.load_state_dict(t.state_dict())
    torch.testing.assert_close(fresh(x, c), y)


def test_layer_fractions_split(tiny_geometry: Geometry) -> None:
    x, c = _data(tiny_geometry)
    t = LayerFractions(tiny_geometry)
    layers, fractions = t.split(t(x, c))
    torch.testing.assert_close(layers * c[:, :1], t.layer_energies(x))
    sums = torch.zeros_like(layers).index_add(1, t.voxel_layer, fractions)
    nonempty = layers > 0
    torch.testing.assert_close(sums[nonempty], torch.ones_like(sums[nonempty]))


def test_log_inverse_never_negative() -> None:
    t = Log(1e-3)
    out = t.inverse(torch.full((2, 3), -50.0), torch.ones(2, 1))
    assert (out >= 0).all()


def test_condition_encoder_range() -> None:
    c = torch.tensor([[1e3, 0.1], [1e5, 0.5], [1e4, 0.3]])
    enc = ConditionEncoder(2)
    enc.fit(c)
    z = enc(c)
    assert torch.allclose(z.min(0).values, torch.zeros(2))
    assert torch.allclose(z.max(0).values, torch.ones(2))
    lo, hi = enc.energy_range_mev
    assert lo == pytest.approx(1e3, rel=1e-5)
    assert hi == pytest.approx(1e5, rel=1e-5)

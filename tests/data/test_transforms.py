from __future__ import annotations

import pytest
import torch

from caloforge.data.layer_transforms import ResponseShares, StickBreaking
from caloforge.data.transforms import (
    Compose,
    ConditionEncoder,
    EnergyScale,
    LayerFractions,
    LayerSum,
    Log,
    Log1pScaled,
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
        lambda g: Compose(Log1pScaled(1.0), Standardize(g.n_voxels, shared=True)),
        lambda g: Compose(EnergyScale(), Logit(1e-6, x_max=1.0)),
        lambda g: Compose(EnergyScale(), Log(1e-8), Standardize(g.n_voxels)),
        LayerFractions,
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
    index = torch.as_tensor(tiny_geometry.voxel_layer, dtype=torch.long)
    sums = torch.zeros_like(layers).index_add(1, index, fractions)
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


def test_layer_sum_matches_a_scatter_add(tiny_geometry: Geometry) -> None:
    x, _ = _data(tiny_geometry)
    s = LayerSum(tiny_geometry)
    index = torch.as_tensor(tiny_geometry.voxel_layer, dtype=torch.long)
    expected = torch.zeros(x.shape[0], tiny_geometry.n_layers, dtype=x.dtype).index_add(1, index, x)
    torch.testing.assert_close(s(x), expected)
    torch.testing.assert_close(s.spread(expected), expected[:, index])
    assert not any("membership" in k or "voxel_layer" in k for k in s.state_dict())


def test_layer_fractions_normalise_makes_layers_sum_to_one(tiny_geometry: Geometry) -> None:
    x, _ = _data(tiny_geometry)
    t = LayerFractions(tiny_geometry)
    sums = t.layer_energies(t.normalise(x * 3.0))
    nonempty = t.layer_energies(x) > 0
    torch.testing.assert_close(sums[nonempty], torch.ones_like(sums[nonempty]))
    assert (sums[~nonempty] == 0).all()


def test_stick_breaking_round_trip_and_empty_tails(tiny_geometry: Geometry) -> None:
    x, c = _data(tiny_geometry)
    layers = LayerFractions(tiny_geometry).layer_energies(x) / c[:, :1]
    layers[:4, -2:] = 0.0  # showers that stop before the last layers
    layers[4] = 0.0  # an empty shower
    t = StickBreaking(eps=1e-9, alpha=1e-7)
    y = t(layers, c)
    assert y.shape == layers.shape
    assert torch.isfinite(y).all()
    torch.testing.assert_close(t.inverse(y, c), layers, rtol=1e-4, atol=1e-7)


def test_stick_breaking_inverse_conserves_the_response() -> None:
    y = torch.randn(50, 6) * 5
    t = StickBreaking()
    layers = t.inverse(y, torch.ones(50, 1))
    assert (layers >= 0).all()
    torch.testing.assert_close(layers.sum(dim=1), torch.clamp(torch.exp(y[:, 0]) - 1e-6, min=0.0))


def test_response_shares_round_trip_and_bounded_inverse(tiny_geometry: Geometry) -> None:
    x, c = _data(tiny_geometry)
    layers = LayerFractions(tiny_geometry).layer_energies(x) / c[:, :1]
    layers[3] = 0.0
    t = ResponseShares(eps=1e-9)
    y = t(layers, c)
    assert y.shape == (layers.shape[0], layers.shape[1] + 1)
    torch.testing.assert_close(t.inverse(y, c), layers, rtol=1e-4, atol=1e-7)
    wild = y.clone()
    wild[:, 1:] += torch.randn_like(wild[:, 1:]) * 3
    torch.testing.assert_close(t.inverse(wild, c).sum(dim=1), t.inverse(y, c).sum(dim=1), rtol=1e-4, atol=1e-7)


def test_shared_standardize_keeps_sparse_features_on_one_scale() -> None:
    x = torch.full((1000, 3), -16.0)
    x[:, 0] = torch.randn(1000) - 3.0  # a dense feature
    x[::100, 2] = -2.0  # a feature that is "empty" in 99 % of the rows
    per_feature, shared = Standardize(3), Standardize(3, shared=True)
    per_feature.fit(x, x[:, :1])
    shared.fit(x, x[:, :1])
    assert float(per_feature(x, x[:, :1])[:, 2].max()) > 9.0
    y = shared(x, x[:, :1])
    assert float(y.abs().max()) < 5.0
    assert abs(float(y.mean())) < 1e-5
    assert abs(float(y.std()) - 1.0) < 1e-3
    torch.testing.assert_close(shared.inverse(y, x[:, :1]), x)


def test_log1p_scaled_is_linear_below_its_scale_and_never_negative() -> None:
    t = Log1pScaled(2.0)
    c = torch.ones(1, 1)
    small = torch.tensor([[0.0, 0.01, 0.02]])
    assert torch.allclose(t(small, c), small / 2.0, atol=1e-4)
    assert float(t.inverse(torch.tensor([[-1.0]]), c)) == 0.0

"""The conditional latent KDE: exact conditional sampling, bandwidths, subsets and checkpoints."""

from __future__ import annotations

import io

import pytest
import torch

from caloforge.nn.kde import LatentKDE


def _linear_rows(n: int = 2000) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    c = torch.rand(n, 1, generator=g)
    z = torch.cat([4.0 * c, -2.0 * c], dim=1) + 0.05 * torch.randn(n, 2, generator=g)
    return z, c


def test_conditional_draws_follow_the_context() -> None:
    z, c = _linear_rows()
    kde = LatentKDE(2, 1)
    kde.fit(z, c)
    g = torch.Generator().manual_seed(0)
    for value in (0.2, 0.8):
        draws = kde.sample(torch.full((2000, 1), value), generator=g)
        assert draws[:, 0].mean().item() == pytest.approx(4.0 * value, abs=0.08)
        assert draws[:, 1].mean().item() == pytest.approx(-2.0 * value, abs=0.05)


def test_unconditional_draws_match_the_rows_moments() -> None:
    g = torch.Generator().manual_seed(2)
    z = torch.randn(5000, 3, generator=g) * torch.tensor([1.0, 2.0, 0.5]) + torch.tensor([1.0, 0.0, -1.0])
    kde = LatentKDE(3)
    kde.fit(z)
    draws = kde.sample(n=20000, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(draws.mean(0), z.mean(0), atol=0.06)
    # the kernel widens each dimension by its bandwidth: var = var_data + h²
    expected = (z.var(0) + kde.bandwidth**2).sqrt()
    assert torch.allclose(draws.std(0), expected, rtol=0.03)


def test_scott_bandwidth_and_scale() -> None:
    z, c = _linear_rows(1000)
    kde, narrow = LatentKDE(2, 1), LatentKDE(2, 1, bandwidth_scale=0.5)
    kde.fit(z, c)
    narrow.fit(z, c)
    sigma = torch.cat([z, c], 1).std(0)
    assert torch.allclose(kde.bandwidth, sigma * 1000 ** (-1 / 7), rtol=1e-5)
    assert torch.allclose(narrow.bandwidth, 0.5 * kde.bandwidth, rtol=1e-5)


def test_subset_is_seeded_and_leaves_global_rng_alone() -> None:
    z, c = _linear_rows(3000)
    a, b = LatentKDE(2, 1, max_points=500), LatentKDE(2, 1, max_points=500)
    state = torch.get_rng_state()
    a.fit(z, c, seed=7)
    b.fit(z, c, seed=7)
    assert torch.equal(torch.get_rng_state(), state)
    assert a.points.shape == (500, 3)
    assert torch.equal(a.points, b.points)


def test_state_dict_round_trip_resizes_the_rows() -> None:
    z, c = _linear_rows(300)
    kde = LatentKDE(2, 1)
    kde.fit(z, c)
    buffer = io.BytesIO()
    torch.save(kde.state_dict(), buffer)
    buffer.seek(0)
    fresh = LatentKDE(2, 1)
    assert not fresh.is_fitted
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    assert fresh.is_fitted
    ctx = torch.full((10, 1), 0.3)
    assert torch.equal(
        kde.sample(ctx, generator=torch.Generator().manual_seed(5)),
        fresh.sample(ctx, generator=torch.Generator().manual_seed(5)),
    )
    unfitted = LatentKDE(2, 1)
    unfitted.load_state_dict(LatentKDE(2, 1).state_dict())
    assert not unfitted.is_fitted


def test_bad_input_is_refused() -> None:
    kde = LatentKDE(2, 1)
    with pytest.raises(RuntimeError, match="not fitted"):
        kde.sample(torch.zeros(3, 1))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        kde.fit(torch.zeros(10, 3), torch.zeros(10, 1))
    with pytest.raises(ValueError, match="context"):
        kde.fit(torch.zeros(10, 2))
    with pytest.raises(ValueError, match="finite"):
        kde.fit(torch.full((10, 2), float("nan")), torch.zeros(10, 1))
    kde.fit(torch.randn(10, 2), torch.randn(10, 1))
    with pytest.raises(ValueError, match=r"\(B, 1\)"):
        kde.sample(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="latent_dim"):
        LatentKDE(0)

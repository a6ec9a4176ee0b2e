"""Latent diagnostics on known latents: N(0,1) passes, a shifted Gaussian has its KL, a bimodal one is rejected."""

from __future__ import annotations

import json

import numpy as np
import pytest

from caloforge.evaluation.latent import (
    anderson_darling_normal,
    gaussian_kl_per_dim,
    kolmogorov_smirnov_normal,
    latent_diagnostics,
)

pytest.importorskip("scipy")


def test_standard_normal_latent_passes_and_is_uncorrelated() -> None:
    rng = np.random.default_rng(0)
    z = rng.standard_normal((4000, 4))
    d = latent_diagnostics(z, np.zeros_like(z), np.zeros_like(z))
    assert all(x.normal for x in d.dimensions)
    assert all(x.ks_pvalue > 0.05 and x.ad_pvalue > 0.05 for x in d.dimensions)
    np.testing.assert_allclose(d.correlation, np.eye(4), atol=0.06)
    assert d.n_active == 0
    assert d.kl_total == pytest.approx(0.0)
    assert d.max_abs_correlation < 0.06


def test_kl_of_a_shifted_narrow_gaussian_posterior() -> None:
    # q = N(mu, s²) with mu = 0.8, s = 0.5 in dim 0: KL = ½(mu² + s² − 1 − log s²)
    n = 3000
    mean = np.zeros((n, 2))
    mean[:, 0] = 0.8
    log_var = np.zeros((n, 2))
    log_var[:, 0] = np.log(0.25)
    expected = 0.5 * (0.64 + 0.25 - 1 - np.log(0.25))
    np.testing.assert_allclose(gaussian_kl_per_dim(mean, log_var), [expected, 0.0], atol=1e-12)
    z = mean + np.exp(0.5 * log_var) * np.random.default_rng(1).standard_normal((n, 2))
    d = latent_diagnostics(z, mean, log_var)
    assert d.dimensions[0].kl == pytest.approx(expected)
    assert [x.active for x in d.dimensions] == [True, False]
    assert not d.dimensions[0].normal  # N(0.8, 0.25) is not N(0, 1)
    assert d.dimensions[1].normal


def test_a_bimodal_latent_is_rejected_even_with_unit_variance() -> None:
    rng = np.random.default_rng(2)
    z = np.concatenate([rng.normal(-0.9, 0.44, 1000), rng.normal(0.9, 0.44, 1000)])[:, None]
    assert z.std() == pytest.approx(1.0, abs=0.05)
    d = latent_diagnostics(z)
    assert not d.dimensions[0].normal
    assert d.dimensions[0].ad_pvalue < 1e-3
    assert d.dimensions[0].ks_pvalue < 1e-3
    assert np.isnan(d.dimensions[0].kl)
    assert not d.dimensions[0].active


def test_anderson_darling_matches_its_tabulated_critical_values() -> None:
    from caloforge.evaluation.latent import _ad_infinity_cdf

    for a2, level in ((1.933, 0.10), (2.492, 0.05), (3.857, 0.01)):
        assert 1 - _ad_infinity_cdf(a2) == pytest.approx(level, abs=5e-4)
    x = np.random.default_rng(3).standard_normal(500)
    a2, p = anderson_darling_normal(x)
    assert 0 < a2 < 2.5
    assert p > 0.05
    a2_shift, p_shift = anderson_darling_normal(x + 0.5)
    assert a2_shift > 10
    assert p_shift < 1e-4
    assert kolmogorov_smirnov_normal(x)[1] > 0.05


def test_monte_carlo_kl_and_json() -> None:
    z = np.random.default_rng(4).standard_normal((500, 2))
    log_p = -0.5 * np.sum(z**2 + np.log(2 * np.pi), axis=1)
    d = latent_diagnostics(z, log_q=log_p + 0.3)
    assert d.kl_monte_carlo == pytest.approx(0.3)
    data = json.loads(json.dumps(d.to_dict()))
    assert data["dimensions"][0]["kl"] is None  # NaN → null
    assert data["latent_dim"] == 2
    assert "0.01 nats" in data["active_rule"]


def test_bad_latents_are_refused() -> None:
    with pytest.raises(ValueError, match=r"\(N, d\)"):
        latent_diagnostics(np.zeros(10))
    with pytest.raises(ValueError, match="NaN"):
        latent_diagnostics(np.array([[0.0], [np.nan]]))
    with pytest.raises(ValueError, match="both be"):
        gaussian_kl_per_dim(np.zeros((3, 2)), np.zeros((3, 1)))


def test_figures_and_page() -> None:
    pytest.importorskip("matplotlib")
    from caloforge.evaluation.plots.latent import correlation_figure, kl_figure, latent_histograms_figure, latent_html

    z = np.random.default_rng(5).standard_normal((300, 7))
    d = latent_diagnostics(z, np.zeros_like(z), np.zeros_like(z))
    figs = {"latent-histograms": latent_histograms_figure(z, d), "latent-kl": kl_figure(d),
            "latent-correlation": correlation_figure(d)}
    assert sum(ax.get_visible() for ax in figs["latent-histograms"].axes) == 7
    page = latent_html(d, title="toy <model>", figures=figs)
    assert page.count("<img") == 3
    assert "toy &lt;model&gt;" in page
    assert page.count("<tr>") == 8

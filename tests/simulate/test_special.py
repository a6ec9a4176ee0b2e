"""The NumPy special functions of the simulator agree with SciPy's to double precision."""

from __future__ import annotations

import numpy as np
import pytest

from caloforge.simulate.special import ar1_filter, gammainc

scipy_special = pytest.importorskip("scipy.special")
scipy_signal = pytest.importorskip("scipy.signal")


def test_gammainc_matches_scipy_over_the_simulator_range():
    rng = np.random.default_rng(0)
    a = np.exp(rng.uniform(np.log(0.05), np.log(60.0), 500))[:, None]
    x = np.concatenate([[0.0, 1e-300], np.exp(rng.uniform(-8, np.log(500.0), 80))])[None, :]
    ours = gammainc(a, x)
    assert ours.shape == (500, 82)
    np.testing.assert_allclose(ours, scipy_special.gammainc(a, x), rtol=1e-12, atol=1e-14)
    assert np.all(ours[:, 0] == 0.0)


def test_gammainc_is_a_cdf_in_x():
    p = gammainc(np.full(50, 3.7), np.linspace(0.0, 40.0, 50))
    assert np.all(np.diff(p) >= 0)
    assert p[0] == 0.0
    assert p[-1] == pytest.approx(1.0, abs=1e-12)


def test_gammainc_scalar_shape():
    assert gammainc(2.0, 1.0).shape == ()
    assert float(gammainc(1.0, 2.0)) == pytest.approx(1.0 - np.exp(-2.0), rel=1e-14)


@pytest.mark.parametrize("rho", [-0.9, 0.0, 0.35, 0.99])
def test_ar1_filter_matches_lfilter(rho):
    eps = np.random.default_rng(1).standard_normal((30, 45))
    np.testing.assert_allclose(ar1_filter(eps, rho), scipy_signal.lfilter([1.0], [1.0, -rho], eps, axis=1), atol=1e-12)

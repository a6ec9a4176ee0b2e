"""The calibrated defaults against the Geant4 reference showers (skipped when ../shared is absent)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from caloforge.data import read_showers
from caloforge.simulate import GFlashSimulator

pytestmark = pytest.mark.g4data


def test_calibrated_response_and_profile_match_geant4(g4_file: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    g4 = read_showers(g4_file, "calochallenge-2", stop=3000)
    sim = GFlashSimulator(g4.geometry).simulate(g4.energies, np.random.default_rng(11))
    for lo, hi in ((1e3, 5e3), (5e3, 2e4), (2e4, 1e5)):
        sel = (g4.energies >= lo) & (g4.energies < hi)
        stats = []
        for data in (g4, sim):
            layers = g4.geometry.layer_energies(data.showers[sel].astype(np.float64))
            response = data.showers[sel].sum(1) / data.energies[sel]
            cog = (layers @ np.arange(45) / layers.sum(1)).mean()
            nnz = (data.showers[sel] > 0).sum(1).mean()
            stats.append((response.mean(), response.std(), np.argmax(layers, 1).mean(), cog, nnz))
        (r_g, s_g, p_g, c_g, n_g), (r_s, s_s, p_s, c_s, n_s) = stats
        assert r_s == pytest.approx(r_g, abs=0.005), "mean response"
        assert s_s == pytest.approx(s_g, rel=0.15), "resolution"
        assert p_s == pytest.approx(p_g, abs=0.75), "peak layer"
        assert c_s == pytest.approx(c_g, abs=0.3), "centre of gravity"
        assert n_s == pytest.approx(n_g, rel=0.15), "non-zero voxels"

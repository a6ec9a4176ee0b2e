"""Statistical amplification on toy distributions: a perfect generator amplifies, a biased one plateaus."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from caloforge.evaluation.amplification import AmplificationConfig, amplification, default_sizes, quantile_edges

N_TRAIN = 500
CONFIG = AmplificationConfig(n_bins=10, repeats=8, bootstrap=60, seed=3)


def _normal(rng: np.random.Generator, n: int, shift: float = 0.0) -> dict[str, np.ndarray]:
    return {"x": rng.normal(shift, 1.0, n), "y": rng.exponential(1.0, n) + shift}


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(11)
    reference, pool = _normal(rng, 200_000), _normal(rng, 8_000)
    generated = {
        **{f"geant4-n-{i}": _normal(rng, N_TRAIN) for i in range(8)},  # Geant4 samples of the training size
        **{f"perfect-{k}": _normal(rng, k * N_TRAIN) for k in (2, 8, 32)},
        **{f"biased-{k}": _normal(rng, k * N_TRAIN, shift=0.25) for k in (8, 32)},
    }
    return amplification(reference, pool, generated, N_TRAIN, CONFIG)


def _geant4_n(result, name: str) -> list[float]:  # type: ignore[no-untyped-def]
    return [result.samples[f"geant4-n-{i}"].observables[name].amplification for i in range(8)]


def test_sample_of_training_size_amplifies_by_about_one(result) -> None:  # type: ignore[no-untyped-def]
    for name in ("x", "y"):
        amps = _geant4_n(result, name)  # one sample's m* scatters by ~50 % (a χ² with B - 1 dof)
        assert 0.6 < float(np.median(amps)) < 1.6
        covered = [result.samples[f"geant4-n-{i}"].observables[name].interval for i in range(8)]
        assert sum(lo < 1.0 < hi for lo, hi in covered) >= 4


def test_perfect_generator_exceeds_training_size_and_grows(result) -> None:  # type: ignore[no-untyped-def]
    for name in ("x", "y"):
        amps = [result.samples[f"perfect-{k}"].observables[name].amplification for k in (2, 8, 32)]
        assert amps[1] > 3 * float(np.median(_geant4_n(result, name)))
        assert amps[0] < amps[1] < amps[2]
        assert 8 / 3 < amps[1] < 8 * 3  # m* ≈ M


def test_biased_generator_plateaus(result) -> None:  # type: ignore[no-untyped-def]
    for name in ("x", "y"):
        a8 = result.samples["biased-8"].observables[name]
        a32 = result.samples["biased-32"].observables[name]
        assert a32.amplification < 1.5 * a8.amplification  # 4x the showers, not 4x the worth
        assert a32.amplification < result.samples["perfect-32"].observables[name].amplification / 3
        assert a32.resolved
        curve = a32.curve
        assert curve.mse[-1] > 0.5 * curve.mse[len(curve.mse) // 2]  # the MSE stops falling


def test_geant4_curve_follows_the_multinomial_expectation(result) -> None:  # type: ignore[no-untyped-def]
    g4 = result.geant4["x"]
    assert g4.n_bins == 10
    assert g4.slope == pytest.approx(0.09, rel=0.02)
    assert g4.fitted_slope == pytest.approx(g4.slope, rel=0.25)
    assert g4.floor == pytest.approx(g4.slope / 200_000)
    assert g4.fitted_floor < 5 * g4.slope / 8_000  # the pool's own noise
    assert g4.mse[0] > g4.mse[-1]
    assert all(lo <= m <= hi for lo, m, hi in zip(g4.low, g4.mse, g4.high, strict=True))


def test_seeded_and_json_ready(result) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(5)
    ref, pool, gen = _normal(rng, 5_000), _normal(rng, 2_000), {"g": _normal(rng, 1_000)}
    config = AmplificationConfig(repeats=3, bootstrap=10, seed=1)
    one = amplification(ref, pool, gen, 100, config).to_dict()
    two = amplification(ref, pool, gen, 100, config).to_dict()
    assert one == two
    text = json.dumps(result.to_dict())
    assert '"train_size": 500' in text


def test_unresolved_sample_is_a_lower_bound() -> None:
    rng = np.random.default_rng(2)
    ref, pool = {"x": rng.normal(size=2_000)}, {"x": rng.normal(size=2_000)}
    r = amplification(ref, pool, {"huge": {"x": rng.normal(size=200_000)}}, 100,
                      AmplificationConfig(repeats=5, bootstrap=40))
    obs = r.samples["huge"].observables["x"]
    assert not obs.resolved
    assert math.isinf(obs.interval[1])
    assert obs.interval[0] > 1.0
    assert json.loads(json.dumps(r.to_dict()))["samples"]["huge"]["observables"]["x"]["interval"][1] == "inf"


def test_quantile_edges_merge_ties() -> None:
    values = np.array([0.0] * 60 + list(range(1, 41)), dtype=float)  # 60 % zeros
    edges = quantile_edges(values, 10)
    assert edges[0] == 0.0
    assert len(edges) == len(set(edges.tolist())) < 9
    with pytest.raises(ValueError, match="constant"):
        quantile_edges(np.ones(10), 5)


def test_bad_inputs_are_named() -> None:
    rng = np.random.default_rng(0)
    ok = {"x": rng.normal(size=1000)}
    with pytest.raises(ValueError, match=r"'c'.*constant"):
        amplification({"c": np.ones(100)}, {"c": np.ones(100)}, {"g": {"c": np.ones(100)}}, 10)
    with pytest.raises(ValueError, match="g: missing observables"):
        amplification(ok, ok, {"g": {"z": ok["x"]}}, 10)
    with pytest.raises(ValueError, match="two sizes"):
        amplification(ok, {"x": ok["x"][:50]}, {"g": ok}, 10, AmplificationConfig(sizes=(100, 200)))
    with pytest.raises(ValueError, match="train_size"):
        amplification(ok, ok, {"g": ok}, 0)
    with pytest.raises(ValueError, match="n_bins"):
        AmplificationConfig(n_bins=1)


def test_default_sizes_are_log_spaced() -> None:
    sizes = default_sizes(8_500)
    assert sizes[0] == 100
    assert sizes[-1] == 8_500
    assert all(b > a for a, b in itertools.pairwise(sizes))


def test_pool_unlike_the_reference_is_warned(caplog: pytest.LogCaptureFixture) -> None:
    from caloforge.evaluation.amplification_files import _check_pool

    rng = np.random.default_rng(4)
    ref = {"x": rng.normal(size=20_000), "y": rng.normal(size=20_000)}
    pool = {"x": rng.normal(0.3, 1.0, 5_000), "y": rng.normal(size=5_000)}
    r = amplification(ref, pool, {"g": {"x": ref["x"][:100], "y": ref["y"][:100]}}, 10,
                      AmplificationConfig(repeats=3, bootstrap=5))
    with caplog.at_level("WARNING", logger="caloforge.evaluation.amplification_files"):
        _check_pool(r)
    assert "x: Geant4 draws" in caplog.text
    assert "y: Geant4 draws" not in caplog.text

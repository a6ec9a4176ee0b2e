from __future__ import annotations

import numpy as np
import pytest

from caloforge.data import parse_energy_spec


def test_specs() -> None:
    rng = np.random.default_rng(0)
    assert np.all(parse_energy_spec("fixed:10").sample(5, rng) == 1e4)
    d = parse_energy_spec("discrete:1,10").sample(100, rng)
    assert set(np.unique(d)) == {1e3, 1e4}
    u = parse_energy_spec("uniform:2:3").sample(100, rng)
    assert u.min() >= 2e3
    assert u.max() <= 3e3
    assert parse_energy_spec("log-uniform:1:100").range_mev == (1e3, 1e5)


@pytest.mark.parametrize("text", ["gauss:1:2", "log-uniform:5:1", "uniform:1", "fixed:-1", "log-uniform:a:b"])
def test_bad_specs(text: str) -> None:
    with pytest.raises(ValueError, match="energy"):
        parse_energy_spec(text)

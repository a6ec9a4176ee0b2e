"""The --angle / --phi grammar: fixed, range and list specs in degrees, radians out, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from caloforge.simulate.angle_spec import AngleSpec, parse_angle_spec


def test_fixed_range_and_list() -> None:
    rng = np.random.default_rng(0)
    assert parse_angle_spec("30") == AngleSpec("fixed", (30.0,))
    np.testing.assert_allclose(parse_angle_spec(" 30 ").sample(4, rng), np.radians(30.0), rtol=1e-6)
    spread = parse_angle_spec("10:40").sample(2000, rng)
    assert spread.dtype == np.float32
    assert np.radians(10.0) <= spread.min() < np.radians(12.0)
    assert np.radians(38.0) < spread.max() <= np.radians(40.0)
    listed = np.degrees(parse_angle_spec("0,20,40").sample(3000, rng))
    values, counts = np.unique(listed.round(4), return_counts=True)
    np.testing.assert_allclose(values, [0.0, 20.0, 40.0], atol=1e-4)
    assert counts.min() > 900
    assert parse_angle_spec("0,20,40").text == "0,20,40"
    assert parse_angle_spec("0:40").text == "0:40"
    assert parse_angle_spec("-90:270", option="--phi", polar=False).values_deg == (-90.0, 270.0)


def test_same_seed_same_angles() -> None:
    spec = parse_angle_spec("0:60")
    a = spec.sample(50, np.random.default_rng(3))
    np.testing.assert_array_equal(a, spec.sample(50, np.random.default_rng(3)))
    assert not np.array_equal(a, spec.sample(50, np.random.default_rng(4)))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "not a number"),
        ("10:", "not a number"),
        ("1:2:3", "LO:HI"),
        ("40:10", "LO <= HI"),
        ("nan", "finite"),
        ("90", r"\[0, 90\)"),
        ("-5", r"\[0, 90\)"),
        ("0,100", r"\[0, 90\)"),
    ],
)
def test_bad_specs_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as err:
        parse_angle_spec(text)
    assert "--angle" in str(err.value)


def test_phi_names_its_option_and_allows_any_angle() -> None:
    with pytest.raises(ValueError, match="--phi 'x'"):
        parse_angle_spec("x", option="--phi", polar=False)
    assert parse_angle_spec("180", option="--phi", polar=False).kind == "fixed"

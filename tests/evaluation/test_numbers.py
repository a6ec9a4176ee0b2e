"""The one number-formatting rule: significant digits, PDG rounding, no exponent artefacts, clipped JSD."""

from __future__ import annotations

import pytest

from caloforge.evaluation.plots import numbers
from caloforge.evaluation.plots.markup import fmt


@pytest.mark.parametrize(("value", "error", "text"), [
    (0.0327, 0.00123, "0.0327 ± 0.0012"),  # leading digits 123: two significant digits
    (0.0327, 0.00456, "0.033 ± 0.005"),  # 456: one digit
    (0.0327, 0.00987, "0.033 ± 0.010"),  # 987: rounds up to two digits of the next power
    (32.7, 1.2, "32.7 ± 1.2"),
    (327120.0, 12340.0, "(3.27 ± 0.12) × 10⁵"),  # one shared power of ten
    (1.0, float("nan"), "1.00"),
    (None, 0.1, "–"),
])
def test_value_and_error_follow_the_pdg_rule(value: float | None, error: float, text: str) -> None:
    assert numbers.pm(value, error) == text


def test_no_exponent_artefacts_and_fixed_point_in_the_usual_range() -> None:
    assert numbers.distance(32.7, 1.2) == "32700 ± 1200"  # FPD × 10³ once, not "3.27e+04e-3"
    assert numbers.num(2530.0) == "2530"
    assert numbers.num(1.5e-5) == "1.50 × 10⁻⁵"
    assert "e+" not in fmt(3.27e12)
    assert fmt(float("inf")) == "–"
    assert fmt(None) == "–"


def test_auc_jsd_and_durations() -> None:
    assert numbers.auc(0.999436125) == "0.999"
    assert numbers.jsd(-0.056) == f"0{numbers.CLIPPED}"
    assert numbers.jsd(0.0564) == "0.056"
    assert [numbers.duration(s) for s in (12.34, 2530.0, 7200.0)] == ["12.3 s", "42.2 min", "2.00 h"]

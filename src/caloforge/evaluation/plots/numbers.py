"""The one rule for showing numbers: ``report.html``, the pipeline's ``index.html`` and the console lines.

* :func:`num` — a value to a number of significant digits, fixed-point between 10⁻³ and 10⁵, else
  ``m × 10ᵉ`` (never ``3.27e+04``); ``–`` for a missing, NaN or infinite value.
* :func:`pm` — ``value ± error`` rounded by the Particle Data Group rule: the error keeps two significant
  digits when its three leading digits are 100–354, one when 355–949, and 950–999 round up to two digits
  of the next power of ten; the value is rounded to the same decimal place. Large and small pairs share
  one power of ten: ``(3.27 ± 0.12) × 10⁵``.
* :func:`auc` — a classifier AUC to three decimals (``± std`` for a repeated test).
* :func:`jsd` — a JSD estimate, never negative on display: a negative estimate (the estimator's bias on a
  finite held-out set) is shown as ``0`` marked with :data:`CLIPPED`; the raw value stays in ``metrics.json``.
* :func:`duration` — seconds as ``s``, ``min`` or ``h``.

FPD and KPD are shown × 10³ (:data:`DISTANCE_SCALE`), said once in the column header.

Example:
    >>> num(327000.0), num(0.000123), num(0.0327), num(2530.0), num(7)
    ('3.27 × 10⁵', '1.23 × 10⁻⁴', '0.0327', '2530', '7')
    >>> pm(0.0327, 0.00123), pm(1.2345, 0.0456), pm(5.0, 0.0987), pm(327120.0, 12340.0)
    ('0.0327 ± 0.0012', '1.23 ± 0.05', '5.00 ± 0.10', '(3.27 ± 0.12) × 10⁵')
    >>> auc(0.999436125), auc(0.93, 0.0061), jsd(-0.056), duration(2530.0), duration(12.34)
    ('0.999', '0.930 ± 0.006', '0†', '42.2 min', '12.3 s')
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["CLIPPED", "CLIPPED_NOTE", "DISTANCE_SCALE", "auc", "distance", "duration", "jsd", "num", "pm"]

#: Marks a JSD estimate below 0 that is shown as 0.
CLIPPED = "†"
#: The note that explains :data:`CLIPPED`.
CLIPPED_NOTE = (f"{CLIPPED} JSD estimate below 0 (the estimator's bias on a finite held-out sample), shown as 0; "
                "the raw value is in metrics.json.")
#: FPD and KPD are shown multiplied by this (the header says "× 10³").
DISTANCE_SCALE = 1e3

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
_FIXED = (-3, 5)  # decimal exponents shown without a power of ten


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _exponent(value: float) -> int:
    return math.floor(math.log10(abs(value)))


def _power(exponent: int) -> str:
    return f"10{str(exponent).translate(_SUPERSCRIPT)}"


def _fixed(value: float, decimal: int) -> str:
    """``value`` rounded to the digit at 10^``decimal``, written without exponent."""
    rounded = round(value, -decimal)
    text = f"{rounded:.{max(0, -decimal)}f}"
    return "0" if float(text) == 0 and decimal >= 0 else text


def num(value: Any, digits: int = 3) -> str:
    """A number to ``digits`` significant digits (integers in full); ``–`` for ``None``, NaN and inf.

    Non-numbers are returned as ``str(value)`` (the caller escapes them for HTML).
    """
    if _missing(value):
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) and abs(value) < 10**_FIXED[1]:
        return str(value)
    value = float(value)
    if value == 0:
        return "0"
    exp = _exponent(value)
    if _FIXED[0] <= exp < _FIXED[1]:
        text = _fixed(value, exp - digits + 1)
        if _exponent(float(text)) < _FIXED[1]:  # 99999.7 rounds up to 1.00 × 10⁵
            return text
        exp += 1
    mantissa = round(value / 10**exp, digits - 1)
    if abs(mantissa) >= 10:
        mantissa, exp = mantissa / 10, exp + 1
    return f"{mantissa:.{digits - 1}f} × {_power(exp)}"


def _pdg(error: float) -> tuple[float, int]:
    """The error rounded by the PDG rule and the decimal exponent of its last kept digit."""
    exp = _exponent(error)
    leading = round(error / 10 ** (exp - 2))  # three leading digits, 100–999 (1000 after rounding up)
    if leading >= 950:
        exp, n_sig = exp + 1, 2
    elif leading >= 355:
        n_sig = 1
    else:
        n_sig = 2
    last = exp - n_sig + 1
    return round(error, -last) if last <= 0 else round(error / 10**last) * 10**last, last


def pm(value: Any, error: Any) -> str:
    """``value ± error`` by the PDG rounding rule (see the module docstring); :func:`num` without an error."""
    if _missing(error) or _missing(value) or not error > 0:
        return num(value)
    value, error = float(value), float(error)
    err, last = _pdg(error)
    top = max(_exponent(value) if value else last, _exponent(err))
    if _FIXED[0] <= top < _FIXED[1]:
        return f"{_fixed(value, last)} ± {_fixed(err, last)}"
    scale = 10.0**top  # one shared power of ten
    decimal = last - top
    return f"({_fixed(value / scale, decimal)} ± {_fixed(err / scale, decimal)}) × {_power(top)}"


def auc(value: Any, std: Any = None) -> str:
    """A classifier AUC to three decimals, ``± std`` (three decimals) for a repeated test."""
    if _missing(value):
        return "–"
    return f"{value:.3f}" if _missing(std) else f"{value:.3f} ± {std:.3f}"


def jsd(value: Any, std: Any = None) -> str:
    """A JSD estimate to three decimals, shown as ``0`` + :data:`CLIPPED` when below 0."""
    if _missing(value):
        return "–"
    spread = "" if _missing(std) else f" ± {std:.3f}"
    return f"0{CLIPPED}{spread}" if value < 0 else f"{value:.3f}{spread}"


def distance(value: Any, error: Any = None) -> str:
    """FPD or KPD (× :data:`DISTANCE_SCALE`) ± its error, by :func:`pm`."""
    if _missing(value):
        return "–"
    scaled_err = None if _missing(error) else error * DISTANCE_SCALE
    return pm(value * DISTANCE_SCALE, scaled_err)


def duration(seconds: Any) -> str:
    """Seconds as ``12.3 s``, ``42.2 min`` or ``1.53 h`` (three significant digits)."""
    if _missing(seconds):
        return "–"
    s = float(seconds)
    if s < 60:
        return f"{num(s)} s"
    if s < 3600:
        return f"{num(s / 60)} min"
    return f"{num(s / 3600)} h"

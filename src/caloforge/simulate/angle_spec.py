"""Incidence-angle specifications such as ``30``, ``0:40`` or ``0,20,40`` (degrees on the command line).

Forms: ``A`` (every shower at A), ``LO:HI`` (uniform in [LO, HI]) and ``A1,A2,...`` (each shower draws one
value of the list with equal probability), all in degrees; :meth:`AngleSpec.sample` returns radians, the
unit of the library and of the files. The polar angle θ is measured from the layer normal (0 = head-on) and
must lie in [0°, 90°); the azimuth φ is any finite angle.

Example:
    >>> import numpy as np
    >>> spec = parse_angle_spec("0:40")
    >>> spec.kind, spec.values_deg, spec.text
    ('uniform', (0.0, 40.0), '0:40')
    >>> a = spec.sample(1000, np.random.default_rng(0))
    >>> bool(a.min() >= 0.0 and a.max() <= np.radians(40.0))
    True
    >>> sorted(set(np.degrees(parse_angle_spec("0,20").sample(50, np.random.default_rng(1))).round(3).tolist()))
    [0.0, 20.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["AngleSpec", "parse_angle_spec"]


@dataclass(frozen=True)
class AngleSpec:
    """A distribution of incidence angles.

    Attributes:
        kind: ``fixed`` (one value), ``uniform`` (a range) or ``list`` (equally likely values).
        values_deg: The value, (lo, hi), or the list, degrees.
    """

    kind: Literal["fixed", "uniform", "list"]
    values_deg: tuple[float, ...]

    @property
    def text(self) -> str:
        """The canonical text of the spec (``30``, ``0:40``, ``0,20,40``)."""
        sep = ":" if self.kind == "uniform" else ","
        return sep.join(f"{v:g}" for v in self.values_deg)

    def sample(self, n: int, rng: np.random.Generator) -> NDArray[np.float32]:
        """``n`` angles, (n,), rad, float32 (a fixed spec draws no random numbers)."""
        values = np.radians(np.asarray(self.values_deg, dtype=np.float64))
        if self.kind == "fixed":
            out = np.full(n, values[0])
        elif self.kind == "uniform":
            out = rng.uniform(values[0], values[1], n)
        else:
            out = values[rng.integers(0, len(values), n)]
        return out.astype(np.float32)


def parse_angle_spec(text: str, *, option: str = "--angle", polar: bool = True) -> AngleSpec:
    """Parses ``A``, ``LO:HI`` or ``A1,A2,...`` (degrees).

    Arguments:
        text: The spec.
        option: The option name used in error messages.
        polar: Check that the values are polar angles, in [0°, 90°).

    Raises:
        ValueError: A spec that does not parse, a non-finite value, a reversed range, or a polar angle
            outside [0°, 90°); the message names ``option`` and the problem.
    """
    raw = text.strip()
    kind: Literal["fixed", "uniform", "list"]
    if ":" in raw:
        kind, parts = "uniform", raw.split(":")
        if len(parts) != 2:
            msg = f"{option} {text!r}: a range is LO:HI (degrees), e.g. 0:40"
            raise ValueError(msg)
    elif "," in raw:
        kind, parts = "list", raw.split(",")
    else:
        kind, parts = "fixed", [raw]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        msg = f"{option} {text!r}: not a number; use A, LO:HI or A1,A2,... in degrees (e.g. 30, 0:40, 0,20,40)"
        raise ValueError(msg) from None
    if not all(math.isfinite(v) for v in values):
        msg = f"{option} {text!r}: angles must be finite (degrees)"
        raise ValueError(msg)
    if kind == "uniform" and values[1] < values[0]:
        msg = f"{option} {text!r}: need LO <= HI"
        raise ValueError(msg)
    if polar and not all(0.0 <= v < 90.0 for v in values):
        msg = f"{option} {text!r}: polar angles are measured from the layer normal and must be in [0, 90) degrees"
        raise ValueError(msg)
    return AngleSpec(kind, values)

"""Incident-energy specifications such as ``log-uniform:1:100`` (GeV on the command line).

Forms: ``log-uniform:LO:HI``, ``uniform:LO:HI``, ``fixed:E``, ``discrete:E1,E2,...`` (each drawn with
equal probability), all in GeV; :meth:`EnergySpec.sample` returns MeV.

Example:
    >>> import numpy as np
    >>> spec = parse_energy_spec("log-uniform:1:100")
    >>> e = spec.sample(1000, np.random.default_rng(0))
    >>> bool(e.min() >= 1e3 and e.max() <= 1e5)
    True
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["EnergySpec", "parse_energy_spec"]

#: Energies drawn per call by :meth:`EnergySpec.stream` (fixed, so the values do not depend on the chunk size).
_STREAM_BLOCK = 1 << 16


@dataclass(frozen=True)
class EnergySpec:
    """A distribution of incident energies.

    Attributes:
        kind: Distribution name.
        values_gev: (lo, hi) for ranges, the energies for ``fixed``/``discrete``, GeV.
    """

    kind: Literal["log-uniform", "uniform", "fixed", "discrete"]
    values_gev: tuple[float, ...]

    def sample(self, n: int, rng: np.random.Generator) -> NDArray[np.float32]:
        """Draws ``n`` energies in MeV."""
        v = np.asarray(self.values_gev, dtype=np.float64) * 1e3
        if self.kind == "log-uniform":
            out = np.exp(rng.uniform(np.log(v[0]), np.log(v[1]), n))
        elif self.kind == "uniform":
            out = rng.uniform(v[0], v[1], n)
        elif self.kind == "fixed":
            out = np.full(n, v[0])
        else:
            out = rng.choice(v, n)
        return out.astype(np.float32)

    def stream(self, n: int, rng: np.random.Generator, chunk_size: int) -> Iterator[NDArray[np.float32]]:
        """Draws ``n`` energies (MeV) as consecutive chunks of ``chunk_size``, with memory independent of ``n``.

        The values depend on ``rng`` only, not on ``chunk_size``; for the continuous kinds and ``fixed``
        they equal ``sample(n, rng)``.

        Example:
            >>> spec = parse_energy_spec("log-uniform:1:100")
            >>> parts = list(spec.stream(5, np.random.default_rng(0), 2))
            >>> [len(p) for p in parts], bool(np.all(np.concatenate(parts) == spec.sample(5, np.random.default_rng(0))))
            ([2, 2, 1], True)
        """
        if chunk_size < 1:
            msg = f"chunk size must be at least 1, got {chunk_size}"
            raise ValueError(msg)
        pending: list[NDArray[np.float32]] = []
        held, drawn = 0, 0
        while drawn < n or held:
            while held < chunk_size and drawn < n:
                block = self.sample(min(_STREAM_BLOCK, n - drawn), rng)
                pending.append(block)
                held, drawn = held + len(block), drawn + len(block)
            joined = np.concatenate(pending) if len(pending) > 1 else pending[0]
            out, rest = joined[:chunk_size], joined[chunk_size:]
            pending, held = ([rest] if len(rest) else []), len(rest)
            yield out

    @property
    def range_mev(self) -> tuple[float, float]:
        """Smallest and largest energy the spec can produce, MeV."""
        return (min(self.values_gev) * 1e3, max(self.values_gev) * 1e3)


def parse_energy_spec(text: str) -> EnergySpec:
    """Parses ``KIND:ARGS`` (GeV).

    Raises:
        ValueError: On an unknown kind, wrong number of values or non-positive energies.
    """
    kind, _, rest = text.partition(":")
    kind = kind.strip().lower()
    try:
        if kind in {"log-uniform", "uniform"}:
            lo, hi = (float(x) for x in rest.split(":"))
            values: tuple[float, ...] = (lo, hi)
            if not 0 < lo < hi:
                msg = f"energy range {text!r}: need 0 < LO < HI"
                raise ValueError(msg)
        elif kind == "fixed":
            values = (float(rest),)
        elif kind == "discrete":
            values = tuple(float(x) for x in rest.split(","))
        else:
            msg = f"unknown energy spec {text!r}; use log-uniform:LO:HI, uniform:LO:HI, fixed:E or discrete:E1,E2 (GeV)"
            raise ValueError(msg)
    except ValueError as err:
        if "energy" in str(err):
            raise
        msg = f"cannot parse energy spec {text!r} ({err}); e.g. log-uniform:1:100 (GeV)"
        raise ValueError(msg) from None
    if any(v <= 0 for v in values):
        msg = f"energy spec {text!r}: energies must be positive"
        raise ValueError(msg)
    return EnergySpec(kind, values)  # type: ignore[arg-type]

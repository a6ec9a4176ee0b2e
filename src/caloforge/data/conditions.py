"""What to produce showers for: :class:`Conditions`, the incident energies (and angles) of a run.

A command builds its conditions once, from an energy spec (:meth:`Conditions.from_spec`) or from the
events of a CaloChallenge / Par04 file (:meth:`Conditions.from_file`), and hands them unchanged to a
producer (:mod:`caloforge.data.producer`). Torch-free.

Example:
    >>> c = Conditions.from_spec("fixed:10", 3, seed=0)
    >>> len(c), c.energies.tolist(), c.as_array().shape
    (3, [10000.0, 10000.0, 10000.0], (3, 1))
    >>> [len(part) for part in Conditions.from_spec("log-uniform:1:100", 5, seed=1).chunks(2)]
    [2, 2, 1]
    >>> Conditions.from_spec("fixed:10", 2, angles=0.5).as_array().tolist()
    [[10000.0, 0.5], [10000.0, 0.5]]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from caloforge.data.energies import EnergySpec, parse_energy_spec
from caloforge.data.io import ShowerFile
from caloforge.geometry import Geometry

__all__ = ["Conditions", "spec_text"]

#: Energies drawn per block from a spec (as :meth:`EnergySpec.stream`): the values do not depend on ``n``'s size.
_BLOCK = 1 << 16


def spec_text(spec: EnergySpec) -> str:
    """The canonical text of an energy spec (``log-uniform:1:100``, ``discrete:10,20``)."""
    sep = "," if spec.kind == "discrete" else ":"
    return f"{spec.kind}:{sep.join(f'{v:g}' for v in spec.values_gev)}"


@dataclass(frozen=True)
class Conditions:
    """Incident conditions of N showers.

    Attributes:
        energies: Incident energies, (N,), MeV, float32, finite and positive.
        angles: Polar incidence angles, (N,), rad, float32, or ``None`` (along the axis / not given).
        geometry: Geometry of the file the conditions were read from (producers check it against
            their own), or ``None``.
        source: Where the conditions come from (a file path or an energy spec), for messages.

    Raises:
        ValueError: Non-finite or non-positive energies, non-finite angles, shapes that are not (N,)
            or that differ, or no events at all.
    """

    energies: NDArray[np.float32]
    angles: NDArray[np.float32] | None = None
    geometry: Geometry | None = None
    source: str = "the conditions"

    def __post_init__(self) -> None:
        e = np.asarray(self.energies, dtype=np.float32)
        if e.ndim == 2 and e.shape[1] == 1:
            e = e[:, 0]
        if e.ndim != 1:
            msg = f"{self.source}: incident energies must be (N,), got shape {e.shape}"
            raise ValueError(msg)
        if len(e) == 0:
            msg = f"{self.source}: no incident energies (need at least one shower)"
            raise ValueError(msg)
        if not np.all(np.isfinite(e)) or np.any(e <= 0):
            msg = f"{self.source}: incident energies must be finite and positive (MeV)"
            raise ValueError(msg)
        object.__setattr__(self, "energies", e)
        if self.angles is not None:
            a = np.asarray(self.angles, dtype=np.float32).reshape(-1)
            if a.shape != e.shape:
                msg = f"{self.source}: {len(e)} incident energies but {len(a)} angles"
                raise ValueError(msg)
            if not np.all(np.isfinite(a)):
                msg = f"{self.source}: incidence angles contain NaN or inf"
                raise ValueError(msg)
            object.__setattr__(self, "angles", a)

    def __len__(self) -> int:
        return len(self.energies)

    def __getitem__(self, index: slice) -> Conditions:
        """The conditions of a slice of the events (same geometry and source)."""
        angles = None if self.angles is None else self.angles[index]
        return replace(self, energies=self.energies[index], angles=angles)

    def chunks(self, size: int) -> Iterator[Conditions]:
        """Consecutive slices of at most ``size`` events.

        Raises:
            ValueError: If ``size`` is below 1.
        """
        if size < 1:
            msg = f"batch size must be at least 1, got {size}"
            raise ValueError(msg)
        for start in range(0, len(self), size):
            yield self[start : start + size]

    def with_angle(self, angle: float) -> Conditions:
        """The same energies, every event at the fixed angle ``angle`` (rad)."""
        return replace(self, angles=np.full(len(self), angle, dtype=np.float32))

    def without_angles(self) -> Conditions:
        """The same energies, without angles (for producers that are not conditioned on them)."""
        return self if self.angles is None else replace(self, angles=None)

    def as_array(self) -> NDArray[np.float32]:
        """The raw model conditions, (N, C) float32: energy in MeV, then the angle in rad when present."""
        if self.angles is None:
            return self.energies[:, None].copy()
        return np.stack([self.energies, self.angles], axis=1)

    @classmethod
    def from_spec(
        cls,
        spec: str | EnergySpec,
        n: int,
        seed: int | np.random.SeedSequence | None = 0,
        *,
        angles: float | tuple[float, float] | None = None,
    ) -> Conditions:
        """Energies drawn from an energy spec (GeV, e.g. ``log-uniform:1:100``).

        The energies are drawn with ``numpy.random.default_rng(seed)`` in blocks of 65,536 (so they equal
        :meth:`EnergySpec.stream` of that generator); a range of angles is drawn from the same generator
        afterwards.

        Arguments:
            spec: Energy spec text or object.
            n: Number of showers.
            seed: Seed of the draw (anything :func:`numpy.random.default_rng` takes).
            angles: ``None`` (no angles), a fixed angle, or a uniform range ``(lo, hi)``, rad.

        Raises:
            ValueError: A bad spec, ``n`` below 1, or a reversed angle range.
        """
        if n < 1:
            msg = f"number of showers must be at least 1, got {n}"
            raise ValueError(msg)
        parsed = parse_energy_spec(spec) if isinstance(spec, str) else spec
        rng = np.random.default_rng(seed)
        energies = np.concatenate(list(parsed.stream(n, rng, _BLOCK)))
        a: NDArray[np.float32] | None = None
        if isinstance(angles, tuple):
            lo, hi = angles
            if hi < lo:
                msg = f"angle range ({lo}, {hi}): need LO <= HI"
                raise ValueError(msg)
            a = rng.uniform(lo, hi, n).astype(np.float32)
        elif angles is not None:
            a = np.full(n, angles, dtype=np.float32)
        return cls(energies, a, None, spec_text(parsed))

    @classmethod
    def from_file(
        cls, path: str | Path, n: int | None = None, *, start: int = 0, stop: int | None = None
    ) -> Conditions:
        """The energies (and angles) of events ``start:stop`` of a CaloChallenge or Par04 file.

        Arguments:
            path: The file (read through :class:`~caloforge.data.ShowerFile`; showers are not read).
            n: At most this many events from ``start`` (``None``: up to ``stop``).
            start: First event.
            stop: End of the events (exclusive; ``None``: the end of the file).

        Raises:
            caloforge.data.ShowerFileError: If the file cannot be read.
            ValueError: If the selection holds no events.
        """
        with ShowerFile(path) as f:
            end = len(f) if stop is None else min(stop, len(f))
            if n is not None:
                end = min(end, start + n)
            if start < 0 or end <= start:
                msg = f"{path}: no events in {start}:{end} (the file holds {len(f)})"
                raise ValueError(msg)
            angles = None if f.angles is None else f.angles[start:end]
            return cls(f.energies[start:end], angles, f.geometry, str(path))

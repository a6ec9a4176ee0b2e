"""Shower data: the :class:`ShowerData` container, CaloChallenge and Par04 file I/O, energy specs."""

from __future__ import annotations

from caloforge.data.energies import EnergySpec, parse_energy_spec
from caloforge.data.io import ShowerFile, ShowerFileError, ShowerWriter, iter_showers, read_showers, write_showers
from caloforge.data.par04 import read_par04, write_par04
from caloforge.data.showers import ShowerData

__all__ = [
    "EnergySpec",
    "ShowerData",
    "ShowerFile",
    "ShowerFileError",
    "ShowerWriter",
    "iter_showers",
    "parse_energy_spec",
    "read_par04",
    "read_showers",
    "write_par04",
    "write_showers",
]

"""Shower data: the :class:`ShowerData` container, CaloChallenge and Par04 file I/O, energy specs."""

from __future__ import annotations

from caloforge.data.energies import EnergySpec, parse_energy_spec
from caloforge.data.io import ShowerFile, ShowerFileError, iter_showers, read_showers
from caloforge.data.par04 import read_par04, write_par04
from caloforge.data.showers import ShowerData
from caloforge.data.writer import ShowerWriter, write_showers

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

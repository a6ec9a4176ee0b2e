"""Shower data: the :class:`ShowerData` container, CaloChallenge and Par04 file I/O, energy specs,
conditions and the one producer → file path."""

from __future__ import annotations

from caloforge.data.conditions import Conditions
from caloforge.data.energies import EnergySpec, parse_energy_spec
from caloforge.data.io import ShowerFile, ShowerFileError, iter_showers, read_showers
from caloforge.data.par04 import read_par04, write_par04
from caloforge.data.producer import ProductionRun, ShowerProducer, produce, produce_to_file, resolve_seed
from caloforge.data.showers import ShowerData
from caloforge.data.writer import COMPRESSIONS, DEFAULT_COMPRESSION, ShowerWriter, write_showers

__all__ = [
    "COMPRESSIONS",
    "DEFAULT_COMPRESSION",
    "Conditions",
    "EnergySpec",
    "ProductionRun",
    "ShowerData",
    "ShowerFile",
    "ShowerFileError",
    "ShowerProducer",
    "ShowerWriter",
    "iter_showers",
    "parse_energy_spec",
    "produce",
    "produce_to_file",
    "read_par04",
    "read_showers",
    "resolve_seed",
    "write_par04",
    "write_showers",
]

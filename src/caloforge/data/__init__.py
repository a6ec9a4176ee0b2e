"""Shower data: the :class:`ShowerData` container, CaloChallenge and Par04 file I/O, energy specs,
conditions and the one producer → file path."""

from __future__ import annotations

from caloforge.data.conditions import Conditions
from caloforge.data.energies import EnergySpec, parse_energy_spec
from caloforge.data.io import ShowerFile, ShowerFileError, iter_showers, read_showers
from caloforge.data.par04 import (
    is_par04_angle_source,
    par04_angle_to_theta,
    read_par04,
    read_par04_angles,
    theta_to_par04_angle,
    write_par04,
)
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
    "is_par04_angle_source",
    "iter_showers",
    "par04_angle_to_theta",
    "parse_energy_spec",
    "produce",
    "produce_to_file",
    "read_par04",
    "read_par04_angles",
    "read_showers",
    "resolve_seed",
    "theta_to_par04_angle",
    "write_par04",
    "write_showers",
]

"""Data producers: the built-in GFlash-style parameterised shower simulator (:class:`GFlashProducer`, head-on
or inclined showers) and the optional Geant4 full-simulation producer (extra ``geant4``; geant4-pybind is
imported only when run)."""

from __future__ import annotations

from caloforge.simulate.angle_spec import AngleSpec, parse_angle_spec
from caloforge.simulate.deposit import (
    RectangleTable,
    rectangle_fractions,
    ring_fractions,
    sample_deposits,
    sample_ring_deposits,
)
from caloforge.simulate.geant4 import Geant4Config, Geant4DataError, Geant4Producer, find_geant4_data
from caloforge.simulate.gflash import GFlashConfig, GFlashSimulator, ShowerParameters, transverse_profile
from caloforge.simulate.inclined import FRAMES, Frame, simulate_inclined
from caloforge.simulate.readout import Deposits, deposits_to_showers
from caloforge.simulate.run import GFlashProducer

__all__ = [
    "FRAMES",
    "AngleSpec",
    "Deposits",
    "Frame",
    "GFlashConfig",
    "GFlashProducer",
    "GFlashSimulator",
    "Geant4Config",
    "Geant4DataError",
    "Geant4Producer",
    "RectangleTable",
    "ShowerParameters",
    "deposits_to_showers",
    "find_geant4_data",
    "parse_angle_spec",
    "rectangle_fractions",
    "ring_fractions",
    "sample_deposits",
    "sample_ring_deposits",
    "simulate_inclined",
    "transverse_profile",
]

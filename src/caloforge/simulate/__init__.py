"""Data producers: the built-in GFlash-style parameterised shower simulator and file generation."""

from __future__ import annotations

from caloforge.simulate.deposit import (
    RectangleTable,
    rectangle_fractions,
    ring_fractions,
    sample_deposits,
    sample_ring_deposits,
)
from caloforge.simulate.gflash import GFlashConfig, GFlashSimulator, ShowerParameters, transverse_profile
from caloforge.simulate.run import simulate_to_file

__all__ = [
    "GFlashConfig",
    "GFlashSimulator",
    "RectangleTable",
    "ShowerParameters",
    "rectangle_fractions",
    "ring_fractions",
    "sample_deposits",
    "sample_ring_deposits",
    "simulate_to_file",
    "transverse_profile",
]

"""Voxelised calorimeter geometries: the :class:`Geometry` object, built-in names and the XML parser."""

from __future__ import annotations

from caloforge.geometry.binning import load_binning, parse_binning
from caloforge.geometry.builtin import GEOMETRIES, get_geometry, guess_geometry
from caloforge.geometry.geometry import Geometry, Layer

__all__ = ["GEOMETRIES", "Geometry", "Layer", "get_geometry", "guess_geometry", "load_binning", "parse_binning"]

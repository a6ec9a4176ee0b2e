"""caloforge: machine-learning fast simulation of calorimeter showers.

Subpackages: :mod:`caloforge.geometry`, :mod:`caloforge.data`, :mod:`caloforge.simulate`,
:mod:`caloforge.models`, :mod:`caloforge.training`, :mod:`caloforge.sampling`,
:mod:`caloforge.evaluation`, :mod:`caloforge.export`. Import what you need, e.g.
``from caloforge.data import read_showers``.
"""

from __future__ import annotations

try:
    from caloforge._version import __version__
except ImportError:  # pragma: no cover - source tree without build metadata
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]

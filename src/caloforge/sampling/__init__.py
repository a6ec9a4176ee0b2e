"""Generation: showers from a trained model, in memory or streamed to a CaloChallenge file."""

from __future__ import annotations

from caloforge.sampling.conditions import conditions_from_spec, load_generation_conditions
from caloforge.sampling.generate import ExtrapolationWarning, generate, generate_to_file, resolve_device
from caloforge.sampling.solvers import SOLVERS

__all__ = [
    "SOLVERS",
    "ExtrapolationWarning",
    "conditions_from_spec",
    "generate",
    "generate_to_file",
    "load_generation_conditions",
    "resolve_device",
]

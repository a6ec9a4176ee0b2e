"""Generation: showers from a trained model, in memory or streamed to a CaloChallenge file."""

from __future__ import annotations

from caloforge.sampling.conditions import conditions_from_spec, load_generation_conditions
from caloforge.sampling.generate import ExtrapolationWarning, generate, generate_to_file
from caloforge.solvers import SOLVERS

__all__ = [
    "ExtrapolationWarning",
    "conditions_from_spec",
    "generate",
    "generate_to_file",
    "load_generation_conditions",
]

"""Generation: showers from a trained model, in memory or streamed to a CaloChallenge file."""

from __future__ import annotations

from caloforge.sampling.generate import ExtrapolationWarning, generate, generate_to_file, resolve_device

__all__ = ["ExtrapolationWarning", "generate", "generate_to_file", "resolve_device"]

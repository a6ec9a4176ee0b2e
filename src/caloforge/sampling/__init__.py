"""Generation from trained models: the model producer (files go through :func:`caloforge.data.produce_to_file`)."""

from __future__ import annotations

from caloforge.sampling.generate import as_conditions, generate
from caloforge.sampling.producer import ExtrapolationWarning, ModelProducer, check_energy_range

__all__ = ["ExtrapolationWarning", "ModelProducer", "as_conditions", "check_energy_range", "generate"]

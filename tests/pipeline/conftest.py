"""A tiny pipeline config on synthetic files: trains, evaluates, exports and benchmarks in seconds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def tiny_pipeline(shower_file: Callable[..., Path]) -> Callable[..., dict[str, Any]]:
    """Factory of a pipeline config dict (file data on the tiny geometry, a smoke-sized VAE)."""
    train, reference = shower_file("train.h5", n=96, seed=1), shower_file("reference.h5", n=64, seed=2)

    def factory(**models: dict[str, Any]) -> dict[str, Any]:
        default = {"label": "small", "name": "vae", "config": {"latent_dim": 4, "hidden": [16]},
                   "train": {"max_steps": 3, "batch_size": 32, "device": "cpu", "progress": False}}
        specs = [default] + [{"label": label, **spec} for label, spec in models.items()]
        return {
            "name": "tiny",
            "data": {"source": "file", "train_file": str(train), "reference_file": str(reference)},
            "models": specs,
            "generate": {"batch_size": 32, "shard_size": 40},
            "evaluate": {"settings": {"classifier": "none", "plots": False, "baseline": False}},
            "bench": {"batch_sizes": [16], "n_showers": 32},
        }

    return factory

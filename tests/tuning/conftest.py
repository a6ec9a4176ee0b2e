"""Shared pieces of the tuning tests: a smoke base run config and a tune config around it."""

from __future__ import annotations

from typing import Any

import pytest


def smoke_base() -> dict[str, Any]:
    """A VAE that trains in a second on 96 simulated showers (3 epochs of 3 batches)."""
    return {
        "model": {"name": "vae", "config": {"latent_dim": 2, "hidden": [16]}},
        "data": {"geometry": "calochallenge-2", "simulate": {"n": 96, "seed": 1}},
        "train": {"max_epochs": 3, "batch_size": 24, "val_fraction": 0.25, "checkpoint_every": 0, "device": "cpu",
                  "log_every": 1, "limit_val_batches": 1},
    }


@pytest.fixture
def tune_dict(tmp_path: Any) -> dict[str, Any]:
    """A tune config as parsed YAML, writing to ``tmp_path/out``."""
    return {
        "base": smoke_base(),
        "search_space": {"train.lr": {"low": 1e-4, "high": 1e-2, "log": True},
                         "model.config.hidden": {"choices": [[16], [8, 8]]}},
        "n_trials": 2,
        "out": str(tmp_path / "out"),
        "study_name": "test",
    }

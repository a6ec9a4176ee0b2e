"""Helpers for the zoo tests: tiny fitted models added to a temporary zoo, and a stand-in evaluation report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from caloforge.geometry import Geometry
from caloforge.models import save_model
from caloforge.models.pretrained import PretrainedModel, add_to_zoo, metrics_from_report
from tests.export.conftest import fitted


def write_report(path: Path, *, voxel_auc: float = 0.71, high_auc: float = 0.64, sep: float = 0.031) -> Path:
    """A ``metrics.json`` shaped like ``caloforge evaluate``'s, with one generated sample ``gen``."""
    body: dict[str, Any] = {
        "reference": {"path": "/data/heldout.h5", "n_events": 64},
        "generated": {
            "gen": {
                "summary": {"separation_power_mean": sep},
                "classifier": {"low": {"auc": voxel_auc, "jsd": 0.1}, "high": {"auc": high_auc, "jsd": 0.05}},
            }
        },
    }
    path.write_text(json.dumps(body))
    return path


def add_tiny(
    zoo: Path, geometry: Geometry, name: str, architecture: str = "vae", *, sampler: str | None = None, **kwargs: Any
) -> PretrainedModel:
    """Fits the smoke-size ``architecture``, saves it, and adds it to ``zoo`` as ``name``."""
    checkpoint = zoo.parent / f"{name}-source.pt"
    save_model(fitted(architecture, geometry), checkpoint)
    report = write_report(zoo.parent / f"{name}-metrics.json")
    options: dict[str, Any] = {
        "particle": "electron",
        "training": {"data": "synthetic test showers", "showers": 64, "steps": 2, "cpu_hours": 0.001,
                     "command": "caloforge train --dry-run"},
        "metrics": metrics_from_report(report, command="caloforge evaluate --reference heldout.h5"),
        "ms_per_shower": 0.05,
        "card": f"docs/models/{name}.md",
        "zoo_dir": zoo,
        "sampler": sampler,
    }
    options.update(kwargs)
    return add_to_zoo(checkpoint, name, **options)

"""The pipeline with angles: the simulate stage takes an angle spec, the index shows the per-angle validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from caloforge.config import ConfigError, to_dict
from caloforge.data import read_showers
from caloforge.pipeline import run_pipeline
from caloforge.pipeline.config import DataConfig, load_pipeline_config, pipeline_from_dict

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_data_settings_without_angles_are_unchanged() -> None:
    plain = DataConfig()
    assert plain.stage_settings() == {
        k: v for k, v in to_dict(plain).items() if k not in ("angle", "frame", "particle")
    }
    assert DataConfig(angle="0:40").stage_settings()["angle"] == "0:40"
    with pytest.raises(ConfigError, match="quoted spec"):
        DataConfig(angle=40)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"data.angle '95'"):
        DataConfig(angle="95")


def test_angle_pipeline_simulates_trains_and_validates_by_angle(tmp_path: Path) -> None:
    config = pipeline_from_dict({
        "name": "angles",
        "data": {"source": "simulate", "geometry": "calochallenge-2", "energy": "discrete:10,50",
                 "n_train": 120, "n_reference": 120, "seed": 3, "angle": "0,30"},
        "models": [{"label": "vae", "name": "vae", "config": {"latent_dim": 4, "hidden": [16]},
                    "train": {"max_steps": 2, "batch_size": 32, "device": "cpu", "progress": False}}],
        "generate": {"batch_size": 64},
        "evaluate": {"settings": {"classifier": "none", "plots": False, "baseline": False, "distances": "none"}},
        "export": {"enabled": False},
        "bench": {"batch_sizes": [16], "n_showers": 32},  # times the angle-conditioned model at the reference's angles
    })
    result = run_pipeline(config, tmp_path / "run", progress=False)
    ref = read_showers(tmp_path / "run" / "data" / "reference.h5")
    assert ref.angles is not None
    assert set(np.round(np.degrees(ref.angles), 3).tolist()) == {0.0, 30.0}
    gen = read_showers(tmp_path / "run" / "generate" / "vae" / "showers.h5")
    assert gen.angles is not None
    np.testing.assert_array_equal(gen.angles, ref.angles)  # the angle-conditioned model got the reference's angles
    by = result.stages["evaluate"].info["by_angle"]
    assert by["labels"] == ["0°", "30°"]
    assert sum(by["n_reference"]) == 120
    assert result.stages["bench/vae"].info["torch_ms_per_shower"] > 0
    page = result.report.read_text()
    assert "Validation by incidence angle" in page
    assert "30°" in page


def test_shipped_angle_pipeline_config() -> None:
    cfg = load_pipeline_config(CONFIGS / "pipeline-angles.yaml")
    assert cfg.data.angle == "0:40"  # θ from the normal: Par04's polar angles 50°–90°
    assert all(m.name for m in cfg.models)
    assert "model" not in yaml.safe_load((CONFIGS / "pipeline-angles.yaml").read_text())

"""The pion pipeline: the simulate stage takes a particle, the index shows the hit-level validation."""

from __future__ import annotations

from pathlib import Path

from caloforge.config import to_dict
from caloforge.data import read_showers
from caloforge.pipeline import run_pipeline
from caloforge.pipeline.config import DataConfig, load_pipeline_config, pipeline_from_dict

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_electron_data_settings_are_unchanged() -> None:
    plain = DataConfig()
    assert "particle" not in plain.stage_settings()  # earlier runs' data stages are not redone
    assert DataConfig(particle="pion").stage_settings()["particle"] == "pion"
    assert to_dict(plain)["particle"] == "electron"


def test_pion_pipeline_simulates_pions_and_shows_hit_level_numbers(tmp_path: Path) -> None:
    config = pipeline_from_dict({
        "name": "pions",
        "data": {"source": "simulate", "geometry": "ild-48x25x25", "particle": "pion", "energy": "discrete:20,50",
                 "n_train": 64, "n_reference": 64, "seed": 2},
        "models": [{"label": "wgan", "name": "wgan", "config": {"latent_dim": 4, "generator_hidden": [16],
                                                                  "critic_hidden": [16]},
                    "train": {"max_steps": 2, "batch_size": 32, "device": "cpu", "progress": False}}],
        "generate": {"batch_size": 64},
        "evaluate": {"settings": {"classifier": "none", "plots": False, "baseline": False, "distances": "none",
                                  "bootstrap": 0}},
        "export": {"enabled": False},
        "bench": {"enabled": False},
    })
    result = run_pipeline(config, tmp_path / "run", progress=False)
    assert read_showers(tmp_path / "run" / "data" / "reference.h5").attrs["particle"] == "pion"
    hits = result.stages["evaluate"].info["hits"]["wgan"]
    assert hits["threshold_mev"] == 0.25  # half the ILD MIP
    assert hits["means"]["reference"]["n_hits"] > 10
    assert set(hits["separation"]) >= {"n_hits", "e_vis", "cell_energy"}
    page = result.report.read_text()
    assert "Hit level" in page
    assert "½ MIP = 0.250 MeV" in page


def test_shipped_pion_pipeline_config() -> None:
    cfg = load_pipeline_config(CONFIGS / "pipeline-pions.yaml")
    assert (cfg.data.particle, cfg.data.geometry) == ("pion", "ild-48x25x25")
    assert [m.name for m in cfg.models] == ["wgan", "bibae", "flow-matching"]
